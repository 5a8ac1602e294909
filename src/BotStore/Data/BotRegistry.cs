using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A tenant's bot.</summary>
public sealed record Bot(Guid Id, string Name, LlmProvider LlmProvider, bool IsActive, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A channel a bot is reachable on (one per channel type).</summary>
public sealed record BotChannel(Guid Id, Guid BotId, ChannelType Channel, bool IsActive, DateTimeOffset CreatedAt);

/// <summary>
/// Bots and their channels (the store is not called BotStore, which names the whole library). Every statement runs
/// through <see cref="TenantScope"/> and filters by tenant itself.
/// </summary>
public sealed class BotRegistry(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public BotRegistry(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    private const string Columns = "id, name, llm_provider, is_active, created_at, updated_at";

    /// <summary>A page of the tenant's active bots in id (creation) order, from idx_bots_active_page (migration 0004).</summary>
    internal const string ListActiveSql = $"""
        SELECT {Columns} FROM bots
        WHERE tenant_id = $1 AND is_active = true AND id > $2
        ORDER BY id LIMIT $3
        """;

    /// <summary>A page of all the tenant's bots, active or not, in id order, from the primary key.</summary>
    internal const string ListAllSql = $"""
        SELECT {Columns} FROM bots
        WHERE tenant_id = $1 AND id > $2
        ORDER BY id LIMIT $3
        """;

    /// <summary>Creates an active bot.</summary>
    public Task<Bot> CreateAsync(long tenantId, string name, LlmProvider llmProvider, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId).Add($"""
            INSERT INTO bots (tenant_id, id, name, llm_provider) VALUES ($1, $2, $3, $4)
            RETURNING {Columns}
            """, tenantId, Uuid7.New(), Rows.Text(name, "name", 200), Rows.Value(llmProvider)), Read, "tenant", Rows.UntilSent(ct)));

    /// <summary>The bot with this id.</summary>
    public Task<Bot> GetAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM bots WHERE tenant_id = $1 AND id = $2", tenantId, id), Read, $"bot {id}", ct));

    /// <summary>A page of the tenant's bots in creation order: only the active ones unless <paramref name="includeInactive"/>.</summary>
    public Task<Page<Bot>> ListAsync(long tenantId, bool includeInactive = false, string? after = null, int? limit = null, CancellationToken ct = default) =>
        shards.RunAsync(tenantId, async dataSource =>
        {
            var take = Cursor.Limit(limit);
            var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId)
                .Add(includeInactive ? ListAllSql : ListActiveSql, ListArgs(tenantId, after, take)), Read, ct);
            return Paging.Page(rows, take, b => Cursor.Encode(Rows.Key(b.Id)));
        });

    /// <summary>The arguments of <see cref="ListActiveSql"/> and <see cref="ListAllSql"/>.</summary>
    internal static object?[] ListArgs(long tenantId, string? after, int take) =>
        [tenantId, after is null ? Guid.Empty : Rows.IdKey(Cursor.Decode(after, 1)[0]), take + 1];

    /// <summary>Deactivates the bot (it leaves idx_bots_active and the default list); deactivating twice is harmless.</summary>
    public Task<Bot> DeactivateAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId).Add($"""
            UPDATE bots SET is_active = false, updated_at = CASE WHEN is_active THEN now() ELSE updated_at END
            WHERE tenant_id = $1 AND id = $2
            RETURNING {Columns}
            """, tenantId, id), Read, $"bot {id}", Rows.UntilSent(ct)));

    /// <summary>Makes the bot reachable on a channel; a second channel of the same type is a conflict.</summary>
    public Task<BotChannel> AddChannelAsync(long tenantId, Guid botId, ChannelType channel, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId).Add("""
            INSERT INTO bot_channels (tenant_id, id, bot_id, channel) VALUES ($1, $2, $3, $4)
            RETURNING id, bot_id, channel, is_active, created_at
            """, tenantId, Uuid7.New(), botId, Rows.Value(channel)), ReadChannel, $"bot {botId}", Rows.UntilSent(ct)));

    /// <summary>The bot's channels by channel type.</summary>
    public Task<IReadOnlyList<BotChannel>> ListChannelsAsync(long tenantId, Guid botId, CancellationToken ct = default) =>
        shards.RunAsync<IReadOnlyList<BotChannel>>(tenantId, async dataSource =>
        {
            // The outer join from the bot tells "no channels" (one row of nulls) from "no such bot" (no row).
            var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add("""
                SELECT c.id, c.bot_id, c.channel, c.is_active, c.created_at
                FROM bots b LEFT JOIN bot_channels c ON c.tenant_id = b.tenant_id AND c.bot_id = b.id
                WHERE b.tenant_id = $1 AND b.id = $2
                ORDER BY c.channel
                """, tenantId, botId), r => r.IsDBNull(0) ? null : ReadChannel(r), ct);
            return rows.Count == 0 ? throw new BotStoreNotFoundException($"bot {botId} not found") : rows.OfType<BotChannel>().ToList();
        });

    private static Bot Read(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetString(1), (LlmProvider)r.GetInt16(2), r.GetBoolean(3), r.Time(4), r.Time(5));

    private static BotChannel ReadChannel(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetGuid(1), (ChannelType)r.GetInt16(2), r.GetBoolean(3), r.Time(4));
}
