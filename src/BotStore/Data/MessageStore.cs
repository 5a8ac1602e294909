using System.Globalization;
using System.Text.Json;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A stored message. <see cref="CreatedAt"/> is the timestamp inside its UUIDv7 id.</summary>
public sealed record Message(Guid Id, Guid SessionId, int MessageIndex, DateTimeOffset CreatedAt, MessageRole Role, MessageType MessageType,
    bool IsRead, string Content, JsonElement? Metadata);

/// <summary>
/// A message to store. <see cref="Id"/> is the client's own UUIDv7 (retries with it are idempotent); without one the
/// store makes one. <see cref="MessageIndex"/> is only for bulk imports that carry their own numbering.
/// </summary>
public sealed record NewMessage(Guid SessionId, MessageRole Role, string Content)
{
    /// <summary>The kind of content.</summary>
    public MessageType MessageType { get; init; } = MessageType.Text;

    /// <summary>The client's UUIDv7 id, or null to have one made.</summary>
    public Guid? Id { get; init; }

    /// <summary>An explicit index (bulk only): at least the session's message count, unique in the batch.</summary>
    public int? MessageIndex { get; init; }

    /// <summary>Free-form JSON stored with the message.</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>What an append stored, or (<see cref="Created"/> false) what the first append with that id stored.</summary>
public sealed record AppendResult(Guid Id, Guid SessionId, int MessageIndex, DateTimeOffset CreatedAt, bool Created);

/// <summary>
/// Message history. An append numbers the message within its session under the session's row lock, bumps the
/// session's counters and writes the message in one round trip; a retry with the same id writes nothing and
/// returns the first result. Every read bounds created_at by the session's start, so PostgreSQL skips the monthly
/// partitions older than the session.
/// </summary>
public sealed partial class MessageStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public MessageStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    /// <summary>
    /// A message may be at most this much older than its session or than the session's latest message, and at
    /// most this much ahead of the database's clock (client clocks drift; ids come from clients). It is what lets a
    /// read bound created_at and skip partitions.
    /// </summary>
    public static readonly TimeSpan MaxBackdating = TimeSpan.FromHours(1);

    /// <summary>
    /// The append (botstore_append_message, migration 0026): one statement that scopes the transaction to the tenant
    /// exactly as <see cref="TenantScope.ScopeSql"/> does (role, tenant, fence), locks the session row (appends to one
    /// session queue there and take gap-free indexes), looks the id up in a statement that starts after the lock is
    /// granted (so a retry that raced the first append sees it and writes nothing), and only for a new id bumps the
    /// session's counters and inserts the message; a user's own message is born read. One statement with nothing to
    /// plan but a function call: through PgBouncer, where nothing is prepared, the statements inside keep their plans
    /// in the server connection's PL/pgSQL cache instead of being parsed and planned at every append.
    /// </summary>
    internal const string AppendSql =
        "SELECT found_session, latest_activity, db_now, stored_session, stored_index, created FROM botstore_append_message($1, $2, $3, $4, $5, $6, $7, $8)";

    /// <summary>One message by id; (id, created_at) finds its one partition.</summary>
    internal const string FindSql = $"SELECT {MessageRows.Columns} FROM message_history m WHERE m.tenant_id = $1 AND m.id = $2 AND m.created_at = $3";

    /// <summary>
    /// A page of a session's history (botstore_session_history, migration 0022): the function reads the session
    /// first, so the created_at bounds are constants when the page is planned and only the session's months are
    /// planned at all; its plan is cached by the server connection, with or without PgBouncer. Since migration 0027 it
    /// scopes the transaction to the tenant itself, exactly as <see cref="TenantScope.ScopeSql"/> does (role, tenant,
    /// fence), so a history read is this one statement: through PgBouncer, where every statement is parsed and planned
    /// at every call, the scope statement before it had cost about a quarter of the reads.
    /// </summary>
    internal const string HistorySql = "SELECT * FROM botstore_session_history($1, $2, $3, $4, $5, $6, $7, $8)";

    /// <summary>
    /// Marks a session's messages read up to an index (botstore_mark_read, migration 0022: bounded like the history,
    /// so only the session's months are planned); the user's unread ones are found through idx_messages_unread.
    /// </summary>
    internal const string MarkReadSql = "SELECT session_found, marked FROM botstore_mark_read($1, $2, $3)";

    /// <summary>A page of a user's unread messages, oldest first, from idx_messages_unread.</summary>
    internal const string UnreadSql = $"""
        SELECT {MessageRows.Columns}
        FROM users u
        LEFT JOIN LATERAL (
            SELECT * FROM message_history m
            WHERE m.tenant_id = $1 AND m.user_id = $2 AND m.is_read = false
              AND m.created_at >= $3 AND (m.created_at > $3 OR m.id > $4)
            ORDER BY m.created_at, m.id
            LIMIT $5
        ) m ON true
        WHERE u.tenant_id = $1 AND u.id = $2
        ORDER BY m.created_at, m.id
        """;

