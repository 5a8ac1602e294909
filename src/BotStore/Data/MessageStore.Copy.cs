using BotStore.Data.Internal;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data;

/// <summary>
/// Bulk append by binary COPY straight into message_history (see <see cref="DirectCopy"/>): in one transaction,
/// one round trip as botstore_app locks the batch's sessions in id order and finds which ids are stored; the
/// library then skips those, numbers the rest from the locked counters and checks every rule (the same rules, in
/// the same words, as bulk_append_messages.sql); binary COPY writes the fully formed rows (without a foreign-key
/// check per row when the login role may skip it: the session locks stand for it, see
/// <see cref="DirectCopy.SkipKeyChecksSql"/>); one UPDATE as botstore_app moves the counters.
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

    /// <summary>
    /// Moves each session's counters past what the batch wrote. Joined to the arrays only: with <c>s.id = ANY ($2)</c>
    /// added, the generic plan PostgreSQL may switch to after five runs finds the sessions by that condition (estimated
    /// at one row) and unnests the arrays again for each of them (20,000 x 20,000): one UPDATE of a 100,000-row batch
    /// ran past the 30 s command timeout in <c>bench all --messages 10M</c>. Joined this way, the generic plan unnests
    /// once and probes the primary key per session.
    /// </summary>
    internal const string BumpSessionsSql = """
        UPDATE user_sessions s
        SET message_count = greatest(s.message_count, b.next_index), last_activity_at = greatest(s.last_activity_at, b.latest)
        FROM unnest($2::uuid[], $3::int[], $4::timestamptz[]) AS b(id, next_index, latest)
        WHERE s.tenant_id = $1 AND s.id = b.id
        """;

    private readonly record struct LockedSession(Guid UserId, int MessageCount, DateTimeOffset LastActivityAt);

    private readonly record struct Numbered(Row Row, Guid UserId, int Index);

    /// <summary>One batch on the direct path with its steps timed, for <c>bench ingest-steps</c>.</summary>
    internal static async Task<int> TimedBatchAsync(NpgsqlDataSource dataSource, long tenantId, IReadOnlyList<NewMessage> messages, BatchLaps laps,
        CancellationToken ct)
    {
        laps.Start();
        var rows = messages.Select((m, i) => Row.From(m, i)).ToList();
        laps.Lap("check the messages");
        return await CopyBatchAsync(dataSource, tenantId, rows, ct, laps);
    }

    private static async Task<int> CopyBatchAsync(NpgsqlDataSource dataSource, long tenantId, List<Row> rows, CancellationToken ct, BatchLaps? laps = null)
    {
        var rights = await DirectCopy.RightsAsync(dataSource);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var batchPlan = new BatchPlan(rows);
        laps?.Lap("open, group by session");
        var sessions = new Dictionary<Guid, LockedSession>(batchPlan.Sessions.Count);
        var stored = new HashSet<Guid>();
        var now = DateTimeOffset.MinValue;
        // One round trip: plan afresh, lock, probe, back to the login role (and its COPY without per-row key checks,
        // which the lock stands for). While the server works, the client orders the rows (the order does not depend
        // on what it answers).
        var first = TenantScope.Batch(conn, tenantId)
            .Add(DirectCopy.PlanEachBatchSql)
            .Add(LockBatchSessionsSql, tenantId, batchPlan.Sessions.Keys.ToArray())
            .Add(StoredIdsSql, tenantId, rows.Select(r => r.Id).ToArray(), rows.Select(r => r.CreatedAt).ToArray())
            .Add(DirectCopy.UnscopeSql);
        if (rights.SkipKeyChecks)
            first.Add(DirectCopy.SkipKeyChecksSql);
        await using (var batch = first)
        {
            var reading = batch.ReadAsync(ct);
            batchPlan.Order();
            await using var reader = await reading;
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sessions[reader.GetGuid(0)] = new LockedSession(reader.GetGuid(1), reader.GetInt32(2), reader.Time(3));
                now = reader.Time(4);
            }
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
                stored.Add(reader.GetGuid(0));
        }
        laps?.Lap("lock sessions + probe stored ids (one round trip; rows ordered meanwhile)");
        var numbered = batchPlan.Number(stored, sessions, now);
        laps?.Lap("number and check (client)");
        if (numbered.Rows.Count == 0)
            return 0;
        await BulkCopy.CopyAsync(conn, CopyMessagesSql, numbered.Rows, (w, n, token) => WriteStoredAsync(w, tenantId, n, token), ct);
        laps?.Lap("binary COPY into message_history");
        await using (var bump = TenantScope.Batch(conn, tenantId).Add(BumpSessionsSql, tenantId, numbered.BumpIds, numbered.BumpNext, numbered.BumpLatest))
        {
            if (rights.SkipKeyChecks)
                bump.BatchCommands.Insert(0, new NpgsqlBatchCommand(DirectCopy.KeyChecksBackSql));
            await bump.ExecuteNonQueryAsync(ct);
        }
        laps?.Lap("UPDATE the sessions' counters");
        await tx.CommitAsync(ct);
        laps?.Lap("COMMIT");
        return numbered.Rows.Count;
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
