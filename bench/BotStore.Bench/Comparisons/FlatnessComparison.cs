using BotStore.Tooling;

namespace BotStore.Bench.Comparisons;

/// <summary>Session-history latency at a tenth of the data set and at all of it: an index-bound read should not notice.</summary>
internal sealed class FlatnessComparison : IComparison
{
    private const int Clients = 8;

    public string Name => "flatness";

    public string Description =>
        $"Session-history p99 (the history SQL, {Clients} clients, {Workloads.SessionCount} sessions) with the data set at a tenth of --messages and at --messages (the same sessions, picked at a tenth), " +
        "each through Npgsql (run untimed for the warm-up first: 8 s, 1 s with --quick) and through pgbench. Ratio = p99 at full size / p99 at a tenth; target ≤ 1.5x.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var full = context.Options.Messages;
        var small = Math.Max(1, full / 10);
        if (context.Messages > small)
        {
            context.Note($"flatness: the data set already holds {Counts.Format(context.Messages)} messages, so the small size is skipped");
            return [];
        }
        await context.EnsureMessagesAsync(small, ct);
        // The same sessions at both sizes: the reads then fetch the very same rows, and only the data around them
        // grows (sessions picked afresh at full size were others, of other lengths and ages, and moved p99 by more
        // than the data did).
        var sessions = await context.SessionsAsync(Workloads.SessionCount, ct);
        var atSmall = await MeasureAsync(context, sessions, ct);
        await context.EnsureMessagesAsync(full, ct);
        var atFull = await MeasureAsync(context, sessions, ct);
        var (smallLabel, fullLabel) = ($"at {Counts.Format(small)}", $"at {Counts.Format(full)}");
        var target = new Target(1.5, Better.Lower);
        return
        [
            new Figure(Name, "history p99, Npgsql", "ms", fullLabel, Ms(atFull.Npgsql, r => r.P99), smallLabel, Ms(atSmall.Npgsql, r => r.P99), target),
            new Figure(Name, "history p99, pgbench", "ms", fullLabel, Ms(atFull.Pgbench, r => r.P99), smallLabel, Ms(atSmall.Pgbench, r => r.P99), target),
            new Figure(Name, "history p50, Npgsql", "ms", fullLabel, Ms(atFull.Npgsql, r => r.P50), smallLabel, Ms(atSmall.Npgsql, r => r.P50)),
            new Figure(Name, "history p50, pgbench", "ms", fullLabel, Ms(atFull.Pgbench, r => r.P50), smallLabel, Ms(atSmall.Pgbench, r => r.P50)),
        ];
    }

    private static async Task<(List<LoadRun> Npgsql, List<LoadRun> Pgbench)> MeasureAsync(BenchContext context, IReadOnlyList<BenchSession> sessions,
        CancellationToken ct) =>
        await Workloads.CompareAsync(context, $"history at {Counts.Format(context.Messages)} messages", Clients, sessions,
            Workloads.History, Workloads.HistoryScript, ct);

    public static Sample Ms(IEnumerable<LoadRun> runs, Func<LoadRun, double> micros) => new(runs.Select(r => micros(r) / 1000));
}
