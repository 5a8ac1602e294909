using BotStore.Data;
using BotStore.Sharding;
using BotStore.Tooling.PgBouncer;
using System.Globalization;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// A crowd of connected bot workers through PgBouncer (issue 10: 2,000 client connections hold with zero errors;
/// the seed's 10,000 as a stretch): each worker the library's appends and history reads on a connection held for the
/// whole run, through a real PgBouncer in transaction mode with the seed's default_pool_size = 50; beside the same
/// work over direct connections, as many as the server takes.
/// </summary>
internal sealed partial class CrowdComparison : IComparison
{
    private const string Pooled = "via PgBouncer";
    private const string Direct = "direct";
    private const int SeedPoolSize = 50;
    private const int SeedMaxClientConn = 10_000;

    // The crowd measures connections, not the data set's size: a data set of more than this is not loaded for it.
    private const long MaxMessages = 1_000_000;

    public string Name => "crowd";

    public string Description =>
        "A crowd of --crowd bot workers (default 2,000; 100 with --quick), each a task of its own making the library's calls on a connection held " +
        "for the whole run: via PgBouncer = /usr/sbin/pgbouncer in transaction mode with the seed's settings (default_pool_size = 50, " +
        "max_client_conn = 10,000 or the crowd if larger), the library's data source over it with ThroughPgBouncer and a pool sized to the crowd " +
        "(its minimum too, so no connection closes during the run); the crowd connects at once (every connection opened and held until all are " +
        "open: the connect time), then each worker, on a conversation of its own, alternates MessageStore.AppendAsync and HistoryAsync (a page of " +
        "50, newest first) back to back for --seconds after one untimed call of each; throughput is calls/s, p50 and p99 per call. Direct = the same " +
        "work over direct connections with the library's direct settings, as many workers as the server takes (max_connections less the superuser " +
        "reserve, the connections open and a margin of 4; the notes say how many of the crowd): the server, not the client, is what PgBouncer " +
        "exists to spare. PgBouncer is stopped during the direct side (its server connections would take the direct side's slots) and started " +
        "again for the next run. Every error of either side is counted (a failed connection or call; the worker goes on): errors / calls, " +
        "summed over the runs, target 0. The bench first checks the open-file limit (PgBouncer needs max_client_conn plus its pool, this " +
        "process a socket per worker) and the local port range.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var crowds = context.Options.Crowd;
        var largest = crowds.Max();
        var maxClientConn = MaxClientConn(crowds);
        CheckLimits(largest, maxClientConn, SeedPoolSize);
        await context.EnsureMessagesAsync(Math.Min(context.Options.Messages, MaxMessages), ct);
        var sessions = await context.SessionsAsync(largest, ct);
        if (sessions.Count < largest)
            context.Note($"crowd: {sessions.Count:N0} sessions with 10 messages or more for {largest:N0} workers: workers share them (i mod {sessions.Count:N0}), so some appends wait for a session's row lock");
        var figures = new List<Figure>();
        foreach (var crowd in crowds)
            figures.AddRange(await MeasureAsync(context, crowd, maxClientConn, sessions, ct));
        return figures;
    }

    // The seed's max_client_conn, or the largest crowd when it is larger.
    private static int MaxClientConn(IReadOnlyList<int> crowds) => Math.Max(SeedMaxClientConn, crowds.Max());

    private async Task<IEnumerable<Figure>> MeasureAsync(BenchContext context, int crowd, int maxClientConn, IReadOnlyList<BenchSession> sessions, CancellationToken ct)
    {
        var (allowed, maxConnections) = await context.ClientsAllowedAsync(ct);
        var poolSize = Math.Min(SeedPoolSize, allowed);
        var direct = Math.Min(crowd, allowed);
        var sizing = $"{allowed} connections free for the bench (max_connections = {maxConnections}, less the superuser reserve, those open and a margin of 4): " +
            $"PgBouncer's default_pool_size {poolSize}{(poolSize < SeedPoolSize ? $" (the seed's {SeedPoolSize} does not fit)" : "")}, max_client_conn {maxClientConn:N0}; " +
            (direct < crowd
                ? $"the direct side runs {direct:N0} workers, all the server takes: {crowd:N0} direct connections would need max_connections ≥ {maxConnections - allowed + crowd:N0}"
                : "the direct side runs the whole crowd");
        context.Note($"crowd {crowd:N0}: {sizing}");
        var duration = TimeSpan.FromSeconds(context.Options.Seconds);
        var pooledRuns = new List<CrowdRun>();
        var directRuns = new List<CrowdRun>();
        for (var run = 0; run < context.Options.Runs; run++)
        {
            BenchContext.Say($"crowd of {crowd:N0} via PgBouncer, run {run + 1}/{context.Options.Runs}");
            pooledRuns.Add(await PooledAsync(context, crowd, poolSize, maxClientConn, sessions, duration, ct));
            BenchContext.Say($"crowd: {Summary(pooledRuns[^1])}");
            BenchContext.Say($"crowd of {direct:N0} direct, run {run + 1}/{context.Options.Runs}");
            directRuns.Add(await DirectAsync(context, direct, sessions, duration, ct));
            BenchContext.Say($"crowd: {Summary(directRuns[^1])}");
        }
        string Detail(IReadOnlyList<CrowdRun> runs)
        {
            var errors = runs.SelectMany(r => r.FirstErrors).Distinct().Take(5).ToList();
            return $"connections open at the end of each run {string.Join(", ", runs.Select(r => r.OpenAtEnd?.ToString("N0", CultureInfo.InvariantCulture) ?? "?"))} " +
                $"(of {runs[0].Clients:N0}); listen queue overflows while connecting (the machine's counter) {string.Join(", ", runs.Select(r => r.ListenOverflows?.ToString("N0", CultureInfo.InvariantCulture) ?? "?"))}; " +
                $"errors {runs.Sum(r => r.Errors):N0}{(errors.Count == 0 ? "" : "; first: " + string.Join(" / ", errors))}";
        }
        var p = $"{Pooled}, {crowd:N0} workers";
        var d = $"{Direct}, {direct:N0} workers";
        return
        [
            new Figure(Name, $"crowd {crowd:N0}: throughput", "calls/s", p, new Sample(pooledRuns.Select(r => r.Load.Throughput)), d, new Sample(directRuns.Select(r => r.Load.Throughput)),
                Note: sizing),
            new Figure(Name, $"crowd {crowd:N0}: p50", "ms", p, new Sample(pooledRuns.Select(r => r.Load.P50 / 1000)), d, new Sample(directRuns.Select(r => r.Load.P50 / 1000))),
            new Figure(Name, $"crowd {crowd:N0}: p99", "ms", p, new Sample(pooledRuns.Select(r => r.Load.P99 / 1000)), d, new Sample(directRuns.Select(r => r.Load.P99 / 1000))),
            new Figure(Name, $"crowd {crowd:N0}: time to connect", "s", p, new Sample(pooledRuns.Select(r => r.ConnectTime.TotalSeconds)), d, new Sample(directRuns.Select(r => r.ConnectTime.TotalSeconds))),
            Errors($"crowd {crowd:N0}: errors / calls {Pooled}, all runs", pooledRuns) with { Note = Detail(pooledRuns) },
            Errors($"crowd {crowd:N0}: errors / calls {Direct}, all runs", directRuns) with { Note = Detail(directRuns) },
        ];
    }

    // One figure over every run (a median would hide a run with errors): the errors against the calls, target none.
    private Figure Errors(string metric, IReadOnlyList<CrowdRun> runs) =>
        new(Name, metric, "", "errors", Sample.Of(runs.Sum(r => r.Errors)), "calls", Sample.Of(runs.Sum(r => r.Load.LatencyMicros.Length)), new Target(0, Better.Lower));

    private static async Task<CrowdRun> PooledAsync(BenchContext context, int crowd, int poolSize, int maxClientConn, IReadOnlyList<BenchSession> sessions,
        TimeSpan duration, CancellationToken ct)
    {
        await using var bouncer = await PgBouncerProcess.StartAsync(context.ConnectionString, poolSize, maxClientConnections: maxClientConn);
        await using var source = DataSource(bouncer.ConnectionString, crowd, throughPgBouncer: true, "botstore-bench-crowd");
        // The tenant traffic through PgBouncer, the owner's work (none here) direct: as PooledComparison and serve route it.
        var store = new MessageStore(new ShardRouter([new Shard(ShardRouter.DefaultShardName, source, context.DataSource)]));
        var run = await CrowdRun.RunAsync(source, store, sessions, crowd, duration, () => CrowdRun.EstablishedTo(bouncer.Port), ct);
        if (run.Errors > 0)
            context.Note($"crowd {crowd:N0} via PgBouncer: {run.Errors:N0} errors; PgBouncer's log ends: {LastLines(bouncer.Log)}");
        return run;
    }

    private static async Task<CrowdRun> DirectAsync(BenchContext context, int workers, IReadOnlyList<BenchSession> sessions, TimeSpan duration, CancellationToken ct)
    {
        await using var source = DataSource(context.ConnectionString, workers, throughPgBouncer: false, "botstore-bench-crowd-direct");
        var port = new NpgsqlConnectionStringBuilder(context.ConnectionString).Port;
        return await CrowdRun.RunAsync(source, new MessageStore(source), sessions, workers, duration, () => CrowdRun.EstablishedTo(port), ct);
    }

    // The library's settings with a pool of one connection per worker, kept open when idle, and a connect timeout that
    // grows with the crowd (all of it connects at once) so the connect time is measured, not cut off. Written into the
    // connection string: the bench's own (the target's, settings applied) already sets pool sizes and Timeout, and
    // ConnectionSettings fills in only what a connection string leaves out.
    private static NpgsqlDataSource DataSource(string connectionString, int workers, bool throughPgBouncer, string name) =>
        (ConnectionSettings.TenantTraffic with { ThroughPgBouncer = throughPgBouncer }).CreateDataSource(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = workers,
            MinPoolSize = workers,
            Timeout = Math.Min(1024, 30 + workers / 20),
        }.ConnectionString, name);

    private static string Summary(CrowdRun r) =>
        $"{r.Clients:N0} workers connected in {r.ConnectTime.TotalSeconds:0.0} s, {r.Load.Throughput:N0} calls/s, p50 {r.Load.P50 / 1000:0.0} ms, " +
        $"p99 {r.Load.P99 / 1000:0.0} ms, {r.Errors:N0} errors, {r.OpenAtEnd?.ToString(CultureInfo.InvariantCulture) ?? "?"} connections open at the end";

    private static string LastLines(string log) =>
        string.Join(" | ", log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(8));
}
