using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Foundation;

/// <summary>
/// <c>serve</c>'s settings (appsettings.json section BotStore, BOTSTORE__ environment variables, options): a setting
/// that cannot work is one line naming it and a non-zero exit, before migrations change anything.
/// </summary>
public sealed class ServeConfigurationTests
{
    [Fact]
    public async Task A_setting_that_cannot_work_is_one_line_naming_it_before_migrations()
    {
        var database = await TestCluster.CreateEmptyDatabaseAsync();
        var port = TestCluster.FreePort();
        var db = new NpgsqlConnectionStringBuilder(database);
        var garbageUrl = $"postgres://{db.Username}@{db.Host}:{db.Port}/{db.Database}?Maximum%20Pool%20Size=seven";
        (string[] Args, Dictionary<string, string> Env, string Says)[] cases =
        [
            ([], new() { ["BOTSTORE__TENANTPOOL__MINCONNECTIONS"] = "20", ["BOTSTORE__TENANTPOOL__MAXCONNECTIONS"] = "10" },
                "BotStore:TenantPool:MinConnections (20) is above BotStore:TenantPool:MaxConnections (10)"),
            ([], new() { ["BOTSTORE__OPERATIONSPOOL__CONNECTIONTIMEOUTSECS"] = "-1" }, "BotStore:OperationsPool:ConnectionTimeoutSecs must be at least 1 (got -1)"),
            ([], new() { ["BOTSTORE__TENANTPOOL__IDLETIMEOUTSECS"] = "0" }, "BotStore:TenantPool:IdleTimeoutSecs"),
            ([], new() { ["BOTSTORE__TENANTPOOL__MAXCONNECTIONS"] = "many" }, "BotStore:TenantPool:MaxConnections"),
            ([], new() { ["BOTSTORE__SWEEPER__BATCHSIZE"] = "0" }, "BotStore:Sweeper:BatchSize must be positive"),
            ([], new() { ["BOTSTORE__OPERATIONSPOOL__RESETONCLOSE"] = "false" }, "BotStore:OperationsPool:ResetOnClose must be true"),
            ([], new() { ["BOTSTORE__SHARDFAILFAST"] = "-00:00:01" }, "BotStore:ShardFailFast must be zero or positive"),
            ([], new() { ["BOTSTORE__OPERATIONS__REINDEXSCHEDULE"] = "every sunday" }, "BotStore:Operations:ReindexSchedule 'every sunday' is not a cron expression"),
            ([], new() { ["BOTSTORE__OPERATIONS__LOCKTIMEOUTMILLISECONDS"] = "0" }, "BotStore:Operations:LockTimeoutMilliseconds must be positive (got 0)"),
            ([], new() { ["BOTSTORE__OPERATIONS__KEEPDETACHED"] = "maybe" }, "BotStore:Operations"),
            ([], new() { ["BOTSTORE__DASHBOARD__SAMPLEINTERVAL"] = "00:00:00" }, "BotStore:Dashboard:SampleInterval must be positive"),
            ([], new() { ["BOTSTORE__URLS"] = "ftp://127.0.0.1:1" }, "BotStore:Urls: 'ftp://127.0.0.1:1' is not a listen address"),
            (["--urls", "not a url"], [], "BotStore:Urls: 'not a url' is not a listen address"),
            (["--max-content-bytes", "0"], [], "BotStore:MaxContentBytes must be positive"),
            ([], new() { ["BOTSTORE__TENANTPOOL__CONNECTIONSTRING"] = garbageUrl }, "BotStore:TenantPool:ConnectionString: database URL parameter 'Maximum Pool Size=seven'"),
            (["--tenant-database", "Host=x;Minimum Pool Size=9;Maximum Pool Size=7"], [], "BotStore:TenantPool:ConnectionString: Minimum Pool Size (9) is above Maximum Pool Size (7)"),
        ];
        foreach (var (args, env, says) in cases)
        {
            env.TryAdd("BOTSTORE__URLS", $"http://127.0.0.1:{port}");
            var result = await Infrastructure.Cli.RunAsync(["serve", "--database", database, .. args], env);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)} {string.Join(' ', env)}: exit {result.ExitCode} {result.Stderr}");
            var line = Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.Contains(says, line, StringComparison.Ordinal);
        }

        var garbage = await Infrastructure.Cli.RunAsync(["serve", "--database", garbageUrl, "--urls", $"http://127.0.0.1:{port}"]);
        Assert.Equal(1, garbage.ExitCode);
        Assert.Contains("database URL parameter 'Maximum Pool Size=seven' is not valid", Assert.Single(garbage.Stderr.Trim().Split('\n')), StringComparison.Ordinal);

        using (var busy = new TcpListener(IPAddress.Loopback, port))
        {
            busy.Start();
            var taken = await Infrastructure.Cli.RunAsync(["serve", "--database", database, "--urls", $"http://127.0.0.1:{port}"]);
            Assert.Equal(1, taken.ExitCode);
            Assert.Equal($"botstore: BotStore:Urls: 127.0.0.1:{port} is already in use by another process", taken.Stderr.Trim());
        }

        // Nothing was migrated: the database is as empty as it was created.
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var tables = dataSource.CreateCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
        Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_tenant_pool_sends_no_reset_and_the_operations_pool_resets_returned_connections()
    {
        // A session setting left on a returned connection shows whether the pool reset it before its next use.
        var database = await TestCluster.CreateEmptyDatabaseAsync();
        var options = new BotStore.Server.ServeOptions();
        foreach (var (pool, reset) in new[] { (options.TenantPool, false), (options.OperationsPool, true) })
        {
            await using var dataSource = (pool.ToConnectionSettings() with { MinConnections = 0, MaxConnections = 1 }).CreateDataSource(database, "reset-check");
            await using (var conn = await dataSource.OpenConnectionAsync())
            await using (var set = new NpgsqlCommand("SET statement_timeout = '123s'", conn))
                await set.ExecuteNonQueryAsync();
            // The same server connection: the pool holds one.
            await using (var conn = await dataSource.OpenConnectionAsync())
            await using (var show = new NpgsqlCommand("SHOW statement_timeout", conn))
                Assert.Equal(reset ? "0" : "123s", (string)(await show.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task Serve_opens_each_pools_minimum_at_start_with_the_settings_from_the_environment()
    {
        var database = await TestCluster.CreateMigratedDatabaseAsync();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "BotStore.Cli.dll"), "serve", "--database", database, "--urls", $"http://127.0.0.1:{TestCluster.FreePort()}" })
            psi.ArgumentList.Add(a);
        psi.Environment["BOTSTORE__TENANTPOOL__MINCONNECTIONS"] = "3";
        psi.Environment["BOTSTORE__TENANTPOOL__MAXCONNECTIONS"] = "4";
        using var process = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line && !line.StartsWith("BotStore API on", StringComparison.Ordinal))
            {
            }
            if (process.HasExited)
                Assert.Fail($"serve exited: {await process.StandardError.ReadToEndAsync()}");
            await using var dataSource = NpgsqlDataSource.Create(database);
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'botstore-api'");
            Assert.Equal(3L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
