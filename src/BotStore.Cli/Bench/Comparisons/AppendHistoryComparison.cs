namespace BotStore.Cli.Bench.Comparisons;

/// <summary>
/// Appends and history reads through direct SQL from Npgsql against pgbench running the same SQL. The library's
/// and the API's own comparisons (targets 0.8x and 0.5x) slot in beside this one when they exist; the library
/// target is shown here, as direct SQL is what the library's calls cost at least.
/// </summary>
internal sealed class AppendHistoryComparison : IComparison
{
    public string Name => "append";

    public string Description =>
        $"Message append (one CTE: bump the session's message_count, insert the message) and session-history read, via direct SQL from Npgsql " +
        $"vs pgbench running the same SQL, at each --clients count over {Workloads.SessionCount} sessions. Ratio = Npgsql / pgbench; " +
        "throughput target ≥ 0.8x (the library's; the API's 0.5x comes with its own comparison).";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        await context.ExecuteAsync(Workloads.Uuid7Function, ct);
        var sessions = await context.SessionsAsync(Workloads.SessionCount, ct);
        var figures = new List<Figure>();
        foreach (var clients in context.Options.Clients)
        {
            var history = await Workloads.CompareAsync(context, "history", clients, sessions, Workloads.History, Workloads.HistoryScript, ct);
            var append = await Workloads.CompareAsync(context, "append", clients, sessions, Workloads.Append, Workloads.AppendScript, ct);
            figures.AddRange(Figures($"history, {clients} clients", history));
            figures.AddRange(Figures($"append, {clients} clients", append));
        }
        return figures;
    }

    private IEnumerable<Figure> Figures(string what, (List<LoadRun> Npgsql, List<LoadRun> Pgbench) runs)
    {
        yield return new Figure(Name, $"{what}: throughput", "ops/s", "Npgsql", new Sample(runs.Npgsql.Select(r => r.Throughput)),
            "pgbench", new Sample(runs.Pgbench.Select(r => r.Throughput)), new Target(0.8, Better.Higher));
        yield return new Figure(Name, $"{what}: p50", "ms", "Npgsql", FlatnessComparison.Ms(runs.Npgsql, r => r.P50),
            "pgbench", FlatnessComparison.Ms(runs.Pgbench, r => r.P50));
        yield return new Figure(Name, $"{what}: p99", "ms", "Npgsql", FlatnessComparison.Ms(runs.Npgsql, r => r.P99),
            "pgbench", FlatnessComparison.Ms(runs.Pgbench, r => r.P99));
    }
}
