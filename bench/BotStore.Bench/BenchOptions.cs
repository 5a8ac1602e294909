namespace BotStore.Bench;

/// <summary>How big and how long the suite runs.</summary>
/// <param name="Messages">Messages in the data set the comparisons query (flatness measures at a tenth of it, then at it).</param>
/// <param name="Quick">The quick variant: small data, 2 short runs.</param>
/// <param name="Runs">Runs behind each median.</param>
/// <param name="Seconds">Length of each throughput run.</param>
/// <param name="IngestRows">Rows per ingest run.</param>
/// <param name="Clients">Client counts of the throughput comparisons.</param>
/// <param name="OutputDirectory">Where the report and chart go.</param>
/// <param name="ScratchDatabase">The database the suite creates on the target server (and drops after, unless kept).</param>
/// <param name="Keep">Keep the scratch database; a later run with the same sizes reuses its data.</param>
internal sealed record BenchOptions(long Messages, bool Quick, int Runs, double Seconds, long IngestRows, IReadOnlyList<int> Clients,
    string OutputDirectory, string ScratchDatabase, bool Keep)
{
    public const long FullMessages = 10_000_000;

    /// <summary>Workers of <c>bench crowd</c>: connected clients, one run per count (2,000, or 100 with --quick).</summary>
    public IReadOnlyList<int> Crowd { get; init; } = [2000];

    public const long QuickMessages = 100_000;

    /// <summary>
    /// The server on half of this machine's cores, the bench and its tools on the other half, as when the clients run
    /// on machines of their own (<see cref="CoreSplit"/>).
    /// </summary>
    public bool SplitCores { get; init; }

    /// <summary>
    /// How long each .NET side runs untimed before its first timed run (1 s with --quick, else 8 s). The runtime
    /// compiles hot code in tiers, in the background: on this machine's two cores, shared with the server, a cold
    /// library history side (8 clients) read 1,000-1,600 pages/s in its first second and reached its steady 6,000-7,000
    /// only after 6 to 10 s, most of a 10 s run: its first run was the slow one of each pair (spreads of 23-36%).
    /// pgbench has nothing to warm.
    /// </summary>
    public TimeSpan WarmUp => TimeSpan.FromSeconds(Quick ? 1 : 8);

    /// <summary>The data set's shape for a number of messages: 100 messages per user, 100 users per tenant.</summary>
    public static Tooling.LoadGeneration.LoadOptions LoadShape(long messages, long seed, DateTimeOffset until) => new()
    {
        Messages = messages,
        Users = (int)Math.Max(10, messages / 100),
        Tenants = (int)Math.Max(2, messages / 10_000),
        Months = 3,
        Seed = seed,
        Until = until,
    };
}
