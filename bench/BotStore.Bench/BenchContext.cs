using System.Globalization;
using BotStore.Tooling;
using BotStore.Tooling.LoadGeneration;
using BotStore.Tooling.StorageAudit;
using BotStore.Schema;
using Npgsql;

namespace BotStore.Bench;

/// <summary>A session picked for history and append runs.</summary>
internal sealed record BenchSession(long TenantId, Guid Id, DateTimeOffset CreatedAt);

/// <summary>
/// What the comparisons share: the scratch database (created on the target's server, migrated, filled by loadgen
/// as far as a comparison needs), psql and pgbench pointed at it, and the options.
/// </summary>
internal sealed class BenchContext : IAsyncDisposable
{
    private const long FirstSeed = 1001;

    private readonly NpgsqlDataSource _server;
    private readonly DateTimeOffset _until = new(DateTime.UtcNow.Date, TimeSpan.Zero);
    private readonly List<string> _notes = [];
    private readonly HashSet<string> _warm = [];

    private BenchContext(BenchOptions options, NpgsqlDataSource server, string connectionString, NpgsqlDataSource dataSource, PgTools tools, string serverVersion)
    {
        Options = options;
        _server = server;
        ConnectionString = connectionString;
        DataSource = dataSource;
        // The library's calls and the in-process API go through a pool of their own, as `serve`'s tenant pool: the
        // same settings without the reset (ConnectionSettings.ResetOnClose), which owner work such as the loads keeps.
        TenantTraffic = (ConnectionSettings.TenantTraffic with { MaxConnections = 200, MinConnections = 0, ConnectionTimeoutSeconds = 30 })
            .CreateDataSource(connectionString, "botstore-bench-tenants");
        Tools = tools;
        ServerVersion = serverVersion;
    }

    public BenchOptions Options { get; }

    /// <summary>The scratch database, as its owner (the target's user).</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The scratch database for the library's tenant calls, as <c>serve</c>'s tenant pool connects.</summary>
    public NpgsqlDataSource TenantTraffic { get; }

    /// <summary>Closes the idle connections of both pools, so that a side run next (pgbench, another pool) has them.</summary>
    public void ClearPools()
    {
        DataSource.Clear();
        TenantTraffic.Clear();
    }

    public string ConnectionString { get; }

    public PgTools Tools { get; }

    public string ServerVersion { get; }

    /// <summary>Messages loaded so far.</summary>
    public long Messages { get; private set; }

    /// <summary>Things the report should say (what was loaded, how long it took).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Progress lines for the person watching.</summary>
    public static void Say(string line) => Console.Error.WriteLine($"bench: {line}");

    /// <summary>
    /// True the first time a .NET side is named, when it should run untimed for <see cref="BenchOptions.WarmUp"/>
    /// before it is timed; compiled code stays compiled, so a later client count of the same side needs none.
    /// </summary>
    public bool NeedsWarmUp(string side) => _warm.Add(side);

    public void Note(string line)
    {
        _notes.Add(line);
        Say(line);
    }

