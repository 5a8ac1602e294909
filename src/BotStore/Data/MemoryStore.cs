using System.Globalization;
using System.Text.Json;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A bot's memory (a row of <c>bot_memories</c>): bot-level when <see cref="UserId"/> is null, else about one user.</summary>
public sealed record Memory(
    Guid Id, Guid BotId, Guid? UserId, MemoryType MemoryType, string Key, JsonElement Value, DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Where a memory lives: its bot, type, user (null for bot-level) and key. The table's unique key.</summary>
public readonly record struct MemoryKey(Guid BotId, MemoryType MemoryType, Guid? UserId, string Key);

/// <summary>
/// Bot memories, keyed by (bot, type, user or none, key). A memory past its expires_at is never returned and is
/// replaced by the next upsert; <see cref="DeleteExpiredAsync"/> removes such rows in batches.
/// </summary>
public sealed class MemoryStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public MemoryStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    internal const string Columns = "id, bot_id, user_id, memory_type, key, value, expires_at, created_at, updated_at";

    private const string Live = "(expires_at IS NULL OR expires_at > now())";
    private const int MaxPage = 1000;

    /// <summary>The runner lock of the memory sweeper.</summary>
    internal const long SweepLockKey = RunnerLock.MemorySweep;

    /// <summary>One batch of the sweeper ($1 = batch size): expired memories of all tenants.</summary>
    internal const string SweepSql = """
        WITH gone AS (
            DELETE FROM bot_memories
            WHERE expires_at <= now() AND ctid = ANY (ARRAY(
                SELECT ctid FROM bot_memories WHERE expires_at <= now() LIMIT $1))
            RETURNING 1)
        SELECT count(*), 0::bigint FROM gone
        """;

    /// <summary>
    /// Creates or replaces a memory; Created tells which (replacing an expired memory counts as creating: it starts
    /// a new life, so created_at restarts and equals updated_at). The bot (and user) must belong to the tenant.
    /// </summary>
    public Task<(Memory Memory, bool Created)> UpsertAsync(long tenantId, MemoryKey key, JsonElement value, DateTimeOffset? expiresAt = null,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        CheckKey(key.Key);
        if (expiresAt <= DateTimeOffset.UtcNow)
            throw new BotStoreValidationException($"expires_at must be in the future (got {expiresAt:O})");
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH bot AS (SELECT FROM bots WHERE tenant_id = $1 AND id = $2),
                 usr AS (SELECT FROM users WHERE tenant_id = $1 AND id = $4),
                 saved AS (
                     INSERT INTO bot_memories AS m (tenant_id, id, bot_id, memory_type, user_id, key, value, expires_at)
                     SELECT $1, $7, $2, $3, $4, $5, $6, $8
                     WHERE EXISTS (SELECT FROM bot) AND ($4 IS NULL OR EXISTS (SELECT FROM usr))
                     ON CONFLICT (tenant_id, bot_id, memory_type, user_id, key) DO UPDATE
                     SET value = excluded.value, expires_at = excluded.expires_at, updated_at = now(),
                         created_at = CASE WHEN m.expires_at <= now() THEN now() ELSE m.created_at END
                     RETURNING created_at = updated_at AS created, {Columns})
            SELECT EXISTS (SELECT FROM bot), $4 IS NULL OR EXISTS (SELECT FROM usr), s.*
            FROM (VALUES (0)) v LEFT JOIN saved s ON true
            """, tenantId, key.BotId, (short)key.MemoryType, new NpgsqlParameter<Guid?> { TypedValue = key.UserId }, key.Key,
            JsonValues.Parameter(value, "value"), Uuid7.New(), new NpgsqlParameter<DateTimeOffset?> { TypedValue = expiresAt?.ToUniversalTime() });
        await using var reader = await batch.WriteAsync(ct);
        if (!reader.GetBoolean(0))
            throw new BotStoreNotFoundException($"bot {key.BotId} not found");
        if (!reader.GetBoolean(1))
            throw new BotStoreNotFoundException($"user {key.UserId} not found");
        return (Read(reader, 3), reader.GetBoolean(2));
    });

    /// <summary>The memory under <paramref name="key"/>, unless it is missing or expired.</summary>
    public Task<Memory> GetAsync(long tenantId, MemoryKey key, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        CheckKey(key.Key);
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM bot_memories WHERE {Where(key)} AND {Live}", Arguments(tenantId, key));
        await using var reader = await batch.ReadAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, 0) : throw NotFound(key);
    });

    /// <summary>Deletes the memory under <paramref name="key"/>; a missing or expired one is not found.</summary>
    public Task DeleteAsync(long tenantId, MemoryKey key, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        CheckKey(key.Key);
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add($"DELETE FROM bot_memories WHERE {Where(key)} RETURNING {Live}", Arguments(tenantId, key));
        await using var reader = await batch.WriteAsync(ct);
        return reader.IsOnRow && reader.GetBoolean(0) ? true : throw NotFound(key);
    });

    /// <summary>
    /// One keyset page of a bot's live memories, optionally of one type and one user, in key order (type, user with
    /// bot-level last, key): the order of the table's unique index.
    /// </summary>
    public Task<Page<Memory>> ListAsync(long tenantId, Guid botId, MemoryType? type = null, Guid? userId = null, string? after = null,
        int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit, max: MaxPage);
        var cursor = Paging.ParseCursor(after, 3, p => new MemoryKey(Guid.Empty, (MemoryType)short.Parse(p[0], CultureInfo.InvariantCulture),
            p[1].Length == 0 ? null : Guid.Parse(p[1]), Paging.FromText(p[2])));
        var sql = $"""
            SELECT {Columns} FROM bot_memories
            WHERE tenant_id = $1 AND bot_id = $2 AND {Live}
            {(type is null ? "" : "AND memory_type = $3")} {(userId is null ? "" : "AND user_id = $4")}
            {cursor switch
            {
                null => "",
                { UserId: null } => "AND (memory_type > $5 OR (memory_type = $5 AND user_id IS NULL AND key > $7))",
                _ => "AND ((memory_type, user_id, key) > ($5, $6, $7) OR (memory_type = $5 AND user_id IS NULL))",
            }}
            ORDER BY memory_type, user_id, key LIMIT $8
            """;
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add("SELECT EXISTS (SELECT FROM bots WHERE tenant_id = $1 AND id = $2)", tenantId, botId)
            .Add(sql, tenantId, botId, new NpgsqlParameter<short?> { TypedValue = (short?)type }, new NpgsqlParameter<Guid?> { TypedValue = userId },
                new NpgsqlParameter<short?> { TypedValue = (short?)cursor?.MemoryType }, new NpgsqlParameter<Guid?> { TypedValue = cursor?.UserId },
                new NpgsqlParameter<string?> { TypedValue = cursor?.Key }, take + 1);
        return await Paging.ReadPageAsync(batch, take, r => Read(r, 0),
            m => Cursor.Encode(((short)m.MemoryType).ToString(CultureInfo.InvariantCulture), m.UserId?.ToString() ?? "", Paging.Text(m.Key)),
            () => new BotStoreNotFoundException($"bot {botId} not found"), ct);
    });

    /// <summary>
    /// Deletes expired memories of every tenant, <paramref name="batchSize"/> per transaction, until none is left;
    /// returns how many, or null when another sweeper holds the lock. Runs as the owner (botstore_maintainer).
    /// </summary>
    public async Task<long?> DeleteExpiredAsync(int batchSize = 1000, CancellationToken ct = default)
    {
        // Every shard sweeps its own tenants on its direct connection (the lock is a session lock).
        var perShard = await shards.AllAsync((shard, token) => Sweeps.RunAsync(shard.Direct, SweepSql, SweepLockKey, batchSize, token), ct);
        return perShard.All(s => s.Value.Skipped) ? null : perShard.Sum(s => s.Value.Rows);
    }

    private static string Where(MemoryKey key) =>
        $"tenant_id = $1 AND bot_id = $2 AND memory_type = $3 AND {(key.UserId is null ? "user_id IS NULL" : "user_id = $4")} AND key = $5";

    private static object?[] Arguments(long tenantId, MemoryKey key) =>
        [tenantId, key.BotId, (short)key.MemoryType, new NpgsqlParameter<Guid?> { TypedValue = key.UserId }, key.Key];

    private static void CheckKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 500)
            throw new BotStoreValidationException("a memory key must have 1 to 500 characters");
    }

    private static BotStoreNotFoundException NotFound(MemoryKey key) =>
        new($"no {EnumCatalog.NameOf(key.MemoryType)} memory '{key.Key}' for bot {key.BotId}{(key.UserId is null ? "" : $" and user {key.UserId}")}");

    private static Memory Read(NpgsqlDataReader r, int o) => new(
        r.GetGuid(o), r.GetGuid(o + 1), r.IsDBNull(o + 2) ? null : r.GetGuid(o + 2), (MemoryType)r.GetInt16(o + 3), r.GetString(o + 4),
        JsonValues.Read(r, o + 5)!.Value, r.IsDBNull(o + 6) ? null : r.GetFieldValue<DateTimeOffset>(o + 6),
        r.GetFieldValue<DateTimeOffset>(o + 7), r.GetFieldValue<DateTimeOffset>(o + 8));
}
