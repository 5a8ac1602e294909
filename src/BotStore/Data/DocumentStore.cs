using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A knowledge-base document of a bot and where it stands against its source (a row of <c>kb_documents</c>).</summary>
public sealed record KbDocument(
    Guid Id, Guid BotId, string Path, SyncStatus SyncStatus, string? ContentHash, long? SizeBytes, string? Error,
    DateTimeOffset? SyncedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What a sync worker reports about one document.</summary>
/// <param name="SyncStatus">Where the document stands.</param>
/// <param name="ContentHash">The hash of the content; null keeps the stored one.</param>
/// <param name="SizeBytes">The size in bytes; null keeps the stored one.</param>
/// <param name="Error">The sync error; null clears it.</param>
public sealed record DocumentState(SyncStatus SyncStatus, string? ContentHash = null, long? SizeBytes = null, string? Error = null);

/// <summary>
/// Knowledge-base documents, one per (bot, path). A sync worker reports each document's state with an upsert and
/// finds its work by listing the documents in the statuses it handles (e.g. pending and error). synced_at is the
/// last time a document was reported synced.
/// </summary>
public sealed class DocumentStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public DocumentStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    internal const string Columns = "id, bot_id, path, sync_status, content_hash, size_bytes, error, synced_at, created_at, updated_at";

    private const int MaxPage = 1000;

    /// <summary>Records the state of the document at <paramref name="path"/>; Created tells whether it is new.</summary>
    public Task<(KbDocument Document, bool Created)> UpsertAsync(long tenantId, Guid botId, string path, DocumentState state,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckPath(path);
        if (state.SizeBytes < 0)
            throw new BotStoreValidationException($"size_bytes must not be negative (got {state.SizeBytes})");
        if (state.ContentHash is { Length: 0 or > 200 } || state.Error is { Length: > 10_000 })
            throw new BotStoreValidationException("content_hash must have 1 to 200 characters and error at most 10000");
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH bot AS (SELECT FROM bots WHERE tenant_id = $1 AND id = $2),
                 saved AS (
                     INSERT INTO kb_documents AS d (tenant_id, id, bot_id, path, sync_status, content_hash, size_bytes, error, synced_at)
                     SELECT $1, $3, $2, $4, $5, $6, $7, $8, CASE WHEN $5 = 0 THEN now() END
                     WHERE EXISTS (SELECT FROM bot)
                     ON CONFLICT (tenant_id, bot_id, path) DO UPDATE
                     SET sync_status = excluded.sync_status, content_hash = coalesce(excluded.content_hash, d.content_hash),
                         size_bytes = coalesce(excluded.size_bytes, d.size_bytes), error = excluded.error, updated_at = now(),
                         synced_at = coalesce(excluded.synced_at, d.synced_at)
                     RETURNING xmax = 0 AS created, {Columns})
            SELECT EXISTS (SELECT FROM bot), s.* FROM (VALUES (0)) v LEFT JOIN saved s ON true
            """, tenantId, botId, Uuid7.New(), path, (short)state.SyncStatus,
            new NpgsqlParameter<string?> { TypedValue = state.ContentHash }, new NpgsqlParameter<long?> { TypedValue = state.SizeBytes },
            new NpgsqlParameter<string?> { TypedValue = state.Error });
        await using var reader = await batch.WriteAsync(ct);
        if (!reader.GetBoolean(0))
            throw new BotStoreNotFoundException($"bot {botId} not found");
        return (Read(reader, 2), reader.GetBoolean(1));
    });

    /// <summary>One keyset page of a bot's documents in path order, optionally only those in <paramref name="statuses"/>.</summary>
    public Task<Page<KbDocument>> ListAsync(long tenantId, Guid botId, IReadOnlyCollection<SyncStatus>? statuses = null, string? after = null,
        int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit, max: MaxPage);
        short[]? wanted = statuses is { Count: > 0 } ? statuses.Select(s => (short)s).Distinct().ToArray() : null;
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add("SELECT EXISTS (SELECT FROM bots WHERE tenant_id = $1 AND id = $2)", tenantId, botId)
            .Add($"""
                SELECT {Columns} FROM kb_documents
                WHERE tenant_id = $1 AND bot_id = $2 AND ($3::smallint[] IS NULL OR sync_status = ANY ($3))
                  AND ($4::text IS NULL OR path > $4)
                ORDER BY path LIMIT $5
                """, tenantId, botId, new NpgsqlParameter<short[]?> { TypedValue = wanted },
                new NpgsqlParameter<string?> { TypedValue = Paging.ParseTextCursor(after) }, take + 1);
        return await Paging.ReadPageAsync(batch, take, r => Read(r, 0), d => Cursor.Encode(Paging.Text(d.Path)),
            () => new BotStoreNotFoundException($"bot {botId} not found"), ct);
    });

    private static void CheckPath(string path)
    {
        if (string.IsNullOrEmpty(path))
            throw new BotStoreValidationException("a document path must not be empty");
        var bytes = System.Text.Encoding.UTF8.GetByteCount(TextValues.Check(path, "the document path")!);
        if (bytes > InputLimits.MaxDocumentPathBytes)
            throw new BotStoreValidationException($"the document path has {bytes} bytes of UTF-8; the limit is {InputLimits.MaxDocumentPathBytes}");
    }

    private static KbDocument Read(NpgsqlDataReader r, int o) => new(
        r.GetGuid(o), r.GetGuid(o + 1), r.GetString(o + 2), (SyncStatus)r.GetInt16(o + 3),
        r.IsDBNull(o + 4) ? null : r.GetString(o + 4), r.IsDBNull(o + 5) ? null : r.GetInt64(o + 5),
        r.IsDBNull(o + 6) ? null : r.GetString(o + 6), r.IsDBNull(o + 7) ? null : r.GetFieldValue<DateTimeOffset>(o + 7),
        r.GetFieldValue<DateTimeOffset>(o + 8), r.GetFieldValue<DateTimeOffset>(o + 9));
}
