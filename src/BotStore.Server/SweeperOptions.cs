namespace BotStore.Server;

/// <summary>How often the expiry sweep runs and how many rows it handles per transaction (<c>BotStore:Sweeper</c>).</summary>
public sealed record SweeperOptions
{
    /// <summary>The time between two sweeps.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Rows per transaction.</summary>
    public int BatchSize { get; init; } = 1000;
}
