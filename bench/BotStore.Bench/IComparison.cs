namespace BotStore.Bench;

/// <summary>
/// One comparison of the suite. Adding one (the library's bulk ingest, the HTTP API) is a class implementing this
/// and a line in <see cref="BenchSuite.All"/>.
/// </summary>
internal interface IComparison
{
    /// <summary>The verb: <c>botstore bench &lt;name&gt;</c>.</summary>
    string Name { get; }

    /// <summary>What is compared with what, for the report.</summary>
    string Description { get; }

    /// <summary>Measures and returns the figures; each one a median of <see cref="BenchOptions.Runs"/> runs unless it is deterministic.</summary>
    Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct);
}
