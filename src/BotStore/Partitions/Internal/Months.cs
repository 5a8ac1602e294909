namespace BotStore.Partitions.Internal;

/// <summary>UTC calendar months, as partition bounds use them (the first day of a month at 00:00 UTC).</summary>
internal static class Months
{
    /// <summary>The first day of the UTC month holding <paramref name="instant"/>.</summary>
    public static DateOnly Of(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        return new DateOnly(utc.Year, utc.Month, 1);
    }

    /// <summary>The first day of the current UTC month.</summary>
    public static DateOnly Current(TimeProvider clock) => Of(clock.GetUtcNow());

    /// <summary>The month's first instant, 00:00 UTC.</summary>
    public static DateTimeOffset Start(DateOnly month) => new(month.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>Whole months from <paramref name="from"/> to <paramref name="to"/> (both first days of a month).</summary>
    public static int Between(DateOnly from, DateOnly to) => (to.Year - from.Year) * 12 + to.Month - from.Month;
}
