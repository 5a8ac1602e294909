using System.Runtime.CompilerServices;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// Bulk loads by binary COPY straight into the partitioned table, for connections whose login role PostgreSQL lets
/// COPY into a table under row-level security (a superuser or a BYPASSRLS role; others take <see cref="BulkCopy"/>).
/// Everything that reads tenant rows still runs as botstore_app with the tenant set, so the policy checks which
/// sessions and stored ids the batch may see exactly as it checks an INSERT; only the COPY of rows the library has
/// already checked, and built itself with the caller's tenant_id, runs as the login role, in the same transaction.
/// </summary>
internal static class DirectCopy
{
    /// <summary>
    /// Leaves botstore_app for the rest of the transaction (the scope set it transaction-locally), and planning
    /// afresh (<see cref="PlanEachBatchSql"/>, sent in the same round trip before the lock and probe): the COPY's
    /// foreign-key checks, one per row, keep their cached plans (planned afresh they made the COPY about twice as slow).
    /// </summary>
    public const string UnscopeSql = "SELECT set_config('role', 'none', true), set_config('plan_cache_mode', 'auto', true)";

    /// <summary>
    /// Which of a batch's ids ($2) with their created_at ($3) the tenant ($1) has stored in <paramref name="table"/>:
    /// a primary-key probe per id, in its one partition, whatever the planner thinks of the arrays' sizes. Only ids
    /// up to the tenant's greatest stored id are probed (found first, one backward step down each partition's
    /// primary key): no id above it can be stored. Ids are UUIDv7s, so new rows are nearly always above it and a
    /// batch of new rows costs no probe at all (they were a tenth of a batch's server time); a retried batch is
    /// probed as before. The bound is read in the probe's own snapshot, so it is as exact as the probe.
    /// </summary>
    public static string StoredIdsSql(string table) => $"""
        SELECT i.id
        FROM unnest($2::uuid[], $3::timestamptz[]) AS i(id, created_at)
        CROSS JOIN LATERAL (
            SELECT FROM {table} t WHERE t.tenant_id = $1 AND t.id = i.id AND t.created_at = i.created_at LIMIT 1
        ) stored
        WHERE i.id <= (SELECT g.id FROM {table} g WHERE g.tenant_id = $1 ORDER BY g.id DESC LIMIT 1)
        """;

    /// <summary>
    /// The probe of <see cref="StoredIdsSql"/> runs once per batch against a partition the batches themselves fill.
    /// Npgsql prepares it, and after five runs PostgreSQL may keep a generic plan made while the partition was
    /// still (nearly) empty: a sequential scan of it for each of the batch's ids, so each batch took longer than the
    /// one before (2 s, then 4, 5, 7, 9, 11, 15 and 28 s for 5,000 ids, seen in <c>bench ingest</c>). Planned afresh
    /// for each batch (well under a millisecond against 5,000 probes), the plan follows the partition's size. A
    /// SELECT (a SET LOCAL that answers a row), so that it is one more result in the batch's round trip.
    /// </summary>
    public const string PlanEachBatchSql = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)";

    /// <summary>
    /// Sent after the lock round trip when the login role may (<see cref="Rights.SkipKeyChecks"/>): the COPY that
    /// follows fires no triggers, so the foreign key of each row to its session is not checked row by row. The batch
    /// has already checked it once per session, and more strictly: the lock read found each row's session for this
    /// tenant (a row whose session it did not find fails the batch before the COPY), and its FOR NO KEY UPDATE lock,
    /// held until commit, is stronger than the FOR KEY SHARE lock the per-row check takes, so no session can be
    /// deleted or change its key before the rows are committed. The per-row checks were about a third of the COPY's
    /// server time (100,000 rows: 1.54 s with them, 0.99 s without). pg_restore --disable-triggers does the same;
    /// BulkIngestTests checks that message_history has no trigger but that foreign key's, so nothing else is skipped.
    /// </summary>
    public const string SkipKeyChecksSql = "SELECT set_config('session_replication_role', 'replica', true)";

    /// <summary>Triggers fire again: sent before the first statement after the COPY (the setting would end at commit anyway).</summary>
    public const string KeyChecksBackSql = "SELECT set_config('session_replication_role', 'origin', true)";

    /// <summary>
    /// What the login role may do on the direct path: <see cref="Copy"/> into a table under row-level security
    /// (superuser or BYPASSRLS), and <see cref="SkipKeyChecks"/> (set session_replication_role: superuser, or
    /// <c>GRANT SET ON PARAMETER session_replication_role</c> since PostgreSQL 15).
    /// </summary>
    public readonly record struct Rights(bool Copy, bool SkipKeyChecks);

    private const string RightsSql = """
        SELECT r.rolsuper OR r.rolbypassrls, has_parameter_privilege('session_replication_role', 'SET')
        FROM pg_roles r WHERE r.rolname = session_user
        """;

    private static readonly ConditionalWeakTable<NpgsqlDataSource, Task<Rights>> Known = new();

    /// <summary>What this data source's login role may do on the direct path (asked once).</summary>
    public static Task<Rights> RightsAsync(NpgsqlDataSource dataSource) =>
        Known.GetValue(dataSource, async ds =>
        {
            await using var cmd = ds.CreateCommand(RightsSql);
            await using var reader = await cmd.ExecuteReaderAsync();
            return await reader.ReadAsync() ? new Rights(reader.GetBoolean(0), reader.GetBoolean(1)) : default;
        });
}
