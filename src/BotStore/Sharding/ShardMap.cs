using System.Globalization;

namespace BotStore.Sharding;

/// <summary>A physical shard: a database and the range of logical shards [<see cref="From"/>, <see cref="To"/>) it holds.</summary>
public sealed record ShardDefinition(string Name, int From, int To)
{
    /// <summary>Whether the logical shard lives here.</summary>
    public bool Holds(int logicalShard) => logicalShard >= From && logicalShard < To;
}

/// <summary>
/// Which database holds which tenant. A tenant id carries its logical shard (<c>id % 1024</c>), assigned when the
/// tenant is created on its database; the map assigns contiguous ranges of logical shards to databases. All of a
/// tenant's rows live on one database, so every tenant-scoped query goes to exactly one shard. Rebalancing moves a
/// range of logical shards (whole tenants) and edits the map; ids never change.
/// </summary>
public sealed class ShardMap
{
    /// <summary>The number of logical shards; fixed forever, since it is baked into tenant ids.</summary>
    public const int LogicalShards = 1024;

    /// <summary>Creates a map; the ranges must cover 0..1024 exactly once.</summary>
    /// <exception cref="BotStoreConfigurationException">Ranges overlap, leave a gap, or names repeat.</exception>
    public ShardMap(IEnumerable<ShardDefinition> shards)
    {
        Shards = shards.OrderBy(s => s.From).ToArray();
        if (Shards.Count == 0)
            throw new BotStoreConfigurationException("a shard map needs at least one shard");
        var next = 0;
        foreach (var s in Shards)
        {
            if (s.From != next || s.To <= s.From)
                throw new BotStoreConfigurationException(
                    $"shard '{s.Name}' holds [{s.From}, {s.To}) but the next free logical shard is {next}: ranges must cover 0..{LogicalShards} without gaps or overlaps");
            next = s.To;
        }
        if (next != LogicalShards)
            throw new BotStoreConfigurationException($"the shard ranges end at {next}, not {LogicalShards}");
        var duplicate = Shards.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new BotStoreConfigurationException($"shard name '{duplicate.Key}' appears twice");
    }

    /// <summary>The shards in logical order.</summary>
    public IReadOnlyList<ShardDefinition> Shards { get; }

    /// <summary>A map that splits the logical shards evenly over the named databases, in order.</summary>
    public static ShardMap Even(params string[] names)
    {
        ArgumentOutOfRangeException.ThrowIfZero(names.Length);
        return new ShardMap(names.Select((n, i) => new ShardDefinition(n, LogicalShards * i / names.Length, LogicalShards * (i + 1) / names.Length)));
    }

    /// <summary>Parses <c>name=from-to</c> items, e.g. <c>shard1=0-512 shard2=512-1024</c>.</summary>
    public static ShardMap Parse(IEnumerable<string> items) => new(items.Select(item =>
    {
        var parts = item.Split('=', 2);
        var range = parts.Length == 2 ? parts[1].Split('-', 2) : [];
        if (range.Length != 2 || !int.TryParse(range[0], CultureInfo.InvariantCulture, out var from)
            || !int.TryParse(range[1], CultureInfo.InvariantCulture, out var to))
            throw new BotStoreConfigurationException($"'{item}' is not a shard range: expected name=from-to, e.g. shard1=0-512");
        return new ShardDefinition(parts[0], from, to);
    }));

    /// <summary>The logical shard of a tenant.</summary>
    public static int LogicalShardOf(long tenantId) =>
        tenantId > 0 ? (int)(tenantId % LogicalShards) : throw new BotStoreValidationException($"{tenantId} is not a tenant id");

    /// <summary>The shard that holds a tenant.</summary>
    public ShardDefinition ShardOf(long tenantId)
    {
        var logical = LogicalShardOf(tenantId);
        return Shards.First(s => s.Holds(logical));
    }
}
