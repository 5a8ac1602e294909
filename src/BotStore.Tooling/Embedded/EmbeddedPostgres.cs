using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using BotStore.Tooling.Internal;
using Npgsql;

namespace BotStore.Tooling.Embedded;

/// <summary>
/// A PostgreSQL cluster that BotStore creates and runs itself from the server binaries on the machine: initdb into
/// a data folder on first use, started with the process and stopped when it is disposed, reused across runs.
/// It listens on 127.0.0.1 (password required) and on a private unix socket. Run as root, it runs as the
/// <c>postgres</c> system user, since initdb refuses root. A second process that finds the cluster already running
/// attaches to it and leaves it running; so does a second start in the same process while the first instance lives.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string StateFile = "botstore.json";
    private const string ConfFile = "botstore.conf";
    private const string OwnerFile = "botstore.owner";
    private const string SystemUser = "postgres";

    // Data folders whose server an instance in this process started and has not stopped yet. The owner file then
    // holds our own pid, which otherwise means a crashed process whose pid we reuse: a second StartAsync in this
    // process must attach, not adopt the server and stop it under the first instance when disposed.
    private static readonly ConcurrentDictionary<string, bool> StartedHere = new(StringComparer.Ordinal);

    private readonly PostgresBinaries _binaries;
    private readonly string? _runAs;
    private bool _disposed;

    private EmbeddedPostgres(PostgresBinaries binaries, string dataDirectory, string? runAs, State state, string socketDirectory, bool ownsServer)
    {
        _binaries = binaries;
        _runAs = runAs;
        DataDirectory = dataDirectory;
        Port = state.Port;
        SocketDirectory = socketDirectory;
        OwnsServer = ownsServer;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = state.Port,
            Username = SystemUser,
            Password = state.Password,
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>The absolute data folder.</summary>
    public string DataDirectory { get; }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The folder of the private unix socket (psql -h, pgbench -h, PgBouncer).</summary>
    public string SocketDirectory { get; }

    /// <summary>Whether this process started the server (and so stops it when disposed).</summary>
    public bool OwnsServer { get; }

    /// <summary>The superuser connection string for the <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>The binaries the cluster runs from.</summary>
    public PostgresBinaries Binaries => _binaries;

    /// <summary>A connection string for another database of the cluster.</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>Creates the cluster if needed and starts it, or attaches to it when it already runs.</summary>
    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, CancellationToken ct = default)
    {
        var binaries = await PostgresBinaries.LocateAsync(ct);
        var dataDir = Path.GetFullPath(options.DataDirectory);
        var runAs = ProcessRunner.IsRoot ? SystemUser : null;
        if (runAs is not null && (await ProcessRunner.RunAsync("id", ["-u", runAs], ct: ct)).ExitCode != 0)
            throw new BotStoreConfigurationException(
                "running as root, the embedded cluster must run as the 'postgres' system user, which does not exist: apt-get install postgresql-15 creates it");

        Directory.CreateDirectory(Path.GetDirectoryName(dataDir)!);
        await using var fileLock = await AcquireLockAsync(dataDir + ".lock", ct);

        var state = IsEmpty(dataDir)
            ? await InitAsync(binaries, dataDir, runAs, options, ct)
            : await CheckExistingAsync(binaries, dataDir, runAs, ct);
        if (options.Port is { } port && port != state.Port)
        {
            state = state with { Port = port };
            await WriteOwnedAsync(Path.Combine(dataDir, StateFile), JsonSerializer.Serialize(state), runAs, ct);
        }
        var socketDir = SocketDirectoryFor(dataDir, state.Port);

        var running = (await ProcessRunner.RunAsync(binaries.Program("pg_ctl"), ["status", "-D", dataDir], runAs, ct)).ExitCode == 0;
        bool owns;
        if (running)
        {
            // Another process started it; adopt it only when that process is gone (it crashed without stopping it).
            owns = !StartedHere.ContainsKey(dataDir) && !OwnerAlive(dataDir);
        }
        else
        {
            EnsurePortFree(state.Port);
            await WriteConfAsync(dataDir, state.Port, socketDir, options, runAs, ct);
            await ProcessRunner.RunCheckedAsync(binaries.Program("pg_ctl"),
                ["start", "-D", dataDir, "-w", "-t", "60", "-s", "-l", Path.Combine(dataDir, "pg_ctl.log")],
                $"starting PostgreSQL in {dataDir} (see {Path.Combine(dataDir, "pg_ctl.log")})", runAs, ct);
            owns = true;
        }
        if (owns)
        {
            await File.WriteAllTextAsync(Path.Combine(dataDir, OwnerFile), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
            StartedHere[dataDir] = true;
        }
        return new EmbeddedPostgres(binaries, dataDir, runAs, state, socketDir, owns);
    }

    /// <summary>Stops the server when this process started it; an attached process leaves it running.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!OwnsServer)
            return;
        try
        {
            await ProcessRunner.RunCheckedAsync(_binaries.Program("pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"],
                "stopping PostgreSQL", _runAs);
            File.Delete(Path.Combine(DataDirectory, OwnerFile));
        }
        finally
        {
            StartedHere.TryRemove(DataDirectory, out _);
        }
    }

    private sealed record State(int Port, string Password);

    private static async Task<State> InitAsync(PostgresBinaries binaries, string dataDir, string? runAs, EmbeddedPostgresOptions options, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDir);
        await ChownAsync(runAs, ct, dataDir);
        File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (runAs is not null && (await ProcessRunner.RunAsync("test", ["-w", dataDir], runAs, ct)).ExitCode != 0)
            throw new BotStoreConfigurationException(
                $"the postgres system user cannot reach {dataDir} (a parent folder is closed to it): choose a --data-dir under a folder it can traverse, e.g. /var/lib/botstore");

        var state = new State(options.Port ?? EmbeddedPostgresOptions.DefaultPort, RandomNumberGenerator.GetHexString(32, lowercase: true));
        var pwFile = Path.Combine(Path.GetTempPath(), $"botstore-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pwFile, state.Password, ct);
        try
        {
            await ChownAsync(runAs, ct, pwFile);
            await ProcessRunner.RunCheckedAsync(binaries.Program("initdb"),
                ["-D", dataDir, "-U", SystemUser, "--pwfile", pwFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                $"initdb in {dataDir}", runAs, ct);
        }
        finally
        {
            File.Delete(pwFile);
        }
        await File.AppendAllTextAsync(Path.Combine(dataDir, "postgresql.conf"), $"\n# BotStore's settings, rewritten at every start\ninclude_if_exists = '{ConfFile}'\n", ct);
        await WriteOwnedAsync(Path.Combine(dataDir, StateFile), JsonSerializer.Serialize(state), runAs, ct);
        return state;
    }

    private static async Task<State> CheckExistingAsync(PostgresBinaries binaries, string dataDir, string? runAs, CancellationToken ct)
    {
        var expectedOwner = runAs ?? Environment.UserName;
        var owner = (await ProcessRunner.RunCheckedAsync("stat", ["-c", "%U", dataDir], $"reading the owner of {dataDir}", ct: ct)).Trim();
        if (owner != expectedOwner)
            throw new BotStoreConfigurationException(
                $"data folder {dataDir} belongs to '{owner}', not to '{expectedOwner}' who runs the cluster: choose another --data-dir or give the folder to '{expectedOwner}'");
        var versionFile = Path.Combine(dataDir, "PG_VERSION");
        var stateFile = Path.Combine(dataDir, StateFile);
        if (!File.Exists(versionFile) || !File.Exists(stateFile))
            throw new BotStoreConfigurationException($"{dataDir} is not empty and is not a BotStore PostgreSQL data folder: choose an empty or new --data-dir");
        var major = int.Parse((await File.ReadAllTextAsync(versionFile, ct)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        if (major != binaries.MajorVersion)
            throw new BotStoreConfigurationException(
                $"data folder {dataDir} was made by PostgreSQL {major}, but the binaries in {binaries.BinDirectory} are {binaries.MajorVersion}: set BOTSTORE_PG_BIN to a PostgreSQL {major} bin folder");
        return JsonSerializer.Deserialize<State>(await File.ReadAllTextAsync(stateFile, ct))
            ?? throw new BotStoreConfigurationException($"{stateFile} is empty");
    }

    private static async Task WriteConfAsync(string dataDir, int port, string socketDir, EmbeddedPostgresOptions options, string? runAs, CancellationToken ct)
    {
        Directory.CreateDirectory(socketDir);
        if (socketDir != dataDir)
        {
            await ChownAsync(runAs, ct, socketDir);
            File.SetUnixFileMode(socketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var conf = $"""
            listen_addresses = '127.0.0.1'
            port = {port}
            unix_socket_directories = '{socketDir}'
            unix_socket_permissions = 0700
            max_connections = {options.MaxConnections}
            shared_buffers = '{options.SharedBuffers}'
            timezone = 'UTC'
            shared_preload_libraries = 'pg_stat_statements'
            pg_stat_statements.track = top
            track_io_timing = on
            # The seed's slow-query log.
            log_min_duration_statement = 100
            log_statement = 'none'
            log_lock_waits = on
            logging_collector = on
            log_directory = 'log'
            log_filename = 'postgresql-%a.log'
            log_truncate_on_rotation = on
            log_rotation_age = '1d'
            log_line_prefix = '%m [%p] %q%u@%d '

            """;
        await WriteOwnedAsync(Path.Combine(dataDir, ConfFile), conf, runAs, ct);
    }

    private static string SocketDirectoryFor(string dataDir, int port) =>
        // A unix socket path is limited to 107 bytes; a deep data folder gets a private folder under /tmp.
        (dataDir + "/.s.PGSQL." + port).Length < 100
            ? dataDir
            : Path.Combine(Path.GetTempPath(), "botstore-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDir)))[..12]);

    private static void EnsurePortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException)
        {
            throw new BotStoreConfigurationException($"port {port} on 127.0.0.1 is in use by another program: choose another with --pg-port");
        }
    }

    private static bool OwnerAlive(string dataDir)
    {
        var file = Path.Combine(dataDir, OwnerFile);
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), out var pid) || pid == Environment.ProcessId)
            return false;
        return Directory.Exists($"/proc/{pid}");
    }

    private static bool IsEmpty(string dir) => !Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any();

    private static async Task WriteOwnedAsync(string path, string text, string? runAs, CancellationToken ct)
    {
        await File.WriteAllTextAsync(path, text, ct);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await ChownAsync(runAs, ct, path);
    }

    private static async Task ChownAsync(string? runAs, CancellationToken ct, params string[] paths)
    {
        if (runAs is not null)
            await ProcessRunner.RunCheckedAsync("chown", [$"{runAs}:{runAs}", .. paths], "chown", ct: ct);
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken ct)
    {
        // Two processes starting together must not both initdb or both start the server.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(100, ct);
            }
        }
    }
}
