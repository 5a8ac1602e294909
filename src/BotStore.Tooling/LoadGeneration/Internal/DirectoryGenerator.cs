using System.Globalization;
using BotStore.Enums;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>One generated bot: its id and the channels it is reachable on.</summary>
internal sealed record BotInfo(int Tenant, int Index, BotRow Row, ChannelType[] Channels);

/// <summary>
/// The slowly changing rows loaded first: tenants, their bots and bot channels, users and memories. Each entity
/// is drawn from its own keyed stream, so a user's id can be recomputed from its ordinal when a session needs it.
/// </summary>
internal sealed class DirectoryGenerator
{
    private const long DayMs = 86_400_000;

    private readonly DataPlan _plan;
    private readonly long _seed;
    private readonly BotInfo[][] _bots;

    public DirectoryGenerator(DataPlan plan)
    {
        _plan = plan;
        _seed = plan.Options.Seed;
        _bots = Enumerable.Range(0, plan.Options.Tenants)
            .Select(t => Enumerable.Range(0, plan.BotsPerTenant[t]).Select(j => MakeBot(t, j)).ToArray())
            .ToArray();
    }

    public BotInfo[] BotsOf(int tenant) => _bots[tenant];

    public IEnumerable<TenantRow> Tenants()
    {
        for (var t = 0; t < _plan.Options.Tenants; t++)
        {
            var rng = new SeededRandom(_seed, SeededRandom.Stream.Tenant, t);
            var created = At(_plan.StartMs - rng.NextLong(1100 * DayMs) - 400 * DayMs);
            yield return new TenantRow(_plan.TenantId(t), created, !rng.Chance(0.03),
                string.Create(CultureInfo.InvariantCulture, $"{Corpus.Phrase(rng, 1, 3)} {t + 1}"));
        }
    }

    public IEnumerable<BotRow> Bots() => _bots.SelectMany(b => b).Select(b => b.Row);

    public IEnumerable<BotChannelRow> BotChannels() => _bots.SelectMany(b => b).SelectMany(bot =>
    {
        var rng = new SeededRandom(_seed, SeededRandom.Stream.BotChannel, bot.Tenant, bot.Index);
        return bot.Channels.Select(c => new BotChannelRow(bot.Row.TenantId, bot.Row.CreatedAt, rng.Uuid7(bot.Row.CreatedAt.ToUnixTimeMilliseconds()),
            bot.Row.Id, (short)c, true, c == ChannelType.Web ? null : $$"""{"webhook":"https://hooks.example.com/{{rng.NextUInt64() % 100000}}"}"""));
    });

    /// <summary>The user with this ordinal (0 .. users - 1), always the same.</summary>
    public UserRow User(long ordinal)
    {
        var (rng, createdMs, id) = UserCore(ordinal);
        var tenant = _plan.TenantOfUser(ordinal);
        var external = rng.Next(4) switch
        {
            0 => string.Create(CultureInfo.InvariantCulture, $"wa:+55{11_900_000_000 + ordinal}"),
            1 => string.Create(CultureInfo.InvariantCulture, $"tg:{700_000_000 + ordinal}"),
            2 => string.Create(CultureInfo.InvariantCulture, $"web:{ordinal:x8}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"user{ordinal}@example.com"),
        };
        var name = rng.Chance(0.8) ? $"{Choices.FirstNames[rng.Next(Choices.FirstNames.Length)]} {Choices.LastNames[rng.Next(Choices.LastNames.Length)]}" : null;
        return new UserRow(_plan.TenantId(tenant), At(createdMs), id, external, name);
    }

    /// <summary>Just the user's id, without building its row (sessions need only that).</summary>
    public Guid UserId(long ordinal) => UserCore(ordinal).Id;

    private (SeededRandom Rng, long CreatedMs, Guid Id) UserCore(long ordinal)
    {
        var rng = new SeededRandom(_seed, SeededRandom.Stream.User, ordinal);
        var createdMs = _plan.StartMs - 1000 - rng.NextLong(365 * DayMs);
        return (rng, createdMs, rng.Uuid7(createdMs));
    }

    public IEnumerable<UserRow> Users()
    {
        for (long u = 0; u < _plan.Options.Users; u++)
            yield return User(u);
    }

    /// <summary>Bot-wide memories for every bot, and a few per user for a third of the users.</summary>
    public IEnumerable<MemoryRow> Memories()
    {
        foreach (var bot in _bots.SelectMany(b => b))
        {
            var rng = new SeededRandom(_seed, SeededRandom.Stream.BotMemory, bot.Tenant, bot.Index);
            var count = rng.Between(2, 6);
            for (var i = 0; i < count; i++)
                yield return Memory(rng, bot.Row, null, Choices.BotMemory, i);
        }
        for (long u = 0; u < _plan.Options.Users; u++)
        {
            var rng = new SeededRandom(_seed, SeededRandom.Stream.UserMemory, u);
            if (!rng.Chance(0.3))
                continue;
            var userId = UserId(u);
            var bot = _bots[_plan.TenantOfUser(u)][0].Row;
            var count = rng.Between(1, 3);
            for (var i = 0; i < count; i++)
                yield return Memory(rng, bot, userId, Choices.UserMemory, i);
        }
    }

    private MemoryRow Memory(SeededRandom rng, BotRow bot, Guid? user, WeightedChoice<MemoryType> types, int index)
    {
        var type = rng.Pick(types);
        var createdMs = _plan.StartMs + rng.NextLong(_plan.UntilMs - _plan.StartMs);
        var updatedMs = Math.Min(_plan.UntilMs - 1, createdMs + rng.NextLong(20 * DayMs));
        DateTimeOffset? expires = type == MemoryType.Short ? At(updatedMs + 7 * DayMs) : null;
        var key = string.Create(CultureInfo.InvariantCulture, $"{EnumCatalog.NameOf(type)}.{index}");
        var value = $$"""{"text":"{{Corpus.Slice(rng, rng.LogNormal(80, 0.6, 10, 400))}}","confidence":{{rng.Between(50, 99)}}}""";
        return new MemoryRow(bot.TenantId, At(createdMs), At(updatedMs), expires, rng.Uuid7(createdMs), bot.Id, user, (short)type, key, value);
    }

    private BotInfo MakeBot(int tenant, int index)
    {
        var rng = new SeededRandom(_seed, SeededRandom.Stream.Bot, tenant, index);
        var createdMs = _plan.StartMs - 1000 - rng.NextLong(400 * DayMs);
        var updatedMs = createdMs + rng.NextLong(30 * DayMs);
        var provider = rng.Pick(Choices.Provider);
        var config = $$"""{"model":"{{Choices.Models[rng.Next(Choices.Models.Length)]}}","temperature":0.{{rng.Between(0, 9)}},"max_tokens":{{rng.Between(1, 8) * 512}}}""";
        var row = new BotRow(_plan.TenantId(tenant), At(createdMs), At(updatedMs), rng.Uuid7(createdMs), (short)provider,
            true, string.Create(CultureInfo.InvariantCulture, $"{Corpus.Phrase(rng, 1, 2)} bot {index + 1}"), config);
        var channels = new List<ChannelType> { ChannelType.Web };
        var extra = rng.Between(0, 3);
        for (var i = 0; i < extra; i++)
        {
            var c = rng.Pick(Choices.ExtraChannel);
            if (!channels.Contains(c))
                channels.Add(c);
        }
        return new BotInfo(tenant, index, row, channels.ToArray());
    }

    public static DateTimeOffset At(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
}
