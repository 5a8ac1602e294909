using System.Diagnostics;
using System.Net.Sockets;
using BotStore.Tooling.Embedded;
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
    private readonly string _folder;
    private Process _process;

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

    /// <summary>
    /// Starts PgBouncer for <paramref name="databaseConnectionString"/> (a database of <paramref name="cluster"/>, by
    /// default the test cluster) with the seed's settings but <paramref name="poolSize"/> server connections.
    /// </summary>
    public static async Task<PgBouncerProcess> StartAsync(string databaseConnectionString, int poolSize, EmbeddedPostgres? cluster = null)
    {
        cluster ??= await TestCluster.GetAsync();
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

        var through = new NpgsqlConnectionStringBuilder(databaseConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString;
        var bouncer = new PgBouncerProcess(Launch(folder), folder, port, through);
        try
        {
            await bouncer.WaitListeningAsync();
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }
        return bouncer;
    }

    /// <summary>Kills PgBouncer (every client connection drops) and starts it again on the same port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        _process.Dispose();
        _process = Launch(_folder);
        await WaitListeningAsync();
    }

    /// <summary>Kills PgBouncer; <see cref="RestartAsync"/> starts it again.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    private static Process Launch(string folder)
    {
        var psi = new ProcessStartInfo("/usr/sbin/pgbouncer") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        if (Environment.UserName == "root")
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
        }
        psi.ArgumentList.Add(Path.Combine(folder, "pgbouncer.ini"));
        return Process.Start(psi)!;
    }

    private async Task WaitListeningAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (attempt < 100 && !_process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"pgbouncer did not start: {await _process.StandardError.ReadToEndAsync()} {Log}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
