using BotStore.Internal;
using Npgsql;

namespace BotStore.Sharding;

/// <summary>
/// Routes each tenant to the data source of its shard. Tenant-scoped work asks <see cref="For"/>; only operator
/// work (migrations, partition upkeep, reports) fans out over <see cref="All"/>. The router owns the data sources.
/// </summary>
public sealed class ShardRouter : IAsyncDisposable
{
    private readonly Dictionary<string, NpgsqlDataSource> _sources;

    /// <summary>Creates a router; every shard of the map needs a data source.</summary>
    public ShardRouter(ShardMap map, IReadOnlyDictionary<string, NpgsqlDataSource> dataSources)
    {
        Map = map;
        var missing = map.Shards.Select(s => s.Name).Where(n => !dataSources.ContainsKey(n)).ToArray();
        if (missing.Length > 0)
            throw new BotStoreConfigurationException($"no database given for shard(s) {string.Join(", ", missing)}");
        _sources = new Dictionary<string, NpgsqlDataSource>(dataSources, StringComparer.Ordinal);
    }

    /// <summary>The map the router follows.</summary>
    public ShardMap Map { get; }

    /// <summary>Every shard with its data source.</summary>
    public IEnumerable<(ShardDefinition Shard, NpgsqlDataSource DataSource)> All =>
        Map.Shards.Select(s => (s, _sources[s.Name]));

    /// <summary>The data source of the shard that holds <paramref name="tenantId"/>.</summary>
    public NpgsqlDataSource For(long tenantId) => _sources[Map.ShardOf(tenantId).Name];

    /// <summary>
    /// Makes a shard's database hand out tenant ids only inside the logical range the map gives it. Run once per
    /// shard when it is created (or when its range changes), before it creates tenants.
    /// </summary>
    public Task InitializeShardAsync(string shardName, CancellationToken ct = default)
    {
        var shard = Map.Shards.FirstOrDefault(s => s.Name == shardName)
            ?? throw new BotStoreConfigurationException($"'{shardName}' is not a shard of the map");
        return InitializeAsync(_sources[shardName], shard, ct);
    }

    /// <summary>Makes <paramref name="dataSource"/>'s database hand out tenant ids only inside <paramref name="shard"/>'s range.</summary>
    public static Task InitializeAsync(NpgsqlDataSource dataSource, ShardDefinition shard, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var cmd = dataSource.CreateCommand("UPDATE shard_identity SET logical_from = $1, logical_to = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = shard.From });
        cmd.Parameters.Add(new NpgsqlParameter { Value = shard.To });
        await cmd.ExecuteNonQueryAsync(ct);
        return true;
    });

    /// <summary>Disposes every data source.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources.Values)
            await source.DisposeAsync();
    }
}
