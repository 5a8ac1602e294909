using System.Globalization;
using BotStore.Data;
using BotStore.Tooling.LoadGeneration.Internal;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// The session-history read and the message append, as the same SQL for Npgsql (parameters, unprepared, like an
/// application's command) and for pgbench (one script per session with the values written in, sent with the
/// extended protocol: both are parsed and planned with the actual values on every execution).
/// </summary>
internal static class Workloads
{
    /// <summary>How many sessions the runs spread over (pgbench takes at most 128 scripts).</summary>
    public const int SessionCount = 128;

    public const string HistorySql = """
        SELECT id, message_index, role, message_type, content, created_at FROM message_history WHERE tenant_id = $1 AND session_id = $2 AND created_at >= $3 ORDER BY message_index DESC LIMIT 50
        """;

    // One statement: take the session's next index (locking its row, which serialises appends per session) and
    // insert the message. The id is a UUIDv7 made in SQL, so both tools run the very same text.
    public const string AppendSql = """
        WITH s AS (UPDATE user_sessions SET message_count = message_count + 1, last_activity_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING user_id, message_count - 1 AS message_index), n AS (SELECT bench_uuid7() AS id) INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, content) SELECT $1, uuid7_time(n.id), n.id, $2, s.user_id, s.message_index, $3, 0, $4 FROM s, n RETURNING message_index
        """;

    public const string Uuid7Function = """
        CREATE OR REPLACE FUNCTION bench_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
            SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(h, 14, 3) || substr(h, 17))::uuid
            FROM replace(gen_random_uuid()::text, '-', '') AS h
        $$
        """;

    public static readonly string AppendContent = Corpus.Slice(new SeededRandom(7, SeededRandom.Stream.Corpus), 200);

    public static string HistoryScript(BenchSession s) => Inline(HistorySql, Literal(s.TenantId), Literal(s.Id), Literal(s.CreatedAt));

    /// <summary>
    /// The history read exactly as <see cref="MessageStore.HistoryAsync"/> sends it for a page of 50, newest first
    /// (one statement: the function scopes the transaction itself), the values written in.
    /// </summary>
    public static string LibraryHistoryScript(BenchSession s) =>
        Inline(MessageStore.HistorySql, MessageStore.HistoryArgs(s.TenantId, s.Id, true, null, null, 50).Select(LiteralOf).ToArray());

    public static string AppendScript(BenchSession s) => Inline(AppendSql, Literal(s.TenantId), Literal(s.Id), "1", Literal(AppendContent));

    /// <summary>A client's history reads: a random session of the set each time, every row read.</summary>
    public static Func<Task> History(NpgsqlConnection conn, IReadOnlyList<BenchSession> sessions, int client)
    {
        var random = new Random(client);
        var cmd = new NpgsqlCommand(HistorySql, conn);
        var (tenant, session, since) = (new NpgsqlParameter<long>(), new NpgsqlParameter<Guid>(), new NpgsqlParameter<DateTimeOffset>());
        cmd.Parameters.Add(tenant);
        cmd.Parameters.Add(session);
        cmd.Parameters.Add(since);
        return async () =>
        {
            var s = sessions[random.Next(sessions.Count)];
            (tenant.TypedValue, session.TypedValue, since.TypedValue) = (s.TenantId, s.Id, s.CreatedAt);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                _ = reader.GetString(4);
        };
    }

    /// <summary>A client's appends: one message to a random session of the set each time.</summary>
    public static Func<Task> Append(NpgsqlConnection conn, IReadOnlyList<BenchSession> sessions, int client)
    {
        var random = new Random(client);
        var cmd = new NpgsqlCommand(AppendSql, conn);
        var (tenant, session) = (new NpgsqlParameter<long>(), new NpgsqlParameter<Guid>());
        cmd.Parameters.Add(tenant);
        cmd.Parameters.Add(session);
        cmd.Parameters.Add(new NpgsqlParameter<short> { TypedValue = 1 });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = AppendContent });
        return async () =>
        {
            var s = sessions[random.Next(sessions.Count)];
            (tenant.TypedValue, session.TypedValue) = (s.TenantId, s.Id);
            await cmd.ExecuteScalarAsync();
        };
    }

    /// <summary>Throughput and latency of Npgsql and of pgbench, alternating run by run so both see the same noise.</summary>
    public static async Task<(List<LoadRun> Npgsql, List<LoadRun> Pgbench)> CompareAsync(BenchContext context, string what, int clients,
        IReadOnlyList<BenchSession> sessions, Func<NpgsqlConnection, IReadOnlyList<BenchSession>, int, Func<Task>> operation,
        Func<BenchSession, string> script, CancellationToken ct)
    {
        var duration = TimeSpan.FromSeconds(context.Options.Seconds);
        var scripts = sessions.Select(script).ToArray();
        var (npgsql, pgbench) = (new List<LoadRun>(), new List<LoadRun>());
        // The .NET side runs untimed before its first timed run (BenchOptions.WarmUp says why).
        if (context.NeedsWarmUp($"Npgsql {what}"))
            _ = await LoadRun.NpgsqlAsync(context.DataSource, clients, context.Options.WarmUp, (i, conn) => operation(conn, sessions, i), ct);
        for (var run = 0; run < context.Options.Runs; run++)
        {
            BenchContext.Say($"{what}, {clients} clients, run {run + 1}/{context.Options.Runs}");
            npgsql.Add(await LoadRun.NpgsqlAsync(context.DataSource, clients, duration, (i, conn) => operation(conn, sessions, i), ct));
            pgbench.Add(await LoadRun.PgbenchAsync(context.Tools, scripts, clients, duration, ct));
        }
        return (npgsql, pgbench);
    }

    private static string Inline(string sql, params string[] values)
    {
        // $10 before $1: replace the highest numbers first.
        for (var i = values.Length; i >= 1; i--)
            sql = sql.Replace("$" + i.ToString(CultureInfo.InvariantCulture), values[i - 1], StringComparison.Ordinal);
        return sql + ";";
    }

    private static string LiteralOf(object? value) => value switch
    {
        null => "NULL",
        long l => Literal(l),
        int i => i.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Guid g => Literal(g),
        DateTimeOffset t => Literal(t),
        string text => Literal(text),
        _ => throw new ArgumentException($"no SQL literal for {value.GetType().Name}", nameof(value)),
    };

    private static string Literal(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Literal(Guid value) => $"'{value}'";

    private static string Literal(DateTimeOffset value) => $"'{value.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
