using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A conversation of one user with one bot on one channel.</summary>
public sealed record Session(Guid Id, Guid UserId, Guid BotId, ChannelType Channel, string? Title, int MessageCount,
    DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt);

/// <summary>A session as a user's session list shows it.</summary>
public sealed record SessionSummary(Guid Id, Guid UserId, string? Title, int MessageCount, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt);

/// <summary>A session with its latest messages, newest first.</summary>
public sealed record SessionDigest(SessionSummary Session, IReadOnlyList<Message> LastMessages);

/// <summary>
/// Sessions. Lists are keyset pages newest first on (created_at, id). A user's list is one read of the user's entries
/// in idx_sessions_covering (the counters from the heap: see 0029_hot_session_counters.sql); with messages it is still
/// one statement, whatever the number of sessions.
/// </summary>
public sealed class SessionStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public SessionStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    /// <summary>The most latest messages per session a digest carries.</summary>
    public const int MaxDigestMessages = 100;

    private const string Columns = "id, user_id, bot_id, channel, title, message_count, created_at, last_activity_at";
    private const string SummaryColumns = "s.id, s.user_id, s.title, s.message_count, s.created_at, s.last_activity_at";

    // The page of the user's sessions, as a lateral join from the user so that an unknown user (no row) is told
    // from a user without sessions (one row of nulls). $3/$4: the (created_at, id) of the last row of the previous page.
    private const string UserPage = """
        SELECT s.id, s.user_id, s.title, s.message_count, s.created_at, s.last_activity_at
        FROM user_sessions s
        WHERE s.tenant_id = $1 AND s.user_id = $2
          AND s.created_at <= $3 AND (s.created_at < $3 OR s.id < $4)
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT $5
        """;

    /// <summary>A page of a user's sessions, from idx_sessions_covering.</summary>
    internal const string ListByUserSql = $"""
        SELECT {SummaryColumns}
        FROM users u
        LEFT JOIN LATERAL ({UserPage}) s ON true
        WHERE u.tenant_id = $1 AND u.id = $2
        ORDER BY s.created_at DESC, s.id DESC
        """;

    /// <summary>The same page with the last $6 messages of each session, in one statement.</summary>
    internal const string ListByUserWithMessagesSql = $"""
        SELECT {SummaryColumns}, {MessageRows.Columns}
        FROM users u
        LEFT JOIN LATERAL ({UserPage}) s ON true
        LEFT JOIN LATERAL (
            SELECT * FROM message_history m
            WHERE m.tenant_id = $1 AND m.session_id = s.id AND m.created_at >= s.created_at - {MessageRows.Backdating}
            ORDER BY m.message_index DESC
            LIMIT $6
        ) m ON true
        WHERE u.tenant_id = $1 AND u.id = $2
        ORDER BY s.created_at DESC, s.id DESC, m.message_index DESC
        """;

    /// <summary>A page of the tenant's sessions, newest first, from idx_sessions_tenant.</summary>
    internal const string ListByTenantSql = $"""
        SELECT {Columns} FROM user_sessions
        WHERE tenant_id = $1 AND created_at <= $2 AND (created_at < $2 OR id < $3)
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """;

    /// <summary>
    /// Starts a session. <paramref name="createdAt"/> is for backfills and load generation (default: the database's
    /// now); a session's messages may be at most <see cref="MessageStore.MaxBackdating"/> older than it.
    /// </summary>
    public Task<Session> CreateAsync(long tenantId, Guid userId, Guid botId, ChannelType channel, string? title = null,
        DateTimeOffset? createdAt = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        // A deactivated bot takes no new sessions; a missing user or bot fails the foreign key (not found).
        var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add($"""
            INSERT INTO user_sessions (tenant_id, id, user_id, bot_id, channel, title, created_at, last_activity_at)
            SELECT $1, $2, $3, $4, $5, $6, t, t FROM coalesce($7::timestamptz, now()) AS t
            WHERE NOT EXISTS (SELECT 1 FROM bots WHERE tenant_id = $1 AND id = $4 AND NOT is_active)
            RETURNING {Columns}
            """, tenantId, Uuid7.New(), userId, botId, Rows.Value(channel), title is null ? null : Rows.Text(title, "title", 500),
            new NpgsqlParameter<DateTimeOffset?> { TypedValue = createdAt?.ToUniversalTime() }), Read, Rows.UntilSent(ct));
        return rows is [var session] ? session : throw new BotStoreConflictException($"bot {botId} is deactivated and takes no new sessions");
    });

    /// <summary>The session with this id.</summary>
    public Task<Session> GetAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, dataSource =>
        Rows.SingleAsync(TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM user_sessions WHERE tenant_id = $1 AND id = $2", tenantId, id), Read, $"session {id}", ct));

    /// <summary>A page of the user's sessions, newest first.</summary>
    public Task<Page<SessionSummary>> ListByUserAsync(long tenantId, Guid userId, string? after = null, int? limit = null,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit);
        var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add(ListByUserSql, ListByUserArgs(tenantId, userId, after, take)),
            r => r.IsDBNull(0) ? null : ReadSummary(r), ct);
        if (rows.Count == 0)
            throw new BotStoreNotFoundException($"user {userId} not found");
        return Paging.Page(rows.OfType<SessionSummary>().ToList(), take, SummaryCursor);
    });

    /// <summary>
    /// A page of the user's sessions, each with its last <paramref name="lastMessages"/> messages (newest first), in one
    /// round trip and one statement, whatever the number of sessions.
    /// </summary>
    public Task<Page<SessionDigest>> ListByUserWithMessagesAsync(long tenantId, Guid userId, int lastMessages, string? after = null,
        int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        if (lastMessages is < 1 or > MaxDigestMessages)
            throw new BotStoreValidationException($"messages must be between 1 and {MaxDigestMessages} (got {lastMessages})");
        var take = Cursor.Limit(limit);
        var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId)
                .Add(ListByUserWithMessagesSql, [.. ListByUserArgs(tenantId, userId, after, take), lastMessages]),
            r => (Session: r.IsDBNull(0) ? null : ReadSummary(r), Message: r.IsDBNull(6) ? null : MessageRows.Read(r, 6)), ct);
        if (rows.Count == 0)
            throw new BotStoreNotFoundException($"user {userId} not found");
        var digests = rows.Where(r => r.Session is not null)
            .GroupBy(r => r.Session!.Id)
            .Select(g => new SessionDigest(g.First().Session!, g.Select(r => r.Message).OfType<Message>().ToList()))
            .ToList();
        return Paging.Page(digests, take, d => SummaryCursor(d.Session));
    });

    /// <summary>The arguments of <see cref="ListByUserSql"/> (and the first five of the digest's).</summary>
    internal static object?[] ListByUserArgs(long tenantId, Guid userId, string? after, int take)
    {
        var (time, id) = after is null ? (Rows.Never, Rows.MaxId) : DecodeCursor(after);
        return [tenantId, userId, time, id, take + 1];
    }

    /// <summary>A page of the tenant's sessions, newest first.</summary>
    public Task<Page<Session>> ListByTenantAsync(long tenantId, string? after = null, int? limit = null, CancellationToken ct = default) =>
        shards.RunAsync(tenantId, async dataSource =>
        {
            var take = Cursor.Limit(limit);
            var (time, id) = after is null ? (Rows.Never, Rows.MaxId) : DecodeCursor(after);
            var rows = await Rows.ListAsync(TenantScope.Batch(dataSource, tenantId).Add(ListByTenantSql, tenantId, time, id, take + 1), Read, ct);
            return Paging.Page(rows, take, s => Cursor.Encode(Rows.Key(s.CreatedAt), Rows.Key(s.Id)));
        });

    private static string SummaryCursor(SessionSummary s) => Cursor.Encode(Rows.Key(s.CreatedAt), Rows.Key(s.Id));

    private static (DateTimeOffset Time, Guid Id) DecodeCursor(string cursor)
    {
        var parts = Cursor.Decode(cursor, 2);
        return (Rows.TimeKey(parts[0]), Rows.IdKey(parts[1]));
    }

    private static Session Read(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), (ChannelType)r.GetInt16(3), r.NullableString(4), r.GetInt32(5), r.Time(6), r.Time(7));

    private static SessionSummary ReadSummary(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetGuid(1), r.NullableString(2), r.GetInt32(3), r.Time(4), r.Time(5));
}
