using BotStore.Data.Internal;
using BotStore.Internal;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data;

/// <summary>What a bulk load did: of <see cref="Received"/> rows, <see cref="Inserted"/> were new, the rest already stored.</summary>
public sealed record BulkResult(int Received, int Inserted)
{
    /// <summary>Rows skipped because their id was already stored (a retried batch) or repeated in the batch.</summary>
    public int Duplicates => Received - Inserted;

    /// <summary>The sum of two results (a stream loaded in several batches).</summary>
    public static BulkResult operator +(BulkResult a, BulkResult b) => new(a.Received + b.Received, a.Inserted + b.Inserted);
}

public sealed partial class MessageStore
{
    /// <summary>
    /// The batch size <see cref="BulkAppendAsync(long, IAsyncEnumerable{NewMessage}, int, CancellationToken)"/> uses by
    /// default. Each batch locks and moves every session it touches once, so a stream that visits many sessions pays
    /// a session update per session per batch: 1M messages over 20,000 sessions in turn, in batches of 20,000, moved a
    /// session for every message and loaded at 0.58x psql <c>\copy</c> (when those updates were not yet HOT:
    /// migration 0029); in batches of 100,000, five messages share each update (docs/api.md, "Bulk ingest"). A batch
    /// is one transaction and is held in memory (about 100 MB for 100,000 messages of 500 bytes), and it holds its
    /// sessions' row locks until it commits (seconds at 100,000), so single appends to them wait that long: stream
    /// with a smaller batch into sessions that are live.
    /// </summary>
    public const int DefaultBulkBatchSize = 100_000;

    internal const string CreateIncomingSql = """
        CREATE TEMP TABLE botstore_incoming_messages (
            ord INTEGER NOT NULL, id UUID NOT NULL, created_at TIMESTAMPTZ NOT NULL, session_id UUID NOT NULL,
            message_index INTEGER, role SMALLINT NOT NULL, message_type SMALLINT NOT NULL, content TEXT NOT NULL, metadata JSONB
        ) ON COMMIT DROP
        """;

    internal const string CopyIncomingSql = """
        COPY botstore_incoming_messages (ord, id, created_at, session_id, message_index, role, message_type, content, metadata)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>Locks the batch's sessions in id order (so concurrent batches cannot deadlock) before the insert reads them.</summary>
    internal const string LockIncomingSessionsSql = """
        SELECT 1 FROM user_sessions
        WHERE tenant_id = $1 AND id = ANY (ARRAY(SELECT DISTINCT session_id FROM botstore_incoming_messages))
        ORDER BY id FOR NO KEY UPDATE
        """;

    /// <summary>The one INSERT ... SELECT that checks, numbers and stores the batch (Sql/bulk_append_messages.sql).</summary>
    internal static readonly string BulkInsertSql = SqlText.Embedded("bulk_append_messages");

    /// <summary>
    /// Stores a batch of messages (any sessions of the tenant) in one transaction, through binary COPY: ids already
    /// stored are skipped, messages without an index take their session's next ones. A message that breaks a rule
    /// fails the batch, naming it as messages[i], and nothing is written. A login role that may COPY into a table
    /// under row-level security copies straight into message_history (MessageStore.Copy.cs); any other goes through a
    /// temporary table and one INSERT ... SELECT under the policy.
    /// </summary>
    public Task<BulkResult> BulkAppendAsync(long tenantId, IReadOnlyList<NewMessage> messages, CancellationToken ct = default) =>
        LoadAsync(tenantId, Check(messages), ct);

    // Each message checked and made a row, its position in the batch the name its errors give it.
    private static List<Row> Check(IReadOnlyList<NewMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return messages.Select((m, i) => Row.From(m, i)).ToList();
    }

    private Task<BulkResult> LoadAsync(long tenantId, List<Row> rows, CancellationToken ct) =>
        shards.RunAsync(tenantId, dataSource =>
            BulkCopy.LoadAsync(dataSource, tenantId, rows, token => CopyBatchAsync(dataSource, tenantId, rows, token), IncomingMessages, ct));

    private static BulkCopy.TempTable<Row> IncomingMessages =>
        new(CreateIncomingSql, CopyIncomingSql, WriteRowAsync, LockIncomingSessionsSql, BulkInsertSql);

    /// <summary>The temporary-table path for <see cref="NewMessage"/>s, for <c>bench ingest-steps</c> to time step by step.</summary>
    internal static BulkCopy.TempTable<NewMessage> IncomingTable =>
        new(CreateIncomingSql, CopyIncomingSql, (w, m, ct) => WriteRowAsync(w, Row.From(m, 0), ct), LockIncomingSessionsSql, BulkInsertSql);

    /// <summary>
    /// Stores a stream of messages in batches of <paramref name="batchSize"/>, each its own transaction; the next batch
    /// is read and checked while one loads.
    /// </summary>
    public Task<BulkResult> BulkAppendAsync(long tenantId, IAsyncEnumerable<NewMessage> messages, int batchSize = DefaultBulkBatchSize,
        CancellationToken ct = default) =>
        BulkCopy.InBatchesAsync(messages, batchSize, Check, (rows, token) => LoadAsync(tenantId, rows, token), ct);

    private static async Task WriteRowAsync(NpgsqlBinaryImporter w, Row r, CancellationToken ct)
    {
        await w.WriteAsync(r.Ord, NpgsqlDbType.Integer, ct);
        await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz, ct);
        await w.WriteAsync(r.SessionId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.Index, NpgsqlDbType.Integer, ct);
        await w.WriteAsync(r.Role, NpgsqlDbType.Smallint, ct);
        await w.WriteAsync(r.Type, NpgsqlDbType.Smallint, ct);
        await w.WriteAsync(r.Content, NpgsqlDbType.Text, ct);
        await w.WriteAsync(r.Metadata, NpgsqlDbType.Jsonb, ct);
    }
}
