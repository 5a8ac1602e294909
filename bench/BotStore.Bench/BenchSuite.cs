using System.Diagnostics;
using BotStore.Bench.Comparisons;

namespace BotStore.Bench;

/// <summary>What one run of the suite measured, for the report.</summary>
internal sealed record BenchReport(DateTimeOffset Started, TimeSpan Elapsed, BenchOptions Options, string ServerVersion,
    IReadOnlyList<IComparison> Comparisons, IReadOnlyList<Figure> Figures, IReadOnlyList<string> Notes,
    IReadOnlyDictionary<string, string> Failures, string? Remark);

/// <summary>The comparisons, in the order <c>bench all</c> runs them, and the runner.</summary>
internal static class BenchSuite
{
    /// <summary>
    /// Flatness first: it measures at a tenth of the data set before loading the rest, which the others then use;
    /// append last of those that read the data set, since it adds to it; partitions, ingest and convert use tables of their own.
    /// </summary>
    public static IReadOnlyList<IComparison> All { get; } =
    [
        new FlatnessComparison(),
        new StorageComparison(),
        new EnumsComparison(),
        new BrinComparison(),
        new AppendHistoryComparison(),
        new PooledComparison(),
        new PartitionsComparison(),
        new IngestComparison(),
        new ConvertComparison(),
    ];

    /// <summary>
    /// Comparisons with a verb of their own that <c>bench all</c> does not run: the crowd opens thousands of
    /// connections and takes minutes even when small (bench/README.md).
    /// </summary>
    public static IReadOnlyList<IComparison> Separate { get; } =
    [
        new CrowdComparison(),
    ];

    /// <summary>Runs each comparison; one that fails is reported and the others still run.</summary>
    public static async Task<BenchReport> RunAsync(BenchContext context, IReadOnlyList<IComparison> comparisons, string? remark, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var figures = new List<Figure>();
        var failures = new Dictionary<string, string>();
        foreach (var comparison in comparisons)
        {
            BenchContext.Say($"{comparison.Name}...");
            var timer = Stopwatch.StartNew();
            try
            {
                figures.AddRange(await comparison.RunAsync(context, ct));
                context.Note($"{comparison.Name} took {timer.Elapsed.TotalSeconds:0} s");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures[comparison.Name] = ex.Message.ReplaceLineEndings(" ");
                BenchContext.Say($"{comparison.Name} FAILED: {ex.Message}");
                if (Environment.GetEnvironmentVariable("BOTSTORE_DEBUG") == "1")
                    BenchContext.Say(ex.ToString());
            }
        }
        return new BenchReport(started, clock.Elapsed, context.Options, context.ServerVersion, comparisons, figures, context.Notes, failures, remark);
    }
}
