using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BotStore.Tooling.Embedded;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

namespace BotStore.Tests.Foundation;

/// <summary>A data folder initialised once (initdb is the slow part) for the tests that start and stop clusters.</summary>
public sealed class InitializedDataFolder : IAsyncLifetime
{
    /// <summary>The temp folder holding <see cref="DataDirectory"/>; removed at the end.</summary>
    public string Folder { get; } = TestCluster.NewTempFolder("botstore-embedded");

    /// <summary>A stopped, initialised data folder.</summary>
    public string DataDirectory => Path.Combine(Folder, "pg");

    /// <summary>Small settings: these clusters live beside the shared test cluster on a 2-core machine.</summary>
    public EmbeddedPostgresOptions Options(int port, string? dataDirectory = null) => new()
    {
        DataDirectory = dataDirectory ?? DataDirectory,
        Port = port,
        SharedBuffers = "16MB",
        MaxConnections = 20,
    };

    public async Task InitializeAsync()
    {
        await using var cluster = await EmbeddedPostgres.StartAsync(Options(TestCluster.FreePort()));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class EmbeddedClusterTests(InitializedDataFolder data) : IClassFixture<InitializedDataFolder>
{
    [Fact]
    public async Task It_restarts_on_an_existing_data_folder_and_keeps_its_data()
    {
        var port = TestCluster.FreePort();
        DateTime firstStart;
        string connectionString;
        await using (var first = await EmbeddedPostgres.StartAsync(data.Options(port)))
        {
            connectionString = first.ConnectionString;
            Assert.True(first.StartedServer);
            await ExecuteAsync(first, "DROP TABLE IF EXISTS kept; CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
            firstStart = await ScalarAsync<DateTime>(first, "SELECT pg_postmaster_start_time()");
        }
        await AssertStoppedAsync(connectionString);

        await using var second = await EmbeddedPostgres.StartAsync(data.Options(port));
        Assert.True(second.StartedServer);
        Assert.True(await ScalarAsync<DateTime>(second, "SELECT pg_postmaster_start_time()") > firstStart, "the server was not restarted");
        Assert.Equal("still here", await ScalarAsync<string>(second, "SELECT v FROM kept"));
    }

    [Fact]
    public async Task A_second_start_on_a_running_cluster_attaches_and_leaves_it_running()
    {
        var port = TestCluster.FreePort();
        var owner = await EmbeddedPostgres.StartAsync(data.Options(port));
        try
        {
            Assert.True(owner.StartedServer);
            var attached = await EmbeddedPostgres.StartAsync(data.Options(port));
            Assert.False(attached.StartedServer);
            await attached.DisposeAsync();
            Assert.Equal(1, await ScalarAsync<int>(owner, "SELECT 1"));

            // Another process (the CLI) attaches the same way.
            var cli = await Infrastructure.Cli.RunAsync(["db", "status", "--data-dir", data.DataDirectory]);
            Assert.True(cli.ExitCode == 0, cli.Stderr);
            Assert.Equal(1, await ScalarAsync<int>(owner, "SELECT 1"));
        }
        finally
        {
            await owner.DisposeAsync();
        }
        await AssertStoppedAsync(owner.ConnectionString);
    }

    [Fact]
    public async Task A_verb_run_while_the_server_is_down_starts_it_and_stops_it_when_it_exits()
    {
        var port = TestCluster.FreePort();
        await using (var cluster = await EmbeddedPostgres.StartAsync(data.Options(port)))
        {
            await ClusterSupervisionTests.RunAsync("kill", "-9", ClusterSupervisionTests.PostmasterPid(cluster.DataDirectory).ToString(CultureInfo.InvariantCulture));
            for (var i = 0; i < 100 && cluster.IsServerAlive(out _); i++)
                await Task.Delay(100);
            Assert.False(cluster.IsServerAlive(out var reason));
            Assert.Contains("is gone", reason, StringComparison.Ordinal);
        }

        var cli = await Infrastructure.Cli.RunAsync(["db", "status", "--data-dir", data.DataDirectory, "--pg-port", port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        Assert.False(File.Exists(Path.Combine(data.DataDirectory, "postmaster.pid")), "the verb left the cluster it started running");
    }

    [Fact]
    public async Task A_port_in_use_is_refused_naming_the_port()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var ex = await RefusedAsync(data.Options(port));
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_folder_owned_by_someone_else_is_refused_saying_who_owns_it()
    {
        // Only root can give a folder away; the test suite runs as root in CI (see test.sh).
        Assert.True(Environment.UserName == "root", "this test needs root to chown a folder to 'nobody'");
        var folder = TestCluster.NewTempFolder("botstore-foreign");
        try
        {
            var dataDir = Path.Combine(folder, "pg");
            Directory.CreateDirectory(dataDir);
            await File.WriteAllTextAsync(Path.Combine(dataDir, "theirs.txt"), "not yours");
            await ChownAsync("nobody", dataDir);

            var ex = await RefusedAsync(data.Options(TestCluster.FreePort(), dataDir));
            Assert.Contains("'nobody'", ex.Message, StringComparison.Ordinal);
            Assert.Contains(dataDir, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_non_empty_folder_that_is_not_a_data_folder_is_refused_and_left_alone()
    {
        var folder = TestCluster.NewTempFolder("botstore-notdata");
        try
        {
            var dataDir = Path.Combine(folder, "pg");
            Directory.CreateDirectory(dataDir);
            await File.WriteAllTextAsync(Path.Combine(dataDir, "notes.txt"), "my notes");
            // Owned by the user the cluster runs as, so the refusal is about the contents, not the owner.
            if (Environment.UserName == "root")
                await ChownAsync("postgres", dataDir);

            var ex = await RefusedAsync(data.Options(TestCluster.FreePort(), dataDir));
            Assert.Contains("not a BotStore PostgreSQL data folder", ex.Message, StringComparison.Ordinal);
            Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(dataDir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("shared_preload_libraries", "pg_stat_statements")]
    [InlineData("pg_stat_statements.track", "top")]
    [InlineData("log_min_duration_statement", "100ms")]
    [InlineData("log_statement", "none")]
    [InlineData("log_lock_waits", "on")]
    [InlineData("listen_addresses", "127.0.0.1")]
    public async Task The_server_runs_with_the_seeds_settings(string setting, string expected)
    {
        // pg_stat_statements.track only exists once the library is loaded.
        var server = await TestCluster.GetAsync();
        Assert.Equal(expected, await ScalarAsync<string>(server.ConnectionString, $"SHOW {setting}"));
    }

    private static async Task<BotStoreConfigurationException> RefusedAsync(EmbeddedPostgresOptions options)
    {
        try
        {
            await using var started = await EmbeddedPostgres.StartAsync(options);
        }
        catch (BotStoreConfigurationException ex)
        {
            return ex;
        }
        throw new Xunit.Sdk.XunitException($"a cluster started in {options.DataDirectory} on port {options.Port}");
    }

    private static async Task AssertStoppedAsync(string connectionString)
    {
        var ex = await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync<int>(connectionString, "SELECT 1"));
        Assert.IsType<SocketException>(ex.InnerException);
    }

    private static async Task ChownAsync(string user, string path)
    {
        using var chown = Process.Start("chown", ["-R", user, path]);
        await chown.WaitForExitAsync();
        Assert.Equal(0, chown.ExitCode);
    }
}
