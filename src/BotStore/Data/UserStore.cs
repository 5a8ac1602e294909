using BotStore.Data.Internal;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>An end user of a tenant's bots, known to the tenant by its own <paramref name="ExternalId"/>.</summary>
public sealed record User(Guid Id, string ExternalId, string? DisplayName, DateTimeOffset CreatedAt);

/// <summary>A tenant's end users. A second user with the same external id is a conflict.</summary>
public sealed class UserStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public UserStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    private const string Columns = "id, external_id, display_name, created_at";

    /// <summary>Creates a user.</summary>
    public Task<User> CreateAsync(long tenantId, string externalId, string? displayName = null, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId).Add($"""
            INSERT INTO users (tenant_id, id, external_id, display_name) VALUES ($1, $2, $3, $4)
            RETURNING {Columns}
            """, tenantId, Uuid7.New(), Rows.Text(externalId, "external_id", 200),
            displayName is null ? null : Rows.Text(displayName, "display_name", 200)), Read, "tenant", Rows.UntilSent(ct)));

    /// <summary>The user with this id.</summary>
    public Task<User> GetAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM users WHERE tenant_id = $1 AND id = $2", tenantId, id), Read, $"user {id}", ct));

    /// <summary>A page of the tenant's users in creation order.</summary>
    public Task<Page<User>> ListAsync(long tenantId, string? after = null, int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit);
        var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add($"""
            SELECT {Columns} FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3
            """, tenantId, after is null ? Guid.Empty : Rows.IdKey(Cursor.Decode(after, 1)[0]), take + 1), Read, ct);
        return Paging.Page(rows, take, u => Cursor.Encode(Rows.Key(u.Id)));
    });

    private static User Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.NullableString(2), r.Time(3));
}
