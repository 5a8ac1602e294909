using System.Net;
using System.Net.Sockets;
using BotStore.Tooling.Embedded;
using BotStore.Schema;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// The one embedded PostgreSQL cluster of a test run, started with the product's own code in a fresh folder under
/// /tmp on a free port, and stopped when the test process exits. A migrated template database makes each
/// <see cref="TestDatabase"/> a fast file copy.
/// </summary>
public static class TestCluster
{
    private const string TemplateName = "botstore_template";
    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static readonly Lazy<Task<EmbeddedPostgres>> Server = new(StartAsync);
    private static bool _templateReady;

    /// <summary>The running cluster.</summary>
    public static Task<EmbeddedPostgres> GetAsync() => Server.Value;

    /// <summary>Creates an empty database (no migrations) and returns its superuser connection string.</summary>
    public static async Task<string> CreateEmptyDatabaseAsync(string? name = null)
    {
        var server = await GetAsync();
        name ??= NewName();
        await ExecuteAsync(server.ConnectionString, $"CREATE DATABASE {name}");
        return server.ConnectionStringFor(name);
    }

    /// <summary>Creates a database with every migration applied (copied from the template).</summary>
    public static async Task<string> CreateMigratedDatabaseAsync()
    {
        var server = await GetAsync();
        await EnsureTemplateAsync(server);
        var name = NewName();
        // CREATE DATABASE ... TEMPLATE needs the template to have no other connection, so copies are serialised.
        await TemplateLock.WaitAsync();
        try
        {
            await ExecuteAsync(server.ConnectionString, $"CREATE DATABASE {name} TEMPLATE {TemplateName}");
        }
        finally
        {
            TemplateLock.Release();
        }
        return server.ConnectionStringFor(name);
    }

    /// <summary>Drops a database created by this class.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var server = await GetAsync();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(server.ConnectionString, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>A TCP port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A new folder under /tmp, which the postgres system user can reach; the caller removes it.</summary>
    public static string NewTempFolder(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string NewName() => $"t_{Guid.NewGuid():N}"[..20];

    private static async Task<EmbeddedPostgres> StartAsync()
    {
        var folder = NewTempFolder("botstore-tests");
        var server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = Path.Combine(folder, "pg"),
            Port = FreePort(),
            SharedBuffers = "128MB",
            // The suite writes much WAL (benchmarks among it); archiving is tested on clusters of its own.
            ArchiveWal = false,
            // Test classes run in parallel, each with pools, and benchmarks add 64 pgbench clients.
            MaxConnections = 1000,
        });
        StartWatchdog(server, folder);
        return server;
    }

    // The test host is often killed rather than exited, so exit handlers cannot be trusted to stop the cluster: a
    // detached shell waits for this process to go, then stops the cluster and removes its folder.
    internal static void StartWatchdog(EmbeddedPostgres server, string folder)
    {
        var pgCtl = server.Binaries.Program("pg_ctl");
        var asPostgres = Environment.UserName == "root" ? "runuser -u postgres -- " : "";
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 0.5; done; " +
                     $"{asPostgres}{pgCtl} stop -D '{server.DataDirectory}' -m immediate -s >/dev/null 2>&1; rm -rf '{folder}'";
        var psi = new System.Diagnostics.ProcessStartInfo("setsid", ["-f", "bash", "-c", "exec </dev/null >/dev/null 2>&1; " + script])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        System.Diagnostics.Process.Start(psi);
    }

    private static async Task EnsureTemplateAsync(EmbeddedPostgres server)
    {
        if (_templateReady)
            return;
        await TemplateLock.WaitAsync();
        try
        {
            if (_templateReady)
                return;
            await ExecuteAsync(server.ConnectionString, $"CREATE DATABASE {TemplateName}");
            await using (var dataSource = NpgsqlDataSource.Create(server.ConnectionStringFor(TemplateName) + ";Pooling=false"))
                await new MigrationRunner(dataSource).MigrateAsync();
            _templateReady = true;
        }
        finally
        {
            TemplateLock.Release();
        }
    }
}
