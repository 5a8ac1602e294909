using System.Diagnostics;
using System.Net.Sockets;
using BotStore.Tooling.PgBouncer;
using Npgsql;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// A real PgBouncer (the Debian package's /usr/sbin/pgbouncer) in front of one database of the test cluster,
/// reached over the cluster's unix socket, listening on a free port of 127.0.0.1. As root it drops to the
/// postgres user (-u), like the cluster itself.
/// </summary>
public sealed class PgBouncerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private PgBouncerProcess(Process process, string folder, int port, string connectionString)
    {
        _process = process;
        _folder = folder;
        Port = port;
        ConnectionString = connectionString;
    }

    /// <summary>The port PgBouncer listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string through PgBouncer to the database.</summary>
    public string ConnectionString { get; }

    /// <summary>The log PgBouncer wrote so far.</summary>
    public string Log => File.Exists(Path.Combine(_folder, "pgbouncer.log")) ? File.ReadAllText(Path.Combine(_folder, "pgbouncer.log")) : "";

    /// <summary>Starts PgBouncer for <paramref name="databaseConnectionString"/> with the seed's settings but <paramref name="poolSize"/> server connections.</summary>
    public static async Task<PgBouncerProcess> StartAsync(string databaseConnectionString, int poolSize)
    {
        var cluster = await TestCluster.GetAsync();
        var target = new NpgsqlConnectionStringBuilder(databaseConnectionString);
        var folder = TestCluster.NewTempFolder("pgbouncer");
        var port = TestCluster.FreePort();
        var config = PgBouncerConfig.ForDatabases([new NpgsqlConnectionStringBuilder(databaseConnectionString) { Host = cluster.SocketDirectory }.ConnectionString]) with
        {
            ListenAddress = "127.0.0.1",
            ListenPort = port,
            UnixSocketDir = "",
            AuthFile = Path.Combine(folder, "userlist.txt"),
            LogFile = Path.Combine(folder, "pgbouncer.log"),
            DefaultPoolSize = poolSize,
            MinPoolSize = 0,
            ReservePoolSize = 0,
        };
        var ini = Path.Combine(folder, "pgbouncer.ini");
        await File.WriteAllTextAsync(ini, config.RenderIni());
        await File.WriteAllTextAsync(config.AuthFile, config.RenderUserlist());
        var root = Environment.UserName == "root";
        if (root)
            await Process.Start("chown", ["-R", "postgres:postgres", folder]).WaitForExitAsync();

        var psi = new ProcessStartInfo("/usr/sbin/pgbouncer") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        if (root)
            psi.ArgumentList.Add("-u");
        if (root)
            psi.ArgumentList.Add("postgres");
        psi.ArgumentList.Add(ini);
        var process = Process.Start(psi)!;
        var through = new NpgsqlConnectionStringBuilder(databaseConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString;
        var bouncer = new PgBouncerProcess(process, folder, port, through);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return bouncer;
            }
            catch (SocketException) when (attempt < 100 && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var log = bouncer.Log;
                await bouncer.DisposeAsync();
                throw new InvalidOperationException($"pgbouncer did not start: {await process.StandardError.ReadToEndAsync()} {log}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
