namespace BotStore.Bench.Comparisons;

/// <summary>
/// Appends and history reads as an application makes them (the library's <c>MessageStore</c>, the HTTP API of an
/// in-process Kestrel) and as direct SQL from Npgsql, each against pgbench running the SQL of <see cref="Workloads"/>.
/// </summary>
internal sealed class AppendHistoryComparison : IComparison
{
    private const string Library = "library";
    private const string Api = "API";
    private const string DirectSql = "Npgsql SQL";
    private const string Prepared = "pgbench -M prepared";
    private const string Extended = "pgbench -M extended";

    public string Name => "append";

    public string Description =>
        $"Message append and session-history read (a page of 50, newest first) at each --clients count, appends over {Workloads.SessionCount} sessions and history over {Workloads.SessionCount} others that no append touches " +
        "(appends stretch a session to today, and the plain history SQL then reads every month from its start), " +
        "each side against pgbench -M prepared running the existing scripts (one CTE append: bump the session's message_count, insert the message; " +
        "history: SELECT ... LIMIT 50 on message_history; parsed once per connection, planned once when PostgreSQL keeps the generic plan: the best " +
        "PostgreSQL itself does with that SQL), with pgbench -M extended (parsed and planned at every execution) printed beside it as a ratio to -M prepared; " +
        "every side's runs alternating with the others', each .NET side run untimed for the warm-up (8 s, 1 s with --quick: tiered compilation) before its first run. Clients are capped to what the server's max_connections leaves free (the report says so). " +
        "library = MessageStore.AppendAsync / MessageStore.HistoryAsync from N concurrent tasks (one round trip each, as botstore_app under " +
        "row-level security; the append also checks the id and the session's time bounds, the history joins the session); " +
        "API = POST / GET /v1/sessions/{id}/messages on an in-process Kestrel (ServeApp on 127.0.0.1) from N concurrent tasks, " +
        "one HttpClient (SocketsHttpHandler) each, bearer token per tenant, latency per request; " +
        "Npgsql SQL = pgbench's very statement with parameters from Npgsql with the library's connection settings (automatic preparation; no target: " +
        "what the SQL costs from .NET). Ratio = side / pgbench -M prepared; throughput targets: library ≥ 0.8x, API ≥ 0.5x.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        await context.ExecuteAsync(Workloads.Uuid7Function, ct);
        var sessions = await context.SessionsAsync(Workloads.SessionCount, ct);
        // History reads sessions no append writes to: appends stretch a session's activity to today, and the plain
        // history SQL (bounded from below only) then reads every month from its start, which made pgbench's side
        // the weak one at 64 clients (after the 8-client appends).
        var readSessions = await context.ReadOnlySessionsAsync(Workloads.SessionCount, ct);
        context.Note($"append/history: history reads {readSessions.Count} sessions no bench append wrote to " +
            $"({readSessions.Count(s => sessions.Any(w => w.Id == s.Id))} shared with the appends' {sessions.Count})");
        await using var clients = await ConversationClients.StartAsync(context, [.. sessions, .. readSessions], ct);
        var figures = new List<Figure>();
        foreach (var asked in context.Options.Clients)
        {
            var (allowed, maxConnections) = await context.ClientsAllowedAsync(ct);
            var n = Math.Min(asked, allowed);
            if (n < asked)
                context.Note($"append/history: {asked} clients capped to {n}: the server's max_connections = {maxConnections} leaves no more free");
            var history = await CompareAsync(context, "history", n, readSessions, Workloads.HistoryScript, new()
            {
                [Library] = i => clients.LibraryHistory(readSessions, i),
                [Api] = i => clients.ApiHistory(readSessions, i),
            }, Workloads.History, clients, ct);
            var append = await CompareAsync(context, "append", n, sessions, Workloads.AppendScript, new()
            {
                [Library] = i => clients.LibraryAppend(sessions, i),
                [Api] = i => clients.ApiAppend(sessions, i),
            }, Workloads.Append, clients, ct);
            figures.AddRange(Figures($"history, {n} clients", history));
            figures.AddRange(Figures($"append, {n} clients", append));
        }
        return figures;
    }

    // Each run: every side once, the order turning from run to run. The sides on the shared pool run back to back,
    // on the connections the first of them opened (64 fresh backends, each planning its first statements, took
    // about 3 s a side on a stock server), and the pool is cleared before pgbench's: its idle connections would
    // count against max_connections. Which group goes first turns too.
    private static async Task<Dictionary<string, List<LoadRun>>> CompareAsync(BenchContext context, string what, int n,
        IReadOnlyList<BenchSession> sessions, Func<BenchSession, string> script, Dictionary<string, Func<int, Task<Func<Task>>>> sides,
        Func<Npgsql.NpgsqlConnection, IReadOnlyList<BenchSession>, int, Func<Task>> sql, ConversationClients clients, CancellationToken ct)
    {
        var duration = TimeSpan.FromSeconds(context.Options.Seconds);
        var scripts = sessions.Select(script).ToArray();
        var onPool = sides.Keys.Append(DirectSql).ToArray();
        string[] pgbench = [Prepared, Extended];
        var runs = onPool.Concat(pgbench).ToDictionary(name => name, _ => new List<LoadRun>());
        // Every .NET side runs untimed before its first timed run (BenchOptions.WarmUp says why).
        foreach (var name in onPool.Where(name => context.NeedsWarmUp($"{what}: {name}")))
        {
            BenchContext.Say($"{what}, {n} clients: warming up {name}, {context.Options.WarmUp.TotalSeconds:0} s, untimed");
            _ = name == DirectSql
                ? await LoadRun.NpgsqlAsync(context.DataSource, n, context.Options.WarmUp, (i, conn) => sql(conn, sessions, i), ct)
                : await LoadRun.ClientsAsync(n, context.Options.WarmUp, sides[name], ct, context.TenantTraffic);
            clients.CloseClients();
        }
        for (var run = 0; run < context.Options.Runs; run++)
        {
            BenchContext.Say($"{what}, {n} clients, run {run + 1}/{context.Options.Runs}");
            var (first, second) = run % 2 == 0 ? (onPool, pgbench) : (pgbench, onPool);
            foreach (var name in Turn(first, run).Concat(Turn(second, run)))
            {
                if (name is Prepared or Extended)
                    context.ClearPools();
                runs[name].Add(name switch
                {
                    Prepared => await LoadRun.PgbenchAsync(context.Tools, scripts, n, duration, ct, "prepared"),
                    Extended => await LoadRun.PgbenchAsync(context.Tools, scripts, n, duration, ct, "extended"),
                    DirectSql => await LoadRun.NpgsqlAsync(context.DataSource, n, duration, (i, conn) => sql(conn, sessions, i), ct),
                    _ => await LoadRun.ClientsAsync(n, duration, sides[name], ct, context.TenantTraffic), // the library's and the API's pool
                });
                clients.CloseClients();
            }
        }
        context.ClearPools();
        return runs;
    }

    private static IEnumerable<string> Turn(string[] names, int run) => names.Select((_, k) => names[(k + run) % names.Length]);

    private IEnumerable<Figure> Figures(string what, Dictionary<string, List<LoadRun>> runs)
    {
        var pgbench = runs[Prepared];
        foreach (var (side, target) in new[] { (Library, (Target?)new Target(0.8, Better.Higher)), (Api, new Target(0.5, Better.Higher)), (DirectSql, null), (Extended, null) })
        {
            yield return new Figure(Name, $"{what}: throughput", "ops/s", side, new Sample(runs[side].Select(r => r.Throughput)),
                Prepared, new Sample(pgbench.Select(r => r.Throughput)), target);
            yield return new Figure(Name, $"{what}: p50", "ms", side, FlatnessComparison.Ms(runs[side], r => r.P50),
                Prepared, FlatnessComparison.Ms(pgbench, r => r.P50));
            yield return new Figure(Name, $"{what}: p99", "ms", side, FlatnessComparison.Ms(runs[side], r => r.P99),
                Prepared, FlatnessComparison.Ms(pgbench, r => r.P99));
        }
    }
}
