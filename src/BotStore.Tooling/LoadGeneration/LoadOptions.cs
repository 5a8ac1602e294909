using System.Globalization;

namespace BotStore.Tooling.LoadGeneration;

/// <summary>What <see cref="LoadGenerator"/> generates. The same options and seed give the same rows.</summary>
public sealed record LoadOptions
{
    /// <summary>Tenants, with a Zipf-like spread of users over them.</summary>
    public int Tenants { get; init; } = 100;

    /// <summary>Users across all tenants; every tenant has at least one.</summary>
    public int Users { get; init; } = 10_000;

    /// <summary>Messages across all sessions: exactly this many rows of <c>message_history</c>.</summary>
    public long Messages { get; init; } = 1_000_000;

    /// <summary>How many months before <see cref="Until"/> the data spans (one monthly partition each, or two).</summary>
    public int Months { get; init; } = 3;

    /// <summary>The seed of every random choice.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>
    /// The end of the generated history (every row is earlier). Part of what makes the data reproducible: the
    /// default, the start of today in UTC, gives the same data all day.
    /// </summary>
    public DateTimeOffset Until { get; init; } = new(DateTime.UtcNow.Date, TimeSpan.Zero);

    /// <summary>About how many messages one transaction writes: the unit an interrupted load loses and resumes from.</summary>
    public int BatchMessages { get; init; } = 100_000;

    /// <summary>The parameters that define the data, as one line: a resumed load must be given the same.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"tenants={Tenants} users={Users} messages={Messages} months={Months} until={Until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");

    internal void Validate()
    {
        if (Tenants < 1)
            throw new BotStoreValidationException($"tenants must be at least 1, not {Tenants}");
        if (Users < Tenants)
            throw new BotStoreValidationException($"users ({Users}) must be at least the number of tenants ({Tenants}): every tenant has a user");
        if (Messages < 0)
            throw new BotStoreValidationException($"messages must not be negative, not {Messages}");
        if (Months is < 1 or > 120)
            throw new BotStoreValidationException($"months must be between 1 and 120, not {Months}");
        if (BatchMessages < 1)
            throw new BotStoreValidationException($"batch size must be at least 1, not {BatchMessages}");
        if (Until > DateTimeOffset.UtcNow.AddDays(1))
            throw new BotStoreValidationException($"until ({Until:yyyy-MM-dd}) must not be in the future");
    }
}
