namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>
/// The shape of a generated data set, derived from the options alone: how many users each tenant has (Zipf-like:
/// a few large tenants, a long tail of small ones), how many bots, and how many messages each day carries (a slow
/// growth and quieter weekends). Every count is allocated exactly, so the totals are the ones asked for.
/// </summary>
internal sealed class DataPlan
{
    private const double ZipfExponent = 1.07;
    private const long DayMs = 86_400_000;

    // Sessions start on a day of [Start, Until - 2 days): a session lasts under a day, so every row is before Until.
    private const int ReservedDays = 2;

    private readonly long[] _userStart;

    // Migration 0020's id formula: n * 1024 + a logical shard of the database's range.
    private const int LogicalShards = 1024;

    private readonly int _logicalFrom;
    private readonly int _logicalSpan;

    public DataPlan(LoadOptions options, long tenantBase, int logicalFrom = 0, int logicalTo = LogicalShards)
    {
        Options = options;
        TenantBase = tenantBase;
        _logicalFrom = logicalFrom;
        _logicalSpan = logicalTo - logicalFrom;
        Start = options.Until.AddMonths(-options.Months);
        Days = Math.Max(1, (int)(options.Until - Start).TotalDays - ReservedDays);

        var users = Allocate(options.Users, Enumerable.Range(0, options.Tenants).Select(t => Math.Pow(t + 1, -ZipfExponent)).ToArray(), 1);
        _userStart = new long[options.Tenants + 1];
        for (var t = 0; t < options.Tenants; t++)
            _userStart[t + 1] = _userStart[t] + users[t];
        BotsPerTenant = users.Select(u => (int)Math.Clamp(1 + Math.Floor(Math.Log2(1 + u / 50.0)), 1, 6)).ToArray();

        MessagesPerDay = Allocate(options.Messages, Enumerable.Range(0, Days).Select(d =>
        {
            var weekday = Start.AddDays(d).DayOfWeek;
            return (1.0 + 0.5 * d / Days) * (weekday is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.75 : 1.0);
        }).ToArray(), 0);
        TasksBefore = new long[Days + 1];
        for (var d = 0; d < Days; d++)
            TasksBefore[d + 1] = TasksBefore[d] + TasksOn(d);
    }

    public LoadOptions Options { get; }

    /// <summary>
    /// The position of the database's tenant_id_seq before the load: tenant t gets sequence number TenantBase + t + 1,
    /// turned into an id as botstore_next_tenant_id() does (migration 0020), so generated tenants carry a logical
    /// shard of this database's range and later tenants continue after them.
    /// </summary>
    public long TenantBase { get; }

    public DateTimeOffset Start { get; }

    public long StartMs => Start.ToUnixTimeMilliseconds();

    public long UntilMs => Options.Until.ToUnixTimeMilliseconds();

    /// <summary>The days sessions start on.</summary>
    public int Days { get; }

    public long[] MessagesPerDay { get; }

    public int[] BotsPerTenant { get; }

    /// <summary>Tasks created before day d: the first eight ever take the eight statuses, so each one occurs.</summary>
    public long[] TasksBefore { get; }

    public long DayStartMs(int day) => StartMs + day * DayMs;

    public long TenantId(int tenant)
    {
        var n = TenantBase + tenant + 1;
        return n * LogicalShards + _logicalFrom + n % _logicalSpan;
    }

    public int TasksOn(int day) => (int)Math.Round(MessagesPerDay[day] / 40.0);

    /// <summary>The users of a tenant are the ordinals [UserStart(t), UserStart(t + 1)).</summary>
    public long UserStart(int tenant) => _userStart[tenant];

    public int TenantOfUser(long user)
    {
        var i = Array.BinarySearch(_userStart, user);
        // An exact hit is a tenant's first user; otherwise the insertion point is one past the tenant.
        return i >= 0 ? i : ~i - 1;
    }

    /// <summary>
    /// Splits <paramref name="total"/> in proportion to <paramref name="weights"/> with at least
    /// <paramref name="minimum"/> each, by largest remainder, so the parts add up to the total exactly.
    /// </summary>
    public static long[] Allocate(long total, double[] weights, long minimum)
    {
        var parts = new long[weights.Length];
        var rest = total - minimum * weights.Length;
        var sum = weights.Sum();
        var remainders = new (double Remainder, int Index)[weights.Length];
        long given = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var exact = rest * weights[i] / sum;
            parts[i] = minimum + (long)Math.Floor(exact);
            given += parts[i] - minimum;
            remainders[i] = (exact - Math.Floor(exact), i);
        }
        foreach (var (_, i) in remainders.OrderByDescending(r => r.Remainder).ThenBy(r => r.Index).Take((int)(rest - given)))
            parts[i]++;
        return parts;
    }
}
