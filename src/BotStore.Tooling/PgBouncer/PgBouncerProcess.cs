using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace BotStore.Tooling.PgBouncer;

/// <summary>
/// A real PgBouncer (the Debian package's /usr/sbin/pgbouncer) in transaction mode in front of one database, with the
/// seed's settings (<see cref="PgBouncerConfig"/>) but a pool size of the caller's, listening on a free port of
/// 127.0.0.1, its files in a folder of its own under /tmp. As root it drops to the postgres user (-u). For tests and
/// benchmarks; production runs PgBouncer as a service with the file <c>botstore pgbouncer config</c> writes.
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
    /// Starts PgBouncer for <paramref name="databaseConnectionString"/>; <paramref name="serverHost"/> is where PgBouncer
    /// reaches the server (e.g. a cluster's unix socket folder; default the connection string's host).
    /// </summary>
    public static async Task<PgBouncerProcess> StartAsync(string databaseConnectionString, int poolSize, string? serverHost = null,
        int maxClientConnections = 10_000)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"pgbouncer-{Guid.NewGuid():N}"[..22]);
        Directory.CreateDirectory(folder);
        var port = FreePort();
        var server = new NpgsqlConnectionStringBuilder(databaseConnectionString);
        if (serverHost is not null)
            server.Host = serverHost;
        var seed = PgBouncerConfig.ForDatabases([server.ConnectionString]);
        var config = seed with
        {
            ListenAddress = "127.0.0.1",
            ListenPort = port,
            UnixSocketDir = "",
            AuthFile = Path.Combine(folder, "userlist.txt"),
            LogFile = Path.Combine(folder, "pgbouncer.log"),
            DefaultPoolSize = poolSize,
            MinPoolSize = 0,
            ReservePoolSize = 0,
            MaxClientConn = maxClientConnections,
            // A server reached without a password (trust, e.g. a stock cluster on a test machine) gives PgBouncer
            // no password to check a client's md5 answer against: Npgsql, holding none, is refused ("No password
            // has been provided"). PgBouncer then trusts its clients too, which lets in no one the server would not;
            // it listens on 127.0.0.1 only.
            AuthType = string.IsNullOrEmpty(server.Password) ? "trust" : seed.AuthType,
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "pgbouncer.ini"), config.RenderIni());
        await File.WriteAllTextAsync(config.AuthFile, config.RenderUserlist());
        if (Environment.UserName == "root")
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

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static Process Launch(string folder)
    {
        var psi = new ProcessStartInfo("/usr/sbin/pgbouncer") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        // -q: PgBouncer writes every log line to stderr as well as to its logfile unless told to be quiet, and nobody
        // reads that pipe. Once ~64 kB of log (about 200 client logins and logouts) had filled it, PgBouncer, one
        // thread, blocked in write(2) and served nobody: every client then timed out with PostgreSQL idle and the
        // log ending in login lines (bench pooled's "appends through PgBouncer time out"). Its log is the logfile.
        psi.ArgumentList.Add("-q");
        if (Environment.UserName == "root")
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
        }
        psi.ArgumentList.Add(Path.Combine(folder, "pgbouncer.ini"));
        return Process.Start(psi) ?? throw new BotStoreConfigurationException("cannot start /usr/sbin/pgbouncer");
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
                throw new BotStoreConfigurationException($"pgbouncer did not start: {(await _process.StandardError.ReadToEndAsync()).Trim()} {Log}".Trim());
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
