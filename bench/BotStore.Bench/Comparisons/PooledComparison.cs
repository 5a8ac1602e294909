using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Sharding;
using BotStore.Tooling.PgBouncer;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// The hot path through PgBouncer in transaction mode (the pooled deployment of issue 10): the library's appends and
/// history reads with tenant traffic through a real PgBouncer, against pgbench -M prepared running the same SQL
/// directly; and the cost of the tenant fence, the scope statement with and without botstore_enter_tenant.
/// </summary>
internal sealed partial class PooledComparison : IComparison
{
    private const string Pooled = "library via PgBouncer";
    private const string Direct = "library direct";
    private const string Prepared = "pgbench -M prepared";
    private const string PreparedLibrary = "pgbench -M prepared, library SQL";
    private const string Extended = "pgbench -M extended";
    private const string WithFence = "scope + fence";
    private const string WithoutFence = "scope alone";
    private const int SeedPoolSize = 50;
    private const int MinPool = 4;

    public string Name => "pooled";

    public string Description =>
        "The hot path through PgBouncer (/usr/sbin/pgbouncer, transaction mode, default_pool_size = 50, the seed's other settings): " +
        "library via PgBouncer = MessageStore.HistoryAsync / AppendAsync over a ShardRouter whose tenant traffic goes through PgBouncer " +
        "(ThroughPgBouncer: nothing prepared by the client, no reset; history and mark-read are PL/pgSQL functions whose plans each server " +
        "connection caches); library direct = the same over a direct pool (automatic preparation); both against pgbench -M prepared running " +
        "the append and history SQL directly (the best PostgreSQL does with that SQL), and for the history also the library's own statements " +
        "(scope + botstore_session_history, one pipeline, as the store sends them): every side against the stronger of the two, the other printed " +
        "against it; with pgbench -M extended (parsed and planned at every execution, as any statement through PgBouncer 1.18 is) beside them; " +
        "the sides' order turns from run to run; both library sides run untimed for the warm-up (8 s, 1 s with --quick: tiered compilation) first. The history reads 128 sessions no bench append wrote to (appends stretch a session to today, and " +
        "the plain SQL, bounded from below only, then reads every month since its start); the appends go to the append comparison's 128. " +
        "Target: via PgBouncer ≥ 0.8x. " +
        "Fence: pgbench -M prepared running the tenant scope statement with botstore_enter_tenant (shared advisory lock + fence probe) " +
        "against the same statement without it: the fence's cost per transaction. " +
        "PgBouncer's pool and the client counts are sized to the connections the server leaves free (the notes say how). " +
        "Planning: EXPLAIN (ANALYZE, BUFFERS) of the library's history and append calls against the plain SQL, on a server connection's " +
        "first statement and on a warm one (median of 20 calls), planned at every call as through PgBouncer; appends rolled back. " +
        "CPU per op: the machine's busy time (/proc/stat: every process, server, PgBouncer and client) and the bench process's, over each side's " +
        "whole run (set-up included), divided by its operations: on a machine the clients share with the server, what a side's client spends " +
        "is taken from the server.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        await context.ExecuteAsync(Workloads.Uuid7Function, ct);
        var sessions = await context.SessionsAsync(Workloads.SessionCount, ct);
        // The history reads sessions no append of this run or an earlier one wrote to (the append comparison and this
        // one's own appends go to `sessions`): appends stretch a session to today, and the plain history SQL, bounded
        // from below only, then reads every month since the session's start (181 against 3,648 ops/s at 10M).
        var readSessions = await context.ReadOnlySessionsAsync(Workloads.SessionCount, ct);
        context.Note($"pooled: history reads {readSessions.Count} sessions that no bench append wrote to (the far end of the appends' order, " +
            $"last activity within a day of their start, {readSessions.Count(s => sessions.Any(w => w.Id == s.Id))} shared with the appends' {sessions.Count}); appends go to the append comparison's {sessions.Count}");
        var (clients, poolSize) = await SizeAsync(context, ct);
        await using var bouncer = await PgBouncerProcess.StartAsync(context.ConnectionString, poolSize);
        // 64 clients opening their connections through PgBouncer at once on a loaded 2-core machine took more than the
        // seed's 5 s once (a CI run): the bench waits up to 30 s for a connection and measures only after opening.
        await using var pooledSource = (ConnectionSettings.Default with { MinConnections = 0, ThroughPgBouncer = true, ConnectionTimeoutSeconds = 30 })
            .CreateDataSource(bouncer.ConnectionString, "botstore-bench-pooled");
        var pooled = new MessageStore(new ShardRouter([new Shard(ShardRouter.DefaultShardName, pooledSource, context.DataSource)]));
        var direct = new MessageStore(context.TenantTraffic);
        var duration = TimeSpan.FromSeconds(context.Options.Seconds);
        var figures = new List<Figure>();
        foreach (var n in clients)
        {
            foreach (var (what, set, yardsticks, pooledSide, directSide) in new (string, IReadOnlyList<BenchSession>, (string, Func<BenchSession, string>)[], Func<int, Task<Func<Task>>>, Func<int, Task<Func<Task>>>)[]
            {
                ("history", readSessions, [(Prepared, Workloads.HistoryScript), (PreparedLibrary, Workloads.LibraryHistoryScript)],
                    i => ConversationClients.StoreHistory(pooled, readSessions, i), i => ConversationClients.StoreHistory(direct, readSessions, i)),
                ("append", sessions, [(Prepared, Workloads.AppendScript)],
                    i => ConversationClients.StoreAppend(pooled, sessions, i), i => ConversationClients.StoreAppend(direct, sessions, i)),
            })
            {
                var scripts = yardsticks.ToDictionary(y => y.Item1, y => set.Select(y.Item2).ToArray());
                var plain = scripts[Prepared];
                var names = yardsticks.Select(y => y.Item1).Concat([Pooled, Extended, Direct]).ToArray();
                var runs = names.ToDictionary(name => name, _ => new List<LoadRun>());
                var cpu = names.ToDictionary(name => name, _ => new List<(double Machine, double Process)>());
                // Both library sides run untimed before their first timed run (BenchOptions.WarmUp says why), outside
                // the CPU measurement.
                if (context.NeedsWarmUp($"pooled {what}"))
                {
                    BenchContext.Say($"pooled {what}, {n} clients: warming up the library sides, {context.Options.WarmUp.TotalSeconds:0} s each, untimed");
                    _ = await LoadRun.ClientsAsync(n, context.Options.WarmUp, pooledSide, ct, pooledSource);
                    _ = await LoadRun.ClientsAsync(n, context.Options.WarmUp, directSide, ct, context.TenantTraffic);
                    context.ClearPools();
                    pooledSource.Clear();
                }
                for (var run = 0; run < context.Options.Runs; run++)
                {
                    BenchContext.Say($"pooled {what}, {n} clients, run {run + 1}/{context.Options.Runs}");
                    // Every side once per run, the order turning from run to run, so all of them see the same noise.
                    for (var k = 0; k < names.Length; k++)
                    {
                        var name = names[(k + run) % names.Length];
                        var (measured, used) = await MachineCpu.MeasureAsync(() => SideAsync(name, name switch
                        {
                            Extended => () => LoadRun.PgbenchAsync(context.Tools, plain, n, duration, ct, "extended"),
                            Pooled => () => LoadRun.ClientsAsync(n, duration, pooledSide, ct, pooledSource),
                            Direct => () => LoadRun.ClientsAsync(n, duration, directSide, ct, context.TenantTraffic),
                            _ => () => LoadRun.PgbenchAsync(context.Tools, scripts[name], n, duration, ct, "prepared"),
                        }, name == Pooled ? () => LastLines(bouncer.Log) : null));
                        runs[name].Add(measured);
                        if (used is not null && measured.Throughput > 0)
                        {
                            var operations = measured.Throughput * duration.TotalSeconds;
                            cpu[name].Add((used.MachineSeconds * 1e6 / operations, used.ProcessSeconds * 1e6 / operations));
                        }
                        context.ClearPools();
                        pooledSource.Clear();
                    }
                }
                figures.AddRange(Figures($"{what}, {n} clients", runs, cpu, yardsticks.Select(y => y.Item1).ToArray()));
            }
        }
        figures.AddRange(await FenceAsync(context, sessions, duration, ct));
        figures.AddRange(await PlanningAsync(context, readSessions, ct));
        return figures;
    }

    // Every side against the strongest yardstick (pgbench -M prepared, by median throughput), the target on the side
    // through PgBouncer; a weaker yardstick is printed against the strongest, so both figures are in the report. Then
    // where the CPU went: the machine's per operation (server, PgBouncer and client together) against the strongest
    // yardstick's, and the bench process's own for the library's sides.
    private IEnumerable<Figure> Figures(string what, Dictionary<string, List<LoadRun>> runs, Dictionary<string, List<(double Machine, double Process)>> cpu,
        string[] yardsticks)
    {
        var strongest = yardsticks.MaxBy(y => new Sample(runs[y].Select(r => r.Throughput)).Median)!;
        var sides = new[] { Pooled, Direct, Extended }.Concat(yardsticks.Where(y => y != strongest));
        foreach (var side in sides)
        {
            yield return new Figure(Name, $"{what}: throughput", "ops/s", side, new Sample(runs[side].Select(r => r.Throughput)),
                strongest, new Sample(runs[strongest].Select(r => r.Throughput)), side == Pooled ? new Target(0.8, Better.Higher) : null);
            yield return new Figure(Name, $"{what}: p50", "ms", side, FlatnessComparison.Ms(runs[side], r => r.P50),
                strongest, FlatnessComparison.Ms(runs[strongest], r => r.P50));
            yield return new Figure(Name, $"{what}: p99", "ms", side, FlatnessComparison.Ms(runs[side], r => r.P99),
                strongest, FlatnessComparison.Ms(runs[strongest], r => r.P99));
        }
        if (cpu.Values.Any(c => c.Count == 0))
            yield break;
        foreach (var side in sides)
        {
            yield return new Figure(Name, $"{what}: machine CPU per op", "µs", side, new Sample(cpu[side].Select(c => c.Machine)),
                strongest, new Sample(cpu[strongest].Select(c => c.Machine)));
        }
        foreach (var side in new[] { Pooled, Direct })
            yield return new Figure(Name, $"{what}: bench process CPU per op", "µs", side, new Sample(cpu[side].Select(c => c.Process)));
    }

    /// <summary>
    /// The clients of each count and PgBouncer's pool, sized to what the server leaves free. PgBouncer keeps its server
    /// connections (server_idle_timeout 600 s) while pgbench and the direct pool run theirs, so the pool and the
    /// largest count must fit together: the count first (less a pool of at least <see cref="MinPool"/>), then the pool
    /// (the seed's 50 at most) from what is left. A stock max_connections = 100 server (97 for clients, less those
    /// open and a margin of 4) runs 64 clients beside a pool of 29.
    /// </summary>
    private static async Task<(IReadOnlyList<int> Clients, int PoolSize)> SizeAsync(BenchContext context, CancellationToken ct)
    {
        var (allowed, max) = await context.ClientsAllowedAsync(ct);
        if (allowed <= MinPool)
            throw new BotStoreException($"bench pooled: the server has {allowed} connections free (max_connections = {max}); it needs at least {MinPool + 1}");
        var largest = Math.Min(context.Options.Clients.Max(), allowed - MinPool);
        var poolSize = Math.Min(SeedPoolSize, allowed - largest);
        var clients = context.Options.Clients.Select(c => Math.Min(c, largest)).Distinct().ToList();
        context.Note($"pooled: {allowed} connections free for the bench (max_connections = {max}, less the superuser reserve, those open and a margin " +
            $"of 4): PgBouncer's default_pool_size {poolSize}{(poolSize < SeedPoolSize ? $" (the seed's {SeedPoolSize} would not fit beside {largest} direct clients)" : "")}, " +
            $"clients {string.Join(", ", clients)}{(clients.SequenceEqual(context.Options.Clients) ? "" : $" (asked {string.Join(", ", context.Options.Clients)})")}");
        return (clients, poolSize);
    }

    // A failed run names its side (a timeout of one side once failed the comparison without saying which).
    private static async Task<LoadRun> SideAsync(string side, Func<Task<LoadRun>> run, Func<string>? context = null)
    {
        try
        {
            return await run();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            BenchContext.Say($"{side} failed: {ex}"); // the whole chain: a timeout alone does not say where it was met
            throw new BotStoreException($"{side}: {ex.Message}{(context is null ? "" : $" (PgBouncer's log ends: {context()})")}", ex);
        }
    }

    private static string LastLines(string log) =>
        string.Join(" | ", log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(8));

    // The scope statement as the stores send it, with the tenant inlined, with and without the fence.
    private async Task<IEnumerable<Figure>> FenceAsync(BenchContext context, IReadOnlyList<BenchSession> sessions, TimeSpan duration, CancellationToken ct)
    {
        var n = Math.Min(context.Options.Clients.Min(), (await context.ClientsAllowedAsync(ct)).Allowed);
        string Script(BenchSession s, bool fence) =>
            (fence ? TenantScope.ScopeSql : TenantScope.ScopeSql[..TenantScope.ScopeSql.IndexOf(", botstore_enter_tenant", StringComparison.Ordinal)])
            .Replace("$1", $"'{s.TenantId}'", StringComparison.Ordinal) + ";";
        var with = new List<LoadRun>();
        var without = new List<LoadRun>();
        for (var run = 0; run < context.Options.Runs; run++)
        {
            BenchContext.Say($"fence, {n} clients, run {run + 1}/{context.Options.Runs}");
            with.Add(await LoadRun.PgbenchAsync(context.Tools, sessions.Select(s => Script(s, true)).ToArray(), n, duration, ct, "prepared"));
            without.Add(await LoadRun.PgbenchAsync(context.Tools, sessions.Select(s => Script(s, false)).ToArray(), n, duration, ct, "prepared"));
        }
        return
        [
            new Figure(Name, $"tenant scope, {n} clients: throughput", "tx/s", WithFence, new Sample(with.Select(r => r.Throughput)),
                WithoutFence, new Sample(without.Select(r => r.Throughput))),
            new Figure(Name, $"tenant scope, {n} clients: p50", "ms", WithFence, FlatnessComparison.Ms(with, r => r.P50),
                WithoutFence, FlatnessComparison.Ms(without, r => r.P50)),
        ];
    }
}