    public static async Task<BenchContext> CreateAsync(BenchOptions options, NpgsqlDataSource server, string serverConnectionString, CancellationToken ct)
    {
        var name = options.ScratchDatabase;
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z_][a-z0-9_]{0,62}$"))
            throw new BotStoreValidationException($"scratch database name '{name}' must be lower-case letters, digits and underscores");
        if ((string?)await ServerScalarAsync(server, "SELECT current_database()", ct) == name)
            throw new BotStoreValidationException($"the scratch database cannot be the target database itself ({name}): choose another --scratch-db");
        var version = (string)(await ServerScalarAsync(server, "SELECT version()", ct))!;
        var exists = await ServerScalarAsync(server, $"SELECT 1 FROM pg_database WHERE datname = '{name}'", ct) is not null;
        if (exists && !options.Keep)
            await ServerScalarAsync(server, $"DROP DATABASE {name} WITH (FORCE)", ct);
        if (!exists || !options.Keep)
        {
            try
            {
                await ServerScalarAsync(server, $"CREATE DATABASE {name}", ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new BotStoreConfigurationException($"the bench creates a scratch database and this user may not (CREATEDB): {ex.MessageText}", ex);
            }
        }
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name, ApplicationName = "botstore-bench", MaxPoolSize = 200 }.ConnectionString;
        // The library's own settings (automatic preparation on direct connections), no idle minimum. 64 clients opening
        // their connections at once on a loaded 2-core machine took more than the seed's 5 s (`bench pooled` failed with
        // "The operation has timed out" twice at load average 20-30): the bench waits up to 30 s and measures only
        // after every client has its connection, as for PgBouncer's side.
        var dataSource = (ConnectionSettings.Default with { MaxConnections = 200, MinConnections = 0, ConnectionTimeoutSeconds = 30 })
            .CreateDataSource(connectionString, "botstore-bench");
        await new MigrationRunner(dataSource).MigrateAsync(ct);
        var context = new BenchContext(options, server, connectionString, dataSource, await PgTools.ForAsync(connectionString, ct), version);
        // A kept scratch database holds what its finished loads wrote.
        context.Messages = await context.ScalarAsync<long>("""
            SELECT COALESCE(sum((regexp_match(parameters, 'messages=([0-9]+)'))[1]::bigint), 0) FROM loadgen_progress WHERE finished_at IS NOT NULL
            """, ct, tolerateMissing: true);
        return context;
    }

    /// <summary>
    /// Grows the data set to <paramref name="messages"/> with loadgen (each growth step a seed of its own, spread
    /// over the same months), then VACUUM ANALYZE so every figure sees hint bits, visibility map and statistics
    /// as a settled production table has them.
    /// </summary>
    public async Task EnsureMessagesAsync(long messages, CancellationToken ct)
    {
        if (Messages >= messages)
            return;
        var seed = FirstSeed + await ScalarAsync<long>("SELECT count(*) FROM loadgen_progress WHERE finished_at IS NOT NULL", ct, tolerateMissing: true);
        var shape = BenchOptions.LoadShape(messages - Messages, seed, _until);
        Say($"loading {Counts.Format(shape.Messages)} messages ({shape.Describe()}, seed {seed})...");
        var result = await new LoadGenerator(DataSource).RunAsync(shape, null, ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await ExecuteAsync("VACUUM (ANALYZE)", ct);
        // The load and the vacuum leave gigabytes of dirty buffers at 10M; a checkpoint spreading them to disk during
        // the next measurement would time the load's aftermath, not the data set's size.
        await CheckpointAsync(ct);
        Messages = messages;
        Note(string.Create(CultureInfo.InvariantCulture,
            $"loadgen wrote {Counts.Format(shape.Messages)} messages ({result.Tables.Sum(t => t.RowsLoaded):N0} rows in all tables) in {result.Elapsed.TotalSeconds:0.0} s " +
            $"({shape.Messages / Math.Max(0.001, result.Elapsed.TotalSeconds):N0} messages/s); VACUUM ANALYZE and CHECKPOINT {clock.Elapsed.TotalSeconds:0.0} s; data set now {Counts.Format(messages)} messages"));
    }

    /// <summary>
    /// How many clients a throughput run may open now: max_connections less the superuser's reserve, the
    /// connections already open (the bench's own included) and a margin of 4. The bench's pools are emptied first.
    /// </summary>
    public async Task<(int Allowed, int MaxConnections)> ClientsAllowedAsync(CancellationToken ct)
    {
        ClearPools();
        var max = await ScalarAsync<int>("SELECT current_setting('max_connections')::int", ct);
        var free = await ScalarAsync<int>("""
            SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                   - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
            """, ct);
        return (Math.Max(1, free - 4), max);
    }

    /// <summary>
    /// Sessions with some history, the same ones for every tool and run (ordered by a hash of their id). The
    /// comparisons that append (append, pooled, crowd) write to these, from the start of the order.
    /// </summary>
    public Task<IReadOnlyList<BenchSession>> SessionsAsync(int count, CancellationToken ct) => SessionsAsync("""
        SELECT tenant_id, id, created_at FROM user_sessions WHERE message_count >= 10 ORDER BY hashtext(id::text) LIMIT $1
        """, count, ct);

    /// <summary>
    /// Sessions for reads only, whose shape no bench append has changed: the far end of <see cref="SessionsAsync"/>'s
    /// order (the writers take theirs from its start), and still as loadgen made them (last activity within a day of
    /// the start; an earlier run's appends, with --keep, move it to the day of that run). A history read of a session
    /// that appends have stretched to today reads every month from its start: pgbench's plain history SQL, bounded
    /// from below only, ran 20 times slower on the append comparison's sessions than on untouched ones.
    /// </summary>
    public Task<IReadOnlyList<BenchSession>> ReadOnlySessionsAsync(int count, CancellationToken ct) => SessionsAsync("""
        SELECT tenant_id, id, created_at FROM user_sessions
        WHERE message_count >= 10 AND last_activity_at < created_at + interval '1 day'
        ORDER BY hashtext(id::text) DESC LIMIT $1
        """, count, ct);

    private async Task<IReadOnlyList<BenchSession>> SessionsAsync(string sql, int count, CancellationToken ct)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = count });
        var sessions = new List<BenchSession>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            sessions.Add(new BenchSession(reader.GetInt64(0), reader.GetGuid(1), reader.GetFieldValue<DateTimeOffset>(2)));
        if (sessions.Count == 0)
            throw new BotStoreException("the data set has no session with 10 messages or more: load more messages");
        return sessions;
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct, bool tolerateMissing = false, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        try
        {
            var value = await cmd.ExecuteScalarAsync(ct);
            return value is null or DBNull ? default! : (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
        }
        catch (PostgresException ex) when (tolerateMissing && ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return default!;
        }
    }

    /// <summary>A CHECKPOINT between a load and a measurement, where the role may (pg_checkpoint or superuser).</summary>
    public async Task CheckpointAsync(CancellationToken ct)
    {
        try
        {
            await ExecuteAsync("CHECKPOINT", ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Without it the runs still alternate; only the WAL and dirty-buffer state at a run's start varies more.
        }
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TenantTraffic.DisposeAsync();
        if (!Options.Keep)
        {
            NpgsqlConnection.ClearAllPools();
            await ServerScalarAsync(_server, $"DROP DATABASE IF EXISTS {Options.ScratchDatabase} WITH (FORCE)", CancellationToken.None);
        }
    }

    // The name in these statements is checked against ^[a-z_][a-z0-9_]*$ first: DDL takes no parameters.
    private static async Task<object?> ServerScalarAsync(NpgsqlDataSource server, string sql, CancellationToken ct)
    {
        await using var cmd = server.CreateCommand(sql);
        return await cmd.ExecuteScalarAsync(ct);
    }
}
