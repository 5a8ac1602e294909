using System.Diagnostics;
using System.Text.Json;
using BotStore.Internal;
using BotStore.Tooling.LoadGeneration.Internal;
using Npgsql;

namespace BotStore.Tooling.LoadGeneration;

/// <summary>
/// Fills a BotStore database with a production-like data set: tenants of Zipf-like sizes, their bots, channels,
/// users and memories, then day by day (in time order, as production writes them) sessions, messages with a
/// realistic role mix and lengths, tasks in every status with their approvals, and analytics events. Writes with
/// binary COPY, one transaction per batch of days; the progress of each seed is kept in <c>loadgen_progress</c>,
/// so an interrupted load continues where it stopped and, like an uninterrupted one, writes exactly the rows the
/// options and seed define. Run it as the database owner: it is an administration tool, not an application path.
/// </summary>
public sealed class LoadGenerator(NpgsqlDataSource dataSource)
{
    /// <summary>The session advisory lock ("loadgen") that keeps two loads of one database apart.</summary>
    internal const long LockKey = 0x6c6f616467656e;

    /// <summary>The tables a load writes, in the order it writes them.</summary>
    public static IReadOnlyList<string> Tables { get; } =
    [
        "tenants", "bots", "bot_channels", "users", "bot_memories",
        "user_sessions", "message_history", "auto_tasks", "task_approvals", "analytics_events",
    ];

    private static readonly string[] PartitionedTables = ["message_history", "analytics_events"];

