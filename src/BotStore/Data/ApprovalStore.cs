using System.Globalization;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>A request for a person to approve one step of a task (a row of <c>task_approvals</c>).</summary>
/// <remarks>A pending approval whose expires_at has passed reads as expired even before the sweeper records it.</remarks>
public sealed record TaskApproval(
    Guid Id, Guid TaskId, string Step, RiskLevel RiskLevel, ApprovalStatus Status, DateTimeOffset ExpiresAt,
    DateTimeOffset CreatedAt, DateTimeOffset? DecidedAt, string? Reason, string? DecidedBy);

/// <summary>A recorded decision and the status the task moved to.</summary>
public sealed record ApprovalDecision(TaskApproval Approval, AutoTaskStatus TaskStatus);

/// <summary>What one sweep did: approvals marked expired, tasks failed because of it; Skipped when another runner held the lock.</summary>
public sealed record SweepResult(long Expired, long TasksFailed, bool Skipped);

/// <summary>
/// Approvals. Requesting one moves a running task to waiting_approval in the same statement; a decision is taken
/// once (approve or skip moves the task back to running, reject fails it) and only while the task is waiting and
/// the approval has not expired. <see cref="ExpireOverdueAsync"/> is the cross-tenant sweeper.
/// </summary>
public sealed class ApprovalStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public ApprovalStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    /// <summary>The status column reads expired as soon as a pending approval is overdue, before the sweeper writes it.</summary>
    internal const string Columns =
        "id, task_id, step, risk_level, CASE WHEN status = 0 AND expires_at <= now() THEN 3::smallint ELSE status END, expires_at, created_at, decided_at, reason, decided_by";

    /// <summary>The pending (not yet overdue) approvals of a task, soonest expiry first: <c>idx_approvals_pending</c>.</summary>
    internal const string PendingSql = $"""
        SELECT {Columns} FROM task_approvals
        WHERE tenant_id = $1 AND task_id = $2 AND status = 0 AND expires_at > now()
          AND ($3::timestamptz IS NULL OR (expires_at, id) > ($3, $4))
        ORDER BY expires_at, id LIMIT $5
        """;

    /// <summary>Every approval of a task, oldest first (uuid7 ids are time-ordered): <c>idx_approvals_task</c>.</summary>
    internal const string AllSql = $"""
        SELECT {Columns} FROM task_approvals
        WHERE tenant_id = $1 AND task_id = $2 AND ($3::uuid IS NULL OR id > $3)
        ORDER BY id LIMIT $4
        """;

    /// <summary>One batch of the sweeper ($1 = batch size): overdue pending approvals across all tenants.</summary>
    internal const string SweepSql = """
        WITH due AS (
            SELECT ctid FROM task_approvals
            WHERE status = 0 AND expires_at <= now()
            ORDER BY expires_at LIMIT $1
            FOR UPDATE SKIP LOCKED),
        expired AS (
            UPDATE task_approvals SET status = 3, decided_at = now()
            WHERE ctid = ANY (ARRAY(SELECT ctid FROM due)) AND status = 0
            RETURNING tenant_id, task_id, step, expires_at),
        failed AS (
            UPDATE auto_tasks t SET status = 6, updated_at = now(), finished_at = now(),
                error = format('approval of step %s expired at %s', e.step, e.expires_at)
            FROM expired e
            WHERE t.tenant_id = e.tenant_id AND t.id = e.task_id AND t.status = 4
              AND NOT EXISTS (SELECT FROM task_approvals p
                              WHERE p.tenant_id = t.tenant_id AND p.task_id = t.id AND p.status = 0 AND p.expires_at > now())
            RETURNING t.id)
        SELECT (SELECT count(*) FROM expired), (SELECT count(*) FROM failed)
        """;

    /// <summary>The runner lock of the approval sweeper: one runner at a time per database.</summary>
    internal const long SweepLockKey = RunnerLock.ApprovalSweep;

    private const int MaxPage = 1000;

    /// <summary>
    /// Asks for an approval of <paramref name="step"/> of a running task and moves the task to waiting_approval, in
    /// one statement. A task in any other state is a <see cref="BotStoreConflictException"/> naming it.
    /// </summary>
    public Task<TaskApproval> RequestAsync(long tenantId, Guid taskId, string step, RiskLevel riskLevel, DateTimeOffset expiresAt,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        step = step?.Trim() ?? "";
        if (step.Length is < 1 or > 500)
            throw new BotStoreValidationException("step must have 1 to 500 characters");
        if (expiresAt <= DateTimeOffset.UtcNow)
            throw new BotStoreValidationException($"expires_at must be in the future (got {expiresAt:O})");
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH moved AS (
                UPDATE auto_tasks SET status = 4, updated_at = now()
                WHERE tenant_id = $1 AND id = $2 AND status = 2
                RETURNING id),
            current AS (
                SELECT status FROM auto_tasks
                WHERE tenant_id = $1 AND id = $2 AND NOT EXISTS (SELECT FROM moved)
                FOR SHARE),
            created AS (
                INSERT INTO task_approvals (tenant_id, id, task_id, step, risk_level, expires_at)
                SELECT $1, $3, id, $4, $5, $6 FROM moved
                RETURNING {Columns})
            SELECT (SELECT status FROM current), c.* FROM (VALUES (0)) v LEFT JOIN created c ON true
            """, tenantId, taskId, Uuid7.New(), step, (short)riskLevel, expiresAt.ToUniversalTime());
        await using var reader = await batch.WriteAsync(ct);
        if (!reader.IsDBNull(1))
            return Read(reader, 1);
        if (reader.IsDBNull(0))
            throw TaskStore.NotFound(taskId);
        var status = EnumCatalog.NameOf((AutoTaskStatus)reader.GetInt16(0));
        throw new BotStoreConflictException($"task {taskId} is {status}: an approval can only be requested while it is running");
    });

    /// <summary>The approval with this id.</summary>
    public Task<TaskApproval> GetAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM task_approvals WHERE tenant_id = $1 AND id = $2", tenantId, id);
        await using var reader = await batch.ReadAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, 0) : throw NotFound(id);
    });

    /// <summary>
    /// Decides a pending approval: <see cref="ApprovalStatus.Approved"/> or <see cref="ApprovalStatus.Skipped"/>
    /// move the task back to running, <see cref="ApprovalStatus.Rejected"/> fails it. Only the first decision
    /// counts; a second one, an overdue approval or a task no longer waiting is a <see cref="BotStoreConflictException"/>.
    /// </summary>
    public Task<ApprovalDecision> DecideAsync(long tenantId, Guid id, ApprovalStatus decision, string? reason = null, string? decidedBy = null,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        if (decision is not (ApprovalStatus.Approved or ApprovalStatus.Rejected or ApprovalStatus.Skipped))
            throw new BotStoreValidationException($"a decision is approved, rejected or skipped (got {EnumCatalog.NameOf(decision)})");
        if (reason is { Length: > 2000 } || decidedBy is { Length: > 200 })
            throw new BotStoreValidationException("reason must have at most 2000 characters and decided_by at most 200");
        var taskStatus = decision == ApprovalStatus.Rejected ? AutoTaskStatus.Failed : AutoTaskStatus.Running;
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH decided AS (
                UPDATE task_approvals a SET status = $3, decided_at = now(), reason = $4, decided_by = $5
                WHERE a.tenant_id = $1 AND a.id = $2 AND a.status = 0 AND a.expires_at > now()
                  AND EXISTS (SELECT FROM auto_tasks t WHERE t.tenant_id = $1 AND t.id = a.task_id AND t.status = 4)
                RETURNING {Columns}),
            moved AS (
                UPDATE auto_tasks t SET status = $6, updated_at = now(),
                    finished_at = CASE WHEN $6 = 6 THEN now() END,
                    error = CASE WHEN $6 = 6 THEN format('approval of step %s rejected%s', d.step, ': ' || $4) ELSE t.error END
                FROM decided d WHERE t.tenant_id = $1 AND t.id = d.task_id AND t.status = 4
                RETURNING t.status),
            current AS (
                SELECT {Columns}, (SELECT t.status FROM auto_tasks t WHERE t.tenant_id = $1 AND t.id = task_id)
                FROM task_approvals
                WHERE tenant_id = $1 AND id = $2 AND NOT EXISTS (SELECT FROM decided)
                FOR SHARE)
            SELECT true, d.*, coalesce((SELECT status FROM moved), (SELECT status FROM auto_tasks WHERE tenant_id = $1 AND id = d.task_id))
            FROM decided d
            UNION ALL
            SELECT false, * FROM current
            """, tenantId, id, (short)decision, new NpgsqlParameter<string?> { TypedValue = reason },
            new NpgsqlParameter<string?> { TypedValue = decidedBy }, (short)taskStatus);
        await using var reader = await batch.WriteAsync(ct);
        if (!reader.IsOnRow)
            throw NotFound(id);
        var approval = Read(reader, 1);
        var status = (AutoTaskStatus)reader.GetInt16(11);
        if (reader.GetBoolean(0))
            return new ApprovalDecision(approval, status);
        throw approval.Status switch
        {
            ApprovalStatus.Pending => new BotStoreConflictException(
                $"approval {id} cannot be decided: its task {approval.TaskId} is {EnumCatalog.NameOf(status)}, not waiting_approval"),
            ApprovalStatus.Expired => new BotStoreConflictException($"approval {id} expired at {approval.ExpiresAt:O}"),
            _ => new BotStoreConflictException($"approval {id} was already decided: {EnumCatalog.NameOf(approval.Status)}"),
        };
    });

    /// <summary>One keyset page of a task's approvals: only the pending ones (soonest expiry first), or all (oldest first).</summary>
    public Task<Page<TaskApproval>> ListAsync(long tenantId, Guid taskId, bool pendingOnly, string? after = null, int? limit = null,
        CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit, max: MaxPage);
        object?[] args;
        if (pendingOnly)
        {
            var key = Paging.ParseCursor(after, 2, p =>
                (Expiry: new DateTimeOffset(long.Parse(p[0], CultureInfo.InvariantCulture), TimeSpan.Zero), Id: Guid.Parse(p[1])));
            args = [tenantId, taskId, new NpgsqlParameter<DateTimeOffset?> { TypedValue = key?.Expiry }, new NpgsqlParameter<Guid?> { TypedValue = key?.Id }, take + 1];
        }
        else
        {
            args = [tenantId, taskId, new NpgsqlParameter<Guid?> { TypedValue = Paging.ParseCursor(after, 1, p => Guid.Parse(p[0])) }, take + 1];
        }
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add("SELECT EXISTS (SELECT FROM auto_tasks WHERE tenant_id = $1 AND id = $2)", tenantId, taskId)
            .Add(pendingOnly ? PendingSql : AllSql, args);
        return await Paging.ReadPageAsync(batch, take, r => Read(r, 0), a => pendingOnly
                ? Cursor.Encode(a.ExpiresAt.UtcTicks.ToString(CultureInfo.InvariantCulture), a.Id.ToString())
                : Cursor.Encode(a.Id.ToString()),
            () => TaskStore.NotFound(taskId), ct);
    });

    /// <summary>
    /// Marks overdue pending approvals of every tenant expired, <paramref name="batchSize"/> per transaction until
    /// none is left, and fails their tasks when they are still waiting on nothing else. Runs as the owner (a member of
    /// botstore_maintainer), not as a tenant, on a direct connection. Two sweepers never work at once: the one that does
    /// not get the runner lock returns with <see cref="SweepResult.Skipped"/>.
    /// </summary>
    public async Task<SweepResult> ExpireOverdueAsync(int batchSize = 1000, CancellationToken ct = default)
    {
        // Every shard sweeps its own tenants on its direct connection (the lock is a session lock).
        var perShard = await shards.AllAsync((shard, token) => Sweeps.RunAsync(shard.Direct, SweepSql, SweepLockKey, batchSize, token), ct);
        return new SweepResult(perShard.Sum(s => s.Value.Rows), perShard.Sum(s => s.Value.Effects), perShard.All(s => s.Value.Skipped));
    }

    private static BotStoreNotFoundException NotFound(Guid id) => new($"approval {id} not found");

    private static TaskApproval Read(NpgsqlDataReader r, int o) => new(
        r.GetGuid(o), r.GetGuid(o + 1), r.GetString(o + 2), (RiskLevel)r.GetInt16(o + 3), (ApprovalStatus)r.GetInt16(o + 4),
        r.GetFieldValue<DateTimeOffset>(o + 5), r.GetFieldValue<DateTimeOffset>(o + 6),
        r.IsDBNull(o + 7) ? null : r.GetFieldValue<DateTimeOffset>(o + 7),
        r.IsDBNull(o + 8) ? null : r.GetString(o + 8), r.IsDBNull(o + 9) ? null : r.GetString(o + 9));
}
