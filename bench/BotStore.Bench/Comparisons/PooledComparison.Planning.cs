using System.Text.Json;
using BotStore.Data;
using BotStore.Data.Internal;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// What planning costs the hot statements when nothing is prepared (every statement through PgBouncer 1.18): the
/// library's calls (botstore_session_history, botstore_append_message: their inner statements are planned, or their
/// cached plans used, while the call runs) against the bench's plain SQL (what pgbench runs), on a server
/// connection's first statement and on a warm one. EXPLAIN (ANALYZE, BUFFERS) on a direct connection plans at
/// every call, as an unprepared statement is; appends are rolled back.
/// </summary>
internal sealed partial class PooledComparison
{
    private const string Library = "library call";
    private const string PlainSql = "plain SQL";
    private const int WarmCalls = 20;

    private sealed record Statement(string What, string Side, string Sql, Func<BenchSession, object?[]> Args, bool Scoped);

    private sealed record Cost(double PlanningBuffers, double TotalBuffers, double PlanningMs, double ExecutionMs);

    private static readonly Statement[] Statements =
    [
        new("history", Library, MessageStore.HistorySql, s => MessageStore.HistoryArgs(s.TenantId, s.Id, true, null, null, 50), Scoped: false),
        new("history", PlainSql, Workloads.HistorySql, s => [s.TenantId, s.Id, s.CreatedAt], Scoped: false),
        new("append", Library, MessageStore.AppendSql, s =>
        {
            var id = Uuid7.New();
            return [s.TenantId, s.Id, id, Uuid7.Timestamp(id), (short)1, (short)0, Workloads.AppendContent, JsonValues.Parameter((string?)null)];
        }, Scoped: false),
        new("append", PlainSql, Workloads.AppendSql, s => [s.TenantId, s.Id, (short)1, Workloads.AppendContent], Scoped: false),
    ];

    private async Task<IEnumerable<Figure>> PlanningAsync(BenchContext context, IReadOnlyList<BenchSession> sessions, CancellationToken ct)
    {
        var partitions = await context.ScalarAsync<long>(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'message_history'::regclass", ct);
        var unpooled = new NpgsqlConnectionStringBuilder(context.ConnectionString) { Pooling = false }.ConnectionString;
        var fresh = Statements.ToDictionary(s => s, _ => new List<Cost>());
        var warm = Statements.ToDictionary(s => s, _ => new List<Cost>());
        for (var run = 0; run < context.Options.Runs; run++)
        {
            BenchContext.Say($"planning of the hot statements, run {run + 1}/{context.Options.Runs}");
            foreach (var statement in Statements)
            {
                // Its own new server connection, so the statement is that connection's first (its catalog caches empty).
                await using var conn = new NpgsqlConnection(unpooled);
                await conn.OpenAsync(ct);
                var session = sessions[run % sessions.Count];
                fresh[statement].Add(await ExplainAsync(conn, statement, session, ct));
                var calls = new List<Cost>();
                for (var call = 0; call < WarmCalls; call++)
                    calls.Add(await ExplainAsync(conn, statement, sessions[(run + call + 1) % sessions.Count], ct));
                warm[statement].Add(new Cost(calls[^1].PlanningBuffers, calls[^1].TotalBuffers,
                    Median(calls.Select(c => c.PlanningMs)), Median(calls.Select(c => c.ExecutionMs))));
            }
        }
        var figures = new List<Figure>();
        var note = $"{partitions} partitions of message_history; EXPLAIN (ANALYZE, BUFFERS) planning at every call, as through PgBouncer";
        foreach (var what in Statements.Select(s => s.What).Distinct())
        {
            var library = Statements.Single(s => s.What == what && s.Side == Library);
            var sql = Statements.Single(s => s.What == what && s.Side == PlainSql);
            Sample Of(Dictionary<Statement, List<Cost>> costs, Statement s, Func<Cost, double> pick) => new(costs[s].Select(pick));
            figures.Add(new Figure(Name, $"{what}: buffers to plan and run, new server connection", "buffers", Library, Of(fresh, library, c => c.TotalBuffers),
                PlainSql, Of(fresh, sql, c => c.TotalBuffers), Note: note));
            figures.Add(new Figure(Name, $"{what}: buffers to plan and run, warm connection", "buffers", Library, Of(warm, library, c => c.TotalBuffers),
                PlainSql, Of(warm, sql, c => c.TotalBuffers)));
            figures.Add(new Figure(Name, $"{what}: plan and run, warm connection", "ms", Library, Of(warm, library, c => c.PlanningMs + c.ExecutionMs),
                PlainSql, Of(warm, sql, c => c.PlanningMs + c.ExecutionMs)));
            figures.Add(new Figure(Name, $"{what}, plain SQL: planning buffers", "buffers", "new server connection", Of(fresh, sql, c => c.PlanningBuffers),
                "warm connection", Of(warm, sql, c => c.PlanningBuffers)));
            figures.Add(new Figure(Name, $"{what}, plain SQL: planning against execution, new server connection", "ms", "planning", Of(fresh, sql, c => c.PlanningMs),
                "execution", Of(fresh, sql, c => c.ExecutionMs)));
            figures.Add(new Figure(Name, $"{what}, plain SQL: planning against execution, warm connection", "ms", "planning", Of(warm, sql, c => c.PlanningMs),
                "execution", Of(warm, sql, c => c.ExecutionMs)));
        }
        return figures;
    }

    // One EXPLAIN (ANALYZE, BUFFERS) in a transaction of its own, rolled back (appends write nothing).
    private static async Task<Cost> ExplainAsync(NpgsqlConnection conn, Statement statement, BenchSession session, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (statement.Scoped)
            await TenantScope.ApplyAsync(conn, session.TenantId, ct);
        await using var cmd = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.Sql, conn, tx);
        foreach (var arg in statement.Args(session))
            cmd.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg ?? DBNull.Value });
        using var plan = JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync(ct))!);
        await tx.RollbackAsync(ct);
        var root = plan.RootElement[0];
        static double Blocks(JsonElement e) =>
            e.TryGetProperty("Shared Hit Blocks", out var hit) ? hit.GetInt64() + e.GetProperty("Shared Read Blocks").GetInt64() : 0;
        var planning = root.TryGetProperty("Planning", out var p) ? Blocks(p) : 0;
        return new Cost(planning, planning + Blocks(root.GetProperty("Plan")),
            root.GetProperty("Planning Time").GetDouble(), root.GetProperty("Execution Time").GetDouble());
    }

    private static double Median(IEnumerable<double> values) => new Sample(values).Median;
}
