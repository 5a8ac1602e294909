using BotStore.Data.Internal;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data;

/// <summary>
/// Bulk append by binary COPY straight into message_history (see <see cref="DirectCopy"/>): in one transaction,
/// one round trip as botstore_app locks the batch's sessions in id order and finds which ids are stored; the
/// library then skips those, numbers the rest from the locked counters and checks every rule (the same rules, in
/// the same words, as bulk_append_messages.sql); binary COPY writes the fully formed rows; one UPDATE as
/// botstore_app moves the counters.
/// </summary>
public sealed partial class MessageStore
{
    /// <summary>The batch's sessions of this tenant, locked in id order (concurrent batches cannot deadlock).</summary>
    internal const string LockBatchSessionsSql = """
        SELECT s.id, s.user_id, s.message_count, s.last_activity_at, now()
        FROM user_sessions s
        WHERE s.tenant_id = $1 AND s.id = ANY ($2)
        ORDER BY s.id
        FOR NO KEY UPDATE
        """;

    /// <summary>Which of the batch's (id, created_at) are stored: a primary-key probe per id, in its one partition.</summary>
    internal static readonly string StoredIdsSql = DirectCopy.StoredIdsSql("message_history");

    internal const string CopyMessagesSql = """
        COPY message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content, metadata)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>Moves each session's counters past what the batch wrote.</summary>
    internal const string BumpSessionsSql = """
        UPDATE user_sessions s
        SET message_count = greatest(s.message_count, b.next_index), last_activity_at = greatest(s.last_activity_at, b.latest)
        FROM unnest($2::uuid[], $3::int[], $4::timestamptz[]) AS b(id, next_index, latest)
        WHERE s.tenant_id = $1 AND s.id = b.id
        """;

    private readonly record struct LockedSession(Guid UserId, int MessageCount, DateTimeOffset LastActivityAt);

    private readonly record struct Numbered(Row Row, Guid UserId, int Index);

    private static async Task<int> CopyBatchAsync(NpgsqlDataSource dataSource, long tenantId, List<Row> rows, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await DirectCopy.PlanEachBatchAsync(conn, ct);
        var sessions = new Dictionary<Guid, LockedSession>();
        var stored = new HashSet<Guid>();
        DateTimeOffset now;
        await using (var batch = TenantScope.Batch(conn, tenantId)
            .Add(LockBatchSessionsSql, tenantId, rows.Select(r => r.SessionId).Distinct().ToArray())
            .Add(StoredIdsSql, tenantId, rows.Select(r => r.Id).ToArray(), rows.Select(r => r.CreatedAt).ToArray())
            .Add(DirectCopy.UnscopeSql))
        {
            await using var reader = await batch.ReadAsync(ct);
            now = DateTimeOffset.MinValue;
            while (await reader.ReadAsync(ct))
            {
                sessions[reader.GetGuid(0)] = new LockedSession(reader.GetGuid(1), reader.GetInt32(2), reader.Time(3));
                now = reader.Time(4);
            }
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
                stored.Add(reader.GetGuid(0));
        }
        var fresh = rows.Where(r => !stored.Contains(r.Id)).DistinctBy(r => r.Id).ToList();
        if (fresh.Count == 0)
            return 0;
        var numbered = Number(fresh, sessions, now);
        await BulkCopy.CopyAsync(conn, CopyMessagesSql, numbered.OrderBy(n => n.Row.CreatedAt).ToList(), (w, n, token) => WriteStoredAsync(w, tenantId, n, token), ct);
        var bumps = numbered.GroupBy(n => n.Row.SessionId).ToList();
        await using (var bump = TenantScope.Batch(conn, tenantId).Add(BumpSessionsSql, tenantId, bumps.Select(g => g.Key).ToArray(),
            bumps.Select(g => g.Max(n => n.Index) + 1).ToArray(), bumps.Select(g => g.Max(n => n.Row.CreatedAt)).ToArray()))
            await bump.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return numbered.Count;
    }

    // Numbers and checks the new rows of a batch exactly as bulk_append_messages.sql does; the first row (in batch
    // order) that breaks a rule fails the batch.
    private static List<Numbered> Number(List<Row> fresh, Dictionary<Guid, LockedSession> sessions, DateTimeOffset now)
    {
        var index = new Dictionary<int, int>();
        foreach (var group in fresh.GroupBy(r => r.SessionId))
        {
            if (!sessions.TryGetValue(group.Key, out var session))
                continue;
            var next = Math.Max(session.MessageCount, group.Max(r => r.Index ?? -1) + 1);
            foreach (var r in group.Where(r => r.Index is null).OrderBy(r => r.CreatedAt).ThenBy(r => r.Ord))
                index[r.Ord] = next++;
            foreach (var r in group.Where(r => r.Index is not null))
                index[r.Ord] = r.Index!.Value;
        }
        var repeated = fresh.Where(r => index.ContainsKey(r.Ord)).GroupBy(r => (r.SessionId, index[r.Ord])).Where(g => g.Count() > 1)
            .SelectMany(g => g).Select(r => r.Ord).ToHashSet();
        // The latest message before each one in index order, the session's own latest activity included.
        var latestBefore = new Dictionary<int, DateTimeOffset>();
        foreach (var group in fresh.Where(r => index.ContainsKey(r.Ord)).GroupBy(r => r.SessionId))
        {
            var latest = sessions[group.Key].LastActivityAt;
            foreach (var r in group.OrderBy(r => index[r.Ord]))
            {
                latestBefore[r.Ord] = latest;
                latest = latest > r.CreatedAt ? latest : r.CreatedAt;
            }
        }
        foreach (var r in fresh)
        {
            var at = $"messages[{r.Ord}]";
            if (!sessions.TryGetValue(r.SessionId, out var session))
                throw new BotStoreNotFoundException($"{at}.session_id refers to something that does not exist: session {r.SessionId} does not exist");
            if (r.Index < session.MessageCount)
                throw new BotStoreValidationException($"{at}.message_index is not valid: message_index {r.Index} is taken: session {r.SessionId} already has {session.MessageCount} messages");
            if (repeated.Contains(r.Ord))
                throw new BotStoreValidationException($"{at}.message_index is not valid: message_index {index[r.Ord]} appears more than once for session {r.SessionId}");
            if (r.CreatedAt < latestBefore[r.Ord] - MaxBackdating)
                throw new BotStoreValidationException($"{at}.id is not valid: the timestamp in the id ({Show(r.CreatedAt)}) is more than an hour before the latest message of session {r.SessionId} before it ({Show(latestBefore[r.Ord])})");
            if (r.CreatedAt > now + MaxBackdating)
                throw new BotStoreValidationException($"{at}.id is not valid: the timestamp in the id ({Show(r.CreatedAt)}) is more than an hour ahead of the database's clock");
        }
        return fresh.Select(r => new Numbered(r, sessions[r.SessionId].UserId, index[r.Ord])).ToList();
    }

    private static async Task WriteStoredAsync(NpgsqlBinaryImporter w, long tenantId, Numbered n, CancellationToken ct)
    {
        var r = n.Row;
        await w.WriteAsync(tenantId, NpgsqlDbType.Bigint, ct);
        await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz, ct);
        await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.SessionId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(n.UserId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(n.Index, NpgsqlDbType.Integer, ct);
        await w.WriteAsync(r.Role, NpgsqlDbType.Smallint, ct);
        await w.WriteAsync(r.Type, NpgsqlDbType.Smallint, ct);
        await w.WriteAsync(r.Role == 1, NpgsqlDbType.Boolean, ct);
        await w.WriteAsync(r.Content, NpgsqlDbType.Text, ct);
        await w.WriteAsync(r.Metadata, NpgsqlDbType.Jsonb, ct);
    }
}
