using BotStore.Maintenance;
using BotStore.Monitoring;
using BotStore.Partitions;
using BotStore.Sharding;

namespace BotStore.Server.Operations;

/// <summary>One shard's operations, on its direct pool: the reports, the partition manager and the maintenance runner.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Reports">Its monitoring reports (<c>/admin/db</c>, <c>/metrics</c>, the dashboard).</param>
/// <param name="Partitions">Its partition manager.</param>
/// <param name="Maintenance">Its maintenance runner.</param>
public sealed record OperationsShard(Shard Shard, DatabaseReports Reports, PartitionManager Partitions, MaintenanceRunner Maintenance)
{
    /// <summary>The shard's name.</summary>
    public string Name => Shard.Name;
}

/// <summary>
/// Every shard's operations, in configuration order (the directory shard's are the host's own
/// <see cref="DatabaseReports"/>, <see cref="PartitionManager"/> and <see cref="MaintenanceRunner"/>). The
/// administrator views (<c>/admin/db</c>, <c>/metrics</c>, the dashboard) gather from all of them in parallel with
/// <see cref="EachAsync{T}"/>, which says which shard answered what; a host without a <see cref="ShardRouter"/> has
/// one shard, <see cref="ShardRouter.DefaultShardName"/>.
/// </summary>
public sealed class OperationsShards
{
    private readonly Dictionary<string, OperationsShard> _byName;

    /// <summary>The operations of <paramref name="router"/>'s shards, one per shard, in its order.</summary>
    public OperationsShards(ShardRouter router, IReadOnlyList<OperationsShard> shards)
    {
        Router = router;
        All = shards;
        _byName = shards.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    /// <summary>The router the shards come from.</summary>
    public ShardRouter Router { get; }

    /// <summary>Every shard's operations, in configuration order.</summary>
    public IReadOnlyList<OperationsShard> All { get; }

    /// <summary>Whether there are several shards (views then name the shard of every figure).</summary>
    public bool Several => All.Count > 1;

    /// <summary>The shard with this name.</summary>
    /// <exception cref="BotStoreValidationException">No shard has this name.</exception>
    public OperationsShard Get(string name) => _byName.TryGetValue(name, out var shard)
        ? shard
        : throw new BotStoreValidationException($"unknown shard '{name}': the shards are {string.Join(", ", All.Select(s => s.Name))}");

    /// <summary>Runs <paramref name="action"/> on every shard at once (<see cref="ShardRouter.EachAsync{T}"/>): each shard's answer or its error.</summary>
    public Task<IReadOnlyList<ShardAnswer<T>>> EachAsync<T>(Func<OperationsShard, CancellationToken, Task<T>> action, CancellationToken ct = default) =>
        Router.EachAsync((shard, token) => action(_byName[shard.Name], token), ct);

    /// <summary>
    /// Like <see cref="EachAsync{T}"/>, but when every shard failed, throws the first shard's error (with one shard:
    /// as before there were shards, e.g. 503 when the database is down).
    /// </summary>
    public async Task<IReadOnlyList<ShardAnswer<T>>> SomeAsync<T>(Func<OperationsShard, CancellationToken, Task<T>> action, CancellationToken ct = default)
    {
        var answers = await EachAsync(action, ct);
        if (answers.All(a => a.Error is not null))
            throw Several ? ShardRouter.ShardError(answers[0].Shard, answers[0].Error!) : answers[0].Error!;
        return answers;
    }
}
