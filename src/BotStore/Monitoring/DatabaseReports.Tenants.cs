using BotStore.Internal;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>Above this many messages (estimate), <see cref="TenantsAsync"/> counts a block sample instead of every row.</summary>
    public const long TenantSampleAbove = 2_000_000;

    /// <summary>
    /// The tenants with most messages: messages, their bytes, the latest one, bots and users. Counting messages
    /// per tenant reads message_history; past <see cref="TenantSampleAbove"/> rows it reads a block sample of
    /// about that many rows (TABLESAMPLE SYSTEM) and scales the figures up, which <see cref="TenantReport.SampledPercent"/> says.
    /// Runs as the owner (a member of botstore_maintainer), which sees every tenant.
    /// </summary>
    public Task<TenantReport> TenantsAsync(int limit = 20, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var estimate = new NpgsqlCommand("""
            SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::float8
            FROM pg_partition_tree('message_history') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf
            """, conn);
        var rows = (double)(await estimate.ExecuteScalarAsync(ct))!;
        var percent = rows > TenantSampleAbove ? Math.Max(0.01, 100.0 * TenantSampleAbove / rows) : 100.0;
        await using var cmd = new NpgsqlCommand("""
            WITH m AS (
                SELECT tenant_id, count(*) AS messages, sum(pg_column_size(m.*)) AS bytes, max(created_at) AS latest
                FROM message_history m TABLESAMPLE SYSTEM ($2::real)
                GROUP BY tenant_id
            ), top AS (
                SELECT t.id, t.name, t.is_active, coalesce(m.messages, 0) AS messages, coalesce(m.bytes, 0) AS bytes, m.latest
                FROM tenants t LEFT JOIN m ON m.tenant_id = t.id
                ORDER BY 4 DESC, t.id
                LIMIT $1
            )
            SELECT id, name, is_active, messages, bytes, latest,
                   (SELECT count(*) FROM bots b WHERE b.tenant_id = top.id),
                   (SELECT count(*) FROM users u WHERE u.tenant_id = top.id),
                   (SELECT count(*) FROM tenants)
            FROM top
            ORDER BY messages DESC, id
            """, conn).With(Math.Clamp(limit, 1, 1000), percent);
        var scale = 100.0 / percent;
        var tenants = new List<TenantUsage>();
        var total = 0L;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            tenants.Add(new TenantUsage(reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), (long)(reader.GetInt64(3) * scale),
                (long)(reader.GetInt64(4) * scale), NullableTime(reader, 5), reader.GetInt64(6), reader.GetInt64(7)));
            total = reader.GetInt64(8);
        }
        return new TenantReport(total, percent < 100 ? percent : null, tenants);
    });
}

/// <summary>The tenants with most messages.</summary>
/// <param name="Tenants">All tenants.</param>
/// <param name="SampledPercent">The share of message_history's blocks that was read, when the figures are scaled from a sample; null when every row was counted.</param>
/// <param name="Top">The tenants with most messages, most first.</param>
public sealed record TenantReport(long Tenants, double? SampledPercent, IReadOnlyList<TenantUsage> Top);

/// <summary>One tenant's usage.</summary>
/// <param name="Id">The tenant.</param>
/// <param name="Name">Its name.</param>
/// <param name="IsActive">Whether it is active.</param>
/// <param name="Messages">Its messages (scaled when sampled).</param>
/// <param name="MessageBytes">Their row bytes (scaled when sampled).</param>
/// <param name="LatestMessage">Its newest message (in the sample).</param>
/// <param name="Bots">Its bots.</param>
/// <param name="Users">Its users.</param>
public sealed record TenantUsage(long Id, string Name, bool IsActive, long Messages, long MessageBytes, DateTimeOffset? LatestMessage, long Bots, long Users);