    /// <summary>Generates (or finishes generating) the data set; the same options and seed always give the same rows.</summary>
    /// <exception cref="BotStoreValidationException">Bad options, or a load of this seed with other options was started here.</exception>
    /// <exception cref="BotStoreConflictException">Another load is running on this database.</exception>
    public Task<LoadResult> RunAsync(LoadOptions options, IProgress<LoadProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();
            // Rows carry millisecond times (a UUIDv7's precision); so does the anchor.
            options = options with { Until = DateTimeOffset.FromUnixTimeMilliseconds(options.Until.ToUnixTimeMilliseconds()) };
            var clock = Stopwatch.StartNew();
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            if (!await ScalarAsync<bool>(conn, "SELECT pg_try_advisory_lock($1)", ct, LockKey))
                throw new BotStoreConflictException("another loadgen run is writing to this database: wait for it to finish");
            try
            {
                return await LoadAsync(conn, options, progress, clock, ct);
            }
            finally
            {
                await ScalarAsync<bool>(conn, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey);
            }
        });

    private static async Task<LoadResult> LoadAsync(NpgsqlConnection conn, LoadOptions options, IProgress<LoadProgress>? progress,
        Stopwatch clock, CancellationToken ct)
    {
        if (await ScalarAsync<string?>(conn, "SELECT to_regclass('message_history')::text", ct) is null)
            throw new BotStoreConfigurationException("the database has no BotStore schema: run 'botstore migrate' first");
        await ExecuteAsync(conn, """
            CREATE TABLE IF NOT EXISTS loadgen_progress (
                seed        BIGINT PRIMARY KEY,
                parameters  TEXT NOT NULL,
                tenant_base BIGINT NOT NULL,
                next_day    INTEGER NOT NULL,
                days        INTEGER NOT NULL,
                counts      JSONB NOT NULL,
                started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                finished_at TIMESTAMPTZ
            )
            """, ct);
        var saved = await ReadProgressAsync(conn, options.Seed, ct);
        var parameters = options.Describe();
        if (saved is not null && saved.Parameters != parameters)
            throw new BotStoreValidationException(
                $"this database holds a load of seed {options.Seed} with {saved.Parameters}: run it again with those parameters (it resumes or does nothing), or use another --seed");
        if (saved is { Finished: true })
            return new LoadResult($"{parameters} seed={options.Seed}", false, true, await SizesAsync(conn, saved.Counts, ct), clock.Elapsed);

        var tenantBase = saved?.TenantBase ?? await ScalarAsync<long>(conn,
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM tenant_id_seq", ct);
        var logicalFrom = await ScalarAsync<int>(conn, "SELECT logical_from FROM shard_identity", ct);
        var logicalTo = await ScalarAsync<int>(conn, "SELECT logical_to FROM shard_identity", ct);
        var plan = new DataPlan(options, tenantBase, logicalFrom, logicalTo);
        var directory = new DirectoryGenerator(plan);
        var conversations = new ConversationGenerator(plan, directory);
        var taskGenerator = new TaskGenerator(plan);
        var counts = saved?.Counts ?? Tables.ToDictionary(t => t, _ => 0L);

        await CreatePartitionsAsync(conn, plan, ct);
        if (saved is null)
        {
            progress?.Report(new LoadProgress("directory", 0, options.Messages, 0, plan.Days));
            await using var tx = await conn.BeginTransactionAsync(ct);
            counts["tenants"] = await Copy.Tenants.WriteAsync(conn, directory.Tenants(), ct);
            counts["bots"] = await Copy.Bots.WriteAsync(conn, directory.Bots(), ct);
            counts["bot_channels"] = await Copy.BotChannels.WriteAsync(conn, directory.BotChannels(), ct);
            counts["users"] = await Copy.Users.WriteAsync(conn, directory.Users(), ct);
            counts["bot_memories"] = await Copy.Memories.WriteAsync(conn, directory.Memories(), ct);
            // Tenants created later (botstore tenants create) continue after the generated ones.
            await ScalarAsync<long>(conn, "SELECT setval('tenant_id_seq', $1)", ct, tenantBase + options.Tenants);
            await ExecuteAsync(conn, """
                INSERT INTO loadgen_progress (seed, parameters, tenant_base, next_day, days, counts) VALUES ($1, $2, $3, 0, $4, $5::jsonb)
                """, ct, options.Seed, parameters, tenantBase, plan.Days, JsonSerializer.Serialize(counts));
            await tx.CommitAsync(ct);
        }

        var day = saved?.NextDay ?? 0;
        var messagesDone = plan.MessagesPerDay.Take(day).Sum();
        while (day < plan.Days)
        {
            var end = day;
            long batch = 0;
            while (end < plan.Days && (end == day || batch + plan.MessagesPerDay[end] <= options.BatchMessages))
                batch += plan.MessagesPerDay[end++];

            await using var tx = await conn.BeginTransactionAsync(ct);
            var sessionsByDay = Enumerable.Range(day, end - day).Select(conversations.Sessions).ToList();
            var sessions = sessionsByDay.SelectMany(s => s).ToList();
            counts["user_sessions"] += await Copy.Sessions.WriteAsync(conn, sessions.Select(s => s.Row), ct);
            var events = new List<EventRow>();
            var before = messagesDone;
            counts["message_history"] += await Copy.Messages.WriteAsync(conn, sessions.SelectMany(s => conversations.Messages(s, events)),
                ct, written => progress?.Report(new LoadProgress("conversations", before + written, options.Messages, day, plan.Days)));
            var work = sessionsByDay.Select((s, i) => taskGenerator.Tasks(day + i, s)).ToList();
            counts["auto_tasks"] += await Copy.Tasks.WriteAsync(conn, work.SelectMany(w => w.Tasks), ct);
            counts["task_approvals"] += await Copy.Approvals.WriteAsync(conn, work.SelectMany(w => w.Approvals), ct);
            counts["analytics_events"] += await Copy.Events.WriteAsync(conn, events, ct);
            await ExecuteAsync(conn, "UPDATE loadgen_progress SET next_day = $2, counts = $3::jsonb, updated_at = now() WHERE seed = $1",
                ct, options.Seed, end, JsonSerializer.Serialize(counts));
            await tx.CommitAsync(ct);
            messagesDone += batch;
            day = end;
            progress?.Report(new LoadProgress("conversations", messagesDone, options.Messages, day, plan.Days));
        }

        await ExecuteAsync(conn, "UPDATE loadgen_progress SET finished_at = now(), updated_at = now() WHERE seed = $1", ct, options.Seed);
        // Fresh statistics, so the first queries on the new data are planned as they will be in steady state.
        await ExecuteAsync(conn, $"ANALYZE {string.Join(", ", Tables)}", ct);
        return new LoadResult($"{parameters} seed={options.Seed}", saved is not null, false, await SizesAsync(conn, counts, ct), clock.Elapsed);
    }

    /// <summary>Each UTC month the data touches gets its partitions first, so no row lands in a default partition.</summary>
    private static async Task CreatePartitionsAsync(NpgsqlConnection conn, DataPlan plan, CancellationToken ct)
    {
        var month = new DateTime(plan.Start.UtcDateTime.Year, plan.Start.UtcDateTime.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        for (; month < plan.Options.Until.UtcDateTime; month = month.AddMonths(1))
        {
            foreach (var table in PartitionedTables)
                await ExecuteAsync(conn, "SELECT create_monthly_partition($1, $2)", ct, table, DateOnly.FromDateTime(month));
        }
    }

    private sealed record SavedProgress(string Parameters, long TenantBase, int NextDay, Dictionary<string, long> Counts, bool Finished);

    private static async Task<SavedProgress?> ReadProgressAsync(NpgsqlConnection conn, long seed, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT parameters, tenant_base, next_day, counts::text, finished_at IS NOT NULL FROM loadgen_progress WHERE seed = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = seed });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return null;
        return new SavedProgress(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2),
            JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(3))!, reader.GetBoolean(4));
    }

    private static async Task<IReadOnlyList<LoadedTable>> SizesAsync(NpgsqlConnection conn, Dictionary<string, long> counts, CancellationToken ct)
    {
        var result = new List<LoadedTable>();
        foreach (var table in Tables)
        {
            var bytes = await ScalarAsync<long>(conn,
                """
                SELECT pg_total_relation_size($1::regclass)
                     + COALESCE((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass) WHERE relid <> $1::regclass), 0)::bigint
                """, ct, table);
            result.Add(new LoadedTable(table, counts.GetValueOrDefault(table), bytes));
        }
        return result;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is DBNull or null ? default! : (T)value;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