    /// <summary>
    /// Appends a message to its session; see <see cref="AppendResult.Created"/> for retries. <paramref name="ct"/> stops
    /// an append that has not been sent yet; one under way is finished.
    /// </summary>
    /// <exception cref="BotStoreNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="BotStoreValidationException">A bad id or enum, or a timestamp out of the session's bounds.</exception>
    /// <exception cref="BotStoreConflictException">The id is already used by a message of another session.</exception>
    public Task<AppendResult> AppendAsync(long tenantId, NewMessage message, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        if (message.MessageIndex is not null)
            throw new BotStoreValidationException("an append takes the session's next message_index; explicit indexes are for bulk imports");
        var row = Row.From(message, null);
        // A write: finished once sent (Rows.UntilSent says why); idempotent on its id, so a client that went away loses nothing.
        var sent = Rows.UntilSent(ct);
        // Scoped by the function itself, so the batch has no scope statement (TenantScope.Add still checks the text).
        await using var batch = dataSource.CreateBatch()
            .Add(AppendSql, tenantId, row.SessionId, row.Id, row.CreatedAt, row.Role, row.Type, row.Content, JsonValues.Parameter(row.Metadata));
        await using var reader = await batch.ExecuteReaderAsync(sent);
        if (!await reader.ReadAsync(sent) || !reader.GetBoolean(0))
            throw new BotStoreNotFoundException($"session {row.SessionId} not found");
        var (latest, now) = (reader.Time(1), reader.Time(2));
        if (reader.IsDBNull(3))
        {
            throw new BotStoreValidationException(row.CreatedAt > now + MaxBackdating
                ? $"the message's timestamp {Show(row.CreatedAt)} (from its id) is more than {MaxBackdating.TotalMinutes:0} minutes ahead of the database's clock"
                : $"the message's timestamp {Show(row.CreatedAt)} (from its id) is more than {MaxBackdating.TotalMinutes:0} minutes before the session's latest message ({Show(latest)})");
        }
        var (sessionId, index, created) = (reader.GetGuid(3), reader.GetInt32(4), reader.GetBoolean(5));
        return sessionId == row.SessionId
            ? new AppendResult(row.Id, sessionId, index, row.CreatedAt, created)
            : throw new BotStoreConflictException($"message id {row.Id} is already used by a message of another session");
    });

    /// <summary>The message with this id, or null.</summary>
    public Task<Message?> FindAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
        Uuid7.IsVersion7(id)
            ? (await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add(FindSql, tenantId, id, Uuid7.Timestamp(id)), r => MessageRows.Read(r), ct))
                .SingleOrDefault()
            : null);

    /// <summary>
    /// A page of the session's history by message_index. <paramref name="after"/> and <paramref name="before"/> are
    /// exclusive bounds: a message_index, or the <see cref="Page{T}.Next"/> cursor of the previous page (pass it as
    /// <paramref name="before"/> when newest first, as <paramref name="after"/> when oldest first), which also
    /// bounds created_at so PostgreSQL skips the months the page cannot reach.
    /// </summary>
    public Task<Page<Message>> HistoryAsync(long tenantId, Guid sessionId, bool newestFirst = true, string? after = null, string? before = null,
        int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit);
        // Scoped by the function itself (migration 0027), so the batch has no scope statement.
        await using var batch = dataSource.CreateBatch().Add(HistorySql, HistoryArgs(tenantId, sessionId, newestFirst, after, before, take));
        var rows = new List<Message?>();
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                rows.Add(reader.IsDBNull(0) ? null : MessageRows.Read(reader));
        }
        if (rows.Count == 0)
            throw new BotStoreNotFoundException($"session {sessionId} not found");
        return Paging.Page(rows.OfType<Message>().ToList(), take, m => HistoryCursor(m));
    });

    /// <summary>The arguments of <see cref="HistorySql"/>.</summary>
    internal static object?[] HistoryArgs(long tenantId, Guid sessionId, bool newestFirst, string? after, string? before, int take)
    {
        var (low, lowTime) = after is null ? (-1, (DateTimeOffset?)null) : DecodeBound(after, "after");
        var (high, highTime) = before is null ? (int.MaxValue, (DateTimeOffset?)null) : DecodeBound(before, "before");
        // Later indexes are never more than MaxBackdating older than an earlier one, and earlier ones never more than
        // MaxBackdating newer than a later one: both appends and bulk ingest refuse what would break that.
        return [tenantId, sessionId, lowTime - MaxBackdating ?? Rows.Epoch, highTime + MaxBackdating ?? Rows.Never, low, high, take + 1, newestFirst];
    }

    /// <summary>Marks the session's messages up to <paramref name="upToIndex"/> read; returns how many were unread.</summary>
    public Task<int> MarkReadAsync(long tenantId, Guid sessionId, int upToIndex, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        if (upToIndex < 0)
            throw new BotStoreValidationException($"up_to_index must be at least 0 (got {upToIndex})");
        var (found, marked) = (await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add(MarkReadSql, tenantId, sessionId, upToIndex),
            r => (r.GetBoolean(0), r.GetInt32(1)), Rows.UntilSent(ct)))[0];
        return found ? marked : throw new BotStoreNotFoundException($"session {sessionId} not found");
    });

    /// <summary>A page of the user's unread messages across sessions, oldest first.</summary>
    public Task<Page<Message>> UnreadAsync(long tenantId, Guid userId, string? after = null, int? limit = null, CancellationToken ct = default) =>
        shards.RunAsync(tenantId, async dataSource =>
        {
            var take = Cursor.Limit(limit);
            var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add(UnreadSql, UnreadArgs(tenantId, userId, after, take)),
                r => r.IsDBNull(0) ? null : MessageRows.Read(r), ct);
            if (rows.Count == 0)
                throw new BotStoreNotFoundException($"user {userId} not found");
            return Paging.Page(rows.OfType<Message>().ToList(), take, m => Cursor.Encode(Rows.Key(m.CreatedAt), Rows.Key(m.Id)));
        });

    /// <summary>The arguments of <see cref="UnreadSql"/>.</summary>
    internal static object?[] UnreadArgs(long tenantId, Guid userId, string? after, int take)
    {
        var parts = after is null ? null : Cursor.Decode(after, 2);
        return [tenantId, userId, parts is null ? Rows.Epoch : Rows.TimeKey(parts[0]), parts is null ? Guid.Empty : Rows.IdKey(parts[1]), take + 1];
    }

    private static string HistoryCursor(Message m) =>
        Cursor.Encode("m", m.MessageIndex.ToString(CultureInfo.InvariantCulture), Rows.Key(m.CreatedAt));

    // A bound is a plain message_index or a cursor ("m", index, created_at); cursors start with 'b' in base64url,
    // so they are never all digits.
    private static (int Index, DateTimeOffset? Time) DecodeBound(string value, string name)
    {
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
            return (index, null);
        string[]? parts = null;
        try
        {
            parts = Cursor.Decode(value, 3);
        }
        catch (BotStoreValidationException)
        {
            // answered below, naming the parameter
        }
        return parts is ["m", var i, var t] && int.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out index)
            ? (index, Rows.TimeKey(t))
            : throw new BotStoreValidationException($"{name} must be a message_index or a cursor this list gave out (got '{value}')");
    }

    private static string Show(DateTimeOffset t) => t.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A message checked and made ready for the database.</summary>
    private readonly record struct Row(int Ord, Guid Id, DateTimeOffset CreatedAt, Guid SessionId, int? Index, short Role, short Type,
        string Content, string? Metadata)
    {
        /// <summary>Checks a message; <paramref name="ord"/> is its position in a batch (null for a single append).</summary>
        public static Row From(NewMessage m, int? ord)
        {
            ArgumentNullException.ThrowIfNull(m);
            var id = m.Id ?? Uuid7.New();
            if (!Uuid7.IsVersion7(id))
                throw new BotStoreValidationException($"{At(ord)}id {id} is not a UUIDv7 (its timestamp is the message's created_at)");
            if (m.Content is null)
                throw new BotStoreValidationException($"{At(ord)}content is required");
            if (!TextValues.Storable(m.Content))
                TextValues.Check(m.Content, $"{At(ord)}content");
            if (m.MessageIndex is < 0 or > InputLimits.MaxMessageIndex)
                throw new BotStoreValidationException($"{At(ord)}message_index must be between 0 and {InputLimits.MaxMessageIndex} (got {m.MessageIndex})");
            var metadata = m.Metadata is null or { ValueKind: JsonValueKind.Undefined or JsonValueKind.Null } ? null : JsonValues.Text(m.Metadata, $"{At(ord)}metadata");
            return new Row(ord ?? 0, id, Uuid7.Timestamp(id), m.SessionId, m.MessageIndex, Rows.Value(m.Role), Rows.Value(m.MessageType), m.Content, metadata);
        }

        // The prefix an error names the message by, built only when there is an error to name it in (a batch checks
        // tens of thousands of messages) or metadata to check.
        private static string At(int? ord) => ord is null ? "" : $"messages[{ord}]: ";
    }
}
