using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using BotStore.Tooling.Backup;
using BotStore.Tooling.Embedded.Internal;
using BotStore.Tooling.Internal;
using Npgsql;

namespace BotStore.Tooling.Embedded;

/// <summary>
/// A PostgreSQL cluster that BotStore creates and runs itself from the server binaries on the machine: initdb into
/// a data folder on first use, started with the process and stopped when it is disposed, reused across runs.
/// It listens on 127.0.0.1 (password required) and on a private unix socket. Run as root, it runs as the
/// <c>postgres</c> system user, since initdb refuses root.
/// <para>
/// Several processes (and several instances in one process) may use one cluster: each holds a shared lock on
/// <c>&lt;data&gt;.users</c> while it lives, the kernel drops it when a process dies, and whoever is disposed last
/// stops the server, whichever started it. Starting, stopping and restarting happen under <c>&lt;data&gt;.lock</c>.
/// </para>
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string StateFile = "botstore.json";
    private const string ConfFile = "botstore.conf";
    private const string SystemUser = "postgres";

    private readonly PostgresBinaries _binaries;
    private readonly string? _runAs;
    private readonly EmbeddedPostgresOptions _options;
    private readonly FileStream _users;
    private bool _disposed;

    private EmbeddedPostgres(PostgresBinaries binaries, DataLocation location, string? runAs, EmbeddedPostgresOptions options, State state,
        string socketDirectory, bool startedServer, bool created, FileStream users)
    {
        _binaries = binaries;
        _runAs = runAs;
        _options = options;
        _users = users;
        DataDirectory = location.DataDirectory;
        LinkedFrom = location.LinkedFrom;
        Created = created;
        Port = state.Port;
        SocketDirectory = socketDirectory;
        StartedServer = startedServer;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = state.Port,
            Username = SystemUser,
            Password = state.Password,
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>The absolute data folder, where the cluster's files really are.</summary>
    public string DataDirectory { get; }

    /// <summary>
    /// The folder asked for when it is a symbolic link to <see cref="DataDirectory"/>: run as root from a folder the
    /// <c>postgres</c> user cannot enter, the cluster lives under <see cref="EmbeddedPostgresOptions.RelocationRoot"/>.
    /// </summary>
    public string? LinkedFrom { get; }

    /// <summary>Whether this start created the cluster (ran initdb).</summary>
    public bool Created { get; }

    /// <summary>Where the data lives, for people: the folder, and the link that leads to it.</summary>
    public string Location => LinkedFrom is null ? DataDirectory : $"{DataDirectory} (linked from {LinkedFrom})";

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The folder of the private unix socket (psql -h, pgbench -h, PgBouncer).</summary>
    public string SocketDirectory { get; }

    /// <summary>Whether this start started the server (rather than attaching to a running one).</summary>
    public bool StartedServer { get; }

    /// <summary>The superuser connection string for the <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>The cluster's pgBackRest repository, which its WAL is archived to; null when archiving is off.</summary>
    public PgBackRest? Backups => _options.ArchiveWal ? new PgBackRest(DataDirectory, _runAs) : null;

    /// <summary>The binaries the cluster runs from.</summary>
    public PostgresBinaries Binaries => _binaries;

    /// <summary>A connection string for another database of the cluster.</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>
    /// Creates the cluster if needed and starts it, or attaches to it when it already runs. A first start that fails
    /// removes what it made (data folder, link), so the next one starts clean.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, CancellationToken ct = default)
    {
        var binaries = await PostgresBinaries.LocateAsync(ct);
        var requested = Path.GetFullPath(options.DataDirectory);
        var runAs = ProcessRunner.IsRoot ? SystemUser : null;
        if (runAs is not null && (await ProcessRunner.RunAsync("id", ["-u", runAs], ct: ct)).ExitCode != 0)
            throw new BotStoreConfigurationException(
                "running as root, the embedded cluster must run as the 'postgres' system user, which does not exist: apt-get install postgresql-15 creates it");

        Directory.CreateDirectory(Path.GetDirectoryName(requested)!);
        await using var requestedLock = await AcquireLockAsync(requested + ".lock", ct);
        var location = await DataLocation.ResolveAsync(requested, runAs, options.RelocationRoot, ct);
        var dataDir = location.DataDirectory;
        // The same cluster may be named by its link and by its real folder.
        await using var realLock = dataDir == requested ? null : await AcquireLockAsync(dataDir + ".lock", ct);

        var existed = Directory.Exists(dataDir);
        var fresh = IsEmpty(dataDir);
        var backupFolder = new PgBackRest(dataDir, runAs).Folder;
        // A repository left by an earlier cluster in this folder belongs to another database system: keep it aside.
        if (fresh && Directory.Exists(backupFolder))
            Directory.Move(backupFolder, $"{backupFolder}.old-{DateTime.UtcNow:yyyyMMddHHmmss}");
        try
        {
            return await StartLockedAsync(binaries, location, runAs, fresh, options, ct);
        }
        catch when (fresh)
        {
            if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
                await ProcessRunner.RunAsync(binaries.Program("pg_ctl"), ["stop", "-D", dataDir, "-m", "immediate", "-s"], runAs, CancellationToken.None);
            location.Undo(existed);
            if (Directory.Exists(backupFolder))
                Directory.Delete(backupFolder, recursive: true);
            throw;
        }
    }

    private static async Task<EmbeddedPostgres> StartLockedAsync(PostgresBinaries binaries, DataLocation location, string? runAs, bool fresh,
        EmbeddedPostgresOptions options, CancellationToken ct)
    {
        var dataDir = location.DataDirectory;
        var state = fresh
            ? await InitAsync(binaries, dataDir, runAs, options, ct)
            : await CheckExistingAsync(binaries, dataDir, runAs, ct);
        if (options.Port is { } port && port != state.Port)
        {
            state = state with { Port = port };
            await WriteOwnedAsync(Path.Combine(dataDir, StateFile), JsonSerializer.Serialize(state), runAs, ct);
        }
        var socketDir = SocketDirectoryFor(dataDir, state.Port);

        var running = await StatusAsync(binaries, dataDir, runAs, ct);
        if (!running)
            await StartServerAsync(binaries, dataDir, runAs, state.Port, socketDir, options, ct);
        return new EmbeddedPostgres(binaries, location, runAs, options, state, socketDir, startedServer: !running, created: fresh, OpenUsersLock(dataDir));
    }

    /// <summary>
    /// Whether the server process is alive, from its <c>postmaster.pid</c> and /proc: cheap enough to poll. A server
    /// killed with SIGKILL leaves its pid file behind, naming a process that is gone.
    /// </summary>
    public bool IsServerAlive(out string reason)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        string? firstLine;
        try
        {
            firstLine = File.ReadLines(pidFile).FirstOrDefault();
        }
        catch (FileNotFoundException)
        {
            reason = "the server is stopped (no postmaster.pid)";
            return false;
        }
        if (!int.TryParse(firstLine, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            reason = "postmaster.pid names no process";
            return false;
        }
        string comm;
        try
        {
            comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            reason = $"the server process {pid} is gone (killed or crashed)";
            return false;
        }
        reason = comm == "postgres" ? "" : $"the server process {pid} is gone (the pid now belongs to '{comm}')";
        return comm == "postgres";
    }

    /// <summary>
    /// Starts the server again when it is not running (after a crash or a <c>kill -9</c>; PostgreSQL recovers from its
    /// WAL). Returns whether it started it; false when it was running or another process restarted it first.
    /// </summary>
    public async Task<bool> EnsureRunningAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsServerAlive(out _))
            return false;
        await using var fileLock = await AcquireLockAsync(DataDirectory + ".lock", ct);
        if (await StatusAsync(_binaries, DataDirectory, _runAs, ct))
            return false;
        await StartServerAsync(_binaries, DataDirectory, _runAs, Port, SocketDirectory, _options, ct);
        return true;
    }

    /// <summary>Detaches; the last process or instance using the cluster stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await using var fileLock = await AcquireLockAsync(DataDirectory + ".lock", CancellationToken.None);
        await _users.DisposeAsync();
        if (OthersAttached(DataDirectory) || !await StatusAsync(_binaries, DataDirectory, _runAs, CancellationToken.None))
            return;
        await ProcessRunner.RunCheckedAsync(_binaries.Program("pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"],
            "stopping PostgreSQL", _runAs);
    }

    private static async Task<bool> StatusAsync(PostgresBinaries binaries, string dataDir, string? runAs, CancellationToken ct) =>
        (await ProcessRunner.RunAsync(binaries.Program("pg_ctl"), ["status", "-D", dataDir], runAs, ct)).ExitCode == 0;

    private static async Task StartServerAsync(PostgresBinaries binaries, string dataDir, string? runAs, int port, string socketDir,
        EmbeddedPostgresOptions options, CancellationToken ct)
    {
        EnsurePortFree(port);
        var backups = options.ArchiveWal ? new PgBackRest(dataDir, runAs) : null;
        if (backups is not null)
            await backups.ConfigureAsync(port, socketDir, ct);
        await WriteConfAsync(dataDir, port, socketDir, options, runAs, ct);
        await ProcessRunner.RunCheckedAsync(binaries.Program("pg_ctl"),
            ["start", "-D", dataDir, "-w", "-t", "60", "-s", "-l", Path.Combine(dataDir, "pg_ctl.log")],
            $"starting PostgreSQL in {dataDir} (see {Path.Combine(dataDir, "pg_ctl.log")})", runAs, ct);
        // A restored copy accepts connections while it replays WAL; it is a cluster of its own once it has promoted
        // itself, which removes recovery.signal.
        for (var waited = 0; File.Exists(Path.Combine(dataDir, "recovery.signal")); waited++)
        {
            if (waited > 6000)
                throw new BotStoreConfigurationException($"PostgreSQL in {dataDir} did not finish recovery within 10 minutes (see its log)");
            await Task.Delay(100, ct);
        }
        if (backups is not null)
            await backups.EnsureStanzaAsync(ct);
    }

    // A shared flock held for the instance's life: read-only, since .NET takes LOCK_SH only for files not opened for writing.
    private static FileStream OpenUsersLock(string dataDir) =>
        new(dataDir + ".users", FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);

    // Whether anyone else holds a shared lock: an exclusive one is then refused.
    private static bool OthersAttached(string dataDir)
    {
        try
        {
            using var probe = new FileStream(dataDir + ".users", FileMode.OpenOrCreate, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private sealed record State(int Port, string Password);

    /// <summary>The user the server runs as (postgres when we are root), or null for this process's user.</summary>
    internal string? RunAs => _runAs;

    /// <summary>Creates an empty data folder owned by the user the server runs as, mode 0700.</summary>
    internal static async Task PrepareDataFolderAsync(string dataDir, string? runAs, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDir);
        await ChownAsync(runAs, ct, dataDir);
        File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (runAs is not null && (await ProcessRunner.RunAsync("test", ["-w", dataDir], runAs, ct)).ExitCode != 0)
            throw new BotStoreConfigurationException(
                $"the postgres system user cannot write to {dataDir}: choose a --data-dir under a folder it can traverse, e.g. /var/lib/botstore");
    }

    /// <summary>Sets the port a (stopped) data folder starts on, e.g. a restored copy beside its running original.</summary>
    internal static async Task SetPortAsync(string dataDir, int port, string? runAs, CancellationToken ct)
    {
        var stateFile = Path.Combine(dataDir, StateFile);
        var state = JsonSerializer.Deserialize<State>(await File.ReadAllTextAsync(stateFile, ct))
            ?? throw new BotStoreConfigurationException($"{stateFile} is empty");
        await WriteOwnedAsync(stateFile, JsonSerializer.Serialize(state with { Port = port }), runAs, ct);
    }

    /// <summary>
    /// Closes the current WAL segment and waits until it is archived, so that everything committed so far can be
    /// restored. Throws when archiving fails (the reason is in the server log).
    /// </summary>
    internal async Task ArchiveCurrentWalAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await conn.OpenAsync(ct);
        await using var switchWal = new NpgsqlCommand("SELECT pg_walfile_name(pg_switch_wal())", conn);
        var segment = (string)(await switchWal.ExecuteScalarAsync(ct))!;
        await using var archived = new NpgsqlCommand(
            "SELECT coalesce(last_archived_wal, '') >= $1, coalesce(last_failed_wal, '') = $1 FROM pg_stat_archiver", conn)
        {
            Parameters = { new NpgsqlParameter { Value = segment } },
        };
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromMinutes(2); waited += TimeSpan.FromMilliseconds(200))
        {
            await using (var reader = await archived.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                if (reader.GetBoolean(0))
                    return;
                if (reader.GetBoolean(1) && waited > TimeSpan.FromSeconds(30))
                    break;
            }
            await Task.Delay(200, ct);
        }
        throw new BotStoreConfigurationException($"WAL segment {segment} was not archived (see {Path.Combine(DataDirectory, "log")})");
    }

    private static async Task<State> InitAsync(PostgresBinaries binaries, string dataDir, string? runAs, EmbeddedPostgresOptions options, CancellationToken ct)
    {
        await PrepareDataFolderAsync(dataDir, runAs, ct);

        var state = new State(options.Port ?? EmbeddedPostgresOptions.DefaultPort, RandomNumberGenerator.GetHexString(32, lowercase: true));
        using (var pwFile = await PasswordFile.WriteAsync(state.Password, runAs, ct))
        {
            await ProcessRunner.RunCheckedAsync(binaries.Program("initdb"),
                ["-D", dataDir, "-U", SystemUser, "--pwfile", pwFile.Path, "--auth-local=trust", "--auth-host=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                $"initdb in {dataDir}", runAs, ct);
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
        // Every WAL segment goes to the cluster's pgBackRest repository: with a backup, any moment can be restored.
        // archive_timeout bounds what an idle cluster leaves unarchived in its current segment.
        var archive = options.ArchiveWal
            ? $"archive_mode = on\narchive_command = '{new PgBackRest(dataDir, runAs).ArchiveCommand}'\narchive_timeout = 60"
            : "archive_mode = off";
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
            # Tenant moves between shards use logical replication (publications with row filters).
            wal_level = logical
            # Each move holds a slot and a sender on its source, and its initial copy runs table-sync workers (each
            # with a slot of its own for the copy) beside the target's apply worker.
            max_wal_senders = 20
            max_replication_slots = 20
            max_logical_replication_workers = 8
            max_sync_workers_per_subscription = 4
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
            {archive}

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
