using System.Globalization;
using System.Text.Json;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>An autonomous task of a bot (a row of <c>auto_tasks</c>).</summary>
public sealed record AutoTask(
    Guid Id, Guid BotId, Guid? SessionId, string Title, AutoTaskStatus Status, TaskPriority Priority,
    ExecutionMode ExecutionMode, IntentType IntentType, RiskLevel RiskLevel, short Progress, string? Error,
    JsonElement? Payload, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>What a new task is made of; it starts pending.</summary>
public sealed record NewTask(
    Guid BotId, string Title, IntentType IntentType = IntentType.Unknown, TaskPriority Priority = TaskPriority.Normal,
    ExecutionMode ExecutionMode = ExecutionMode.Supervised, RiskLevel RiskLevel = RiskLevel.None,
    Guid? SessionId = null, JsonElement? Payload = null);

/// <summary>
/// Tasks and their life cycle. Every status change is one compare-and-set statement whose allowed <c>from</c> set
/// comes from <see cref="TaskStateMachine"/>, so of two racing moves at most one wins; the loser learns the state
/// that beat it in the same round trip. started_at is set by the first move to running, finished_at by a move to
/// a final state (and cleared by a retry).
/// </summary>
public sealed class TaskStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public TaskStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    internal const string Columns =
        "id, bot_id, session_id, title, status, priority, execution_mode, intent_type, risk_level, progress, error, payload, created_at, updated_at, started_at, finished_at";

    /// <summary>The active tasks of a tenant (optionally one bot), by status, priority and id, all descending; keyset on the three.</summary>
    internal const string ActiveSql = $"""
        SELECT {Columns} FROM auto_tasks
        WHERE tenant_id = $1 AND status < 5 AND ($2::uuid IS NULL OR bot_id = $2)
          AND ($3::smallint IS NULL OR (status, priority, id) < ($3, $4, $5))
        ORDER BY status DESC, priority DESC, id DESC LIMIT $6
        """;

    /// <summary>Every task of a tenant (optionally one bot), newest first.</summary>
    internal const string AllSql = $"""
        SELECT {Columns} FROM auto_tasks
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR bot_id = $2) AND ($3::uuid IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4
        """;

    internal const string BotExistsSql = "SELECT $2::uuid IS NULL OR EXISTS (SELECT FROM bots WHERE tenant_id = $1 AND id = $2)";

    private const int MaxPage = 1000;

    /// <summary>Creates a pending task; the bot (and the session, when given) must belong to the tenant.</summary>
    public Task<AutoTask> CreateAsync(long tenantId, NewTask task, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        ArgumentNullException.ThrowIfNull(task);
        var title = task.Title?.Trim();
        if (string.IsNullOrEmpty(title) || title.Length > 500)
            throw new BotStoreValidationException("title must have 1 to 500 characters");
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH bot AS (SELECT FROM bots WHERE tenant_id = $1 AND id = $3),
                 session AS (SELECT FROM user_sessions WHERE tenant_id = $1 AND id = $4),
                 created AS (
                     INSERT INTO auto_tasks (tenant_id, id, bot_id, session_id, title, intent_type, priority, execution_mode, risk_level, payload)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
                     WHERE EXISTS (SELECT FROM bot) AND ($4 IS NULL OR EXISTS (SELECT FROM session))
                     RETURNING {Columns})
            SELECT EXISTS (SELECT FROM bot), $4 IS NULL OR EXISTS (SELECT FROM session), c.*
            FROM (VALUES (0)) v LEFT JOIN created c ON true
            """, tenantId, Uuid7.New(), task.BotId, new NpgsqlParameter<Guid?> { TypedValue = task.SessionId }, title,
            (short)task.IntentType, (short)task.Priority, (short)task.ExecutionMode, (short)task.RiskLevel,
            JsonValues.Parameter(task.Payload, "payload"));
        await using var reader = await batch.WriteAsync(ct);
        if (!reader.GetBoolean(0))
            throw new BotStoreNotFoundException($"bot {task.BotId} not found");
        if (!reader.GetBoolean(1))
            throw new BotStoreNotFoundException($"session {task.SessionId} not found");
        return Read(reader, 2);
    });

    /// <summary>The task with this id.</summary>
    public Task<AutoTask> GetAsync(long tenantId, Guid id, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add($"SELECT {Columns} FROM auto_tasks WHERE tenant_id = $1 AND id = $2", tenantId, id);
        await using var reader = await batch.ReadAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, 0) : throw NotFound(id);
    });

    /// <summary>
    /// Moves a task to <paramref name="to"/>. With <paramref name="expectedFrom"/> the move happens only from that
    /// state; otherwise from any state the machine allows. An illegal move, or one that lost a race, is a
    /// <see cref="BotStoreConflictException"/> naming the current state. <paramref name="error"/> replaces the
    /// task's error text (use it with failed).
    /// </summary>
    public Task<AutoTask> TransitionAsync(long tenantId, Guid id, AutoTaskStatus to, AutoTaskStatus? expectedFrom = null,
        string? error = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var sources = TaskStateMachine.Sources(to).Where(s => expectedFrom is null || s == expectedFrom).Select(s => (short)s).ToArray();
        var (moved, task) = await ChangeAsync(dataSource, tenantId, id, """
            status = $3,
            started_at = CASE WHEN $3 = 2 THEN coalesce(started_at, now()) ELSE started_at END,
            finished_at = CASE WHEN $3 >= 5 THEN now() END,
            progress = CASE WHEN $3 = 5 THEN 100 ELSE progress END,
            error = coalesce($5, error)
            """, "status = ANY ($4)", [(short)to, sources, new NpgsqlParameter<string?> { TypedValue = CheckError(error) }], ct);
        return moved ? task : throw Refused(task, to, expectedFrom);
    });

    /// <summary>Records progress (0-100) and, when given, an error text, on a task that is still active.</summary>
    public Task<AutoTask> UpdateProgressAsync(long tenantId, Guid id, int? progress, string? error = null, CancellationToken ct = default) =>
        shards.RunAsync(tenantId, async dataSource =>
    {
        if (progress is < 0 or > 100)
            throw new BotStoreValidationException($"progress must be between 0 and 100 (got {progress})");
        if (progress is null && error is null)
            throw new BotStoreValidationException("give progress, error or both");
        var (updated, task) = await ChangeAsync(dataSource, tenantId, id, "progress = coalesce($3, progress), error = coalesce($4, error)", "status < 5",
            [new NpgsqlParameter<short?> { TypedValue = (short?)progress }, new NpgsqlParameter<string?> { TypedValue = CheckError(error) }], ct);
        return updated
            ? task
            : throw new BotStoreConflictException($"task {id} is {EnumCatalog.NameOf(task.Status)}: a finished task takes no more progress");
    });

    /// <summary>
    /// One keyset page of the tenant's tasks, optionally of one bot. Active tasks come by status, priority and id
    /// (all descending: waiting_approval first, then the most urgent, then the newest); all tasks come newest first.
    /// </summary>
    public Task<Page<AutoTask>> ListAsync(long tenantId, bool activeOnly = true, Guid? botId = null, string? after = null,
        int? limit = null, CancellationToken ct = default) => shards.RunAsync(tenantId, async dataSource =>
    {
        var take = Cursor.Limit(limit, max: MaxPage);
        var bot = new NpgsqlParameter<Guid?> { TypedValue = botId };
        object?[] args;
        if (activeOnly)
        {
            var key = Paging.ParseCursor(after, 3, p =>
                (Status: short.Parse(p[0], CultureInfo.InvariantCulture), Priority: short.Parse(p[1], CultureInfo.InvariantCulture), Id: Guid.Parse(p[2])));
            args = [tenantId, bot, new NpgsqlParameter<short?> { TypedValue = key?.Status }, new NpgsqlParameter<short?> { TypedValue = key?.Priority },
                    new NpgsqlParameter<Guid?> { TypedValue = key?.Id }, take + 1];
        }
        else
        {
            args = [tenantId, bot, new NpgsqlParameter<Guid?> { TypedValue = Paging.ParseCursor(after, 1, p => Guid.Parse(p[0])) }, take + 1];
        }
        await using var batch = TenantScope.Batch(dataSource, tenantId)
            .Add(BotExistsSql, tenantId, bot.Clone())
            .Add(activeOnly ? ActiveSql : AllSql, args);
        return await Paging.ReadPageAsync(batch, take, r => Read(r, 0), t => activeOnly
                ? Cursor.Encode(((short)t.Status).ToString(CultureInfo.InvariantCulture), ((short)t.Priority).ToString(CultureInfo.InvariantCulture), t.Id.ToString())
                : Cursor.Encode(t.Id.ToString()),
            () => new BotStoreNotFoundException($"bot {botId} not found"), ct);
    });

    /// <summary>
    /// Changes a task in one statement where <paramref name="guard"/> holds, or, when it does not, reads the task as
    /// it now is (locking read: after a racing change it sees the winner's row). $1 is the tenant, $2 the id, $3 on
    /// are <paramref name="args"/>. No row at all: the task does not exist.
    /// </summary>
    private static async Task<(bool Changed, AutoTask Task)> ChangeAsync(NpgsqlDataSource dataSource, long tenantId, Guid id, string set, string guard, object?[] args, CancellationToken ct)
    {
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"""
            WITH changed AS (
                UPDATE auto_tasks SET {set}, updated_at = now()
                WHERE tenant_id = $1 AND id = $2 AND {guard}
                RETURNING {Columns}),
            current AS (
                SELECT {Columns} FROM auto_tasks
                WHERE tenant_id = $1 AND id = $2 AND NOT EXISTS (SELECT FROM changed)
                FOR SHARE)
            SELECT true, * FROM changed UNION ALL SELECT false, * FROM current
            """, [tenantId, id, .. args]);
        await using var reader = await batch.WriteAsync(ct);
        return reader.IsOnRow ? (reader.GetBoolean(0), Read(reader, 1)) : throw NotFound(id);
    }

    internal static AutoTask Read(NpgsqlDataReader r, int o) => new(
        r.GetGuid(o), r.GetGuid(o + 1), r.IsDBNull(o + 2) ? null : r.GetGuid(o + 2), r.GetString(o + 3),
        (AutoTaskStatus)r.GetInt16(o + 4), (TaskPriority)r.GetInt16(o + 5), (ExecutionMode)r.GetInt16(o + 6),
        (IntentType)r.GetInt16(o + 7), (RiskLevel)r.GetInt16(o + 8), r.GetInt16(o + 9),
        r.IsDBNull(o + 10) ? null : r.GetString(o + 10), JsonValues.Read(r, o + 11),
        r.GetFieldValue<DateTimeOffset>(o + 12), r.GetFieldValue<DateTimeOffset>(o + 13),
        r.IsDBNull(o + 14) ? null : r.GetFieldValue<DateTimeOffset>(o + 14),
        r.IsDBNull(o + 15) ? null : r.GetFieldValue<DateTimeOffset>(o + 15));

    internal static BotStoreNotFoundException NotFound(Guid id) => new($"task {id} not found");

    private static BotStoreConflictException Refused(AutoTask task, AutoTaskStatus to, AutoTaskStatus? expectedFrom = null)
    {
        var current = EnumCatalog.NameOf(task.Status);
        var allowed = TaskStateMachine.Next(task.Status);
        if (!TaskStateMachine.CanMove(task.Status, to))
        {
            return new BotStoreConflictException($"task {task.Id} is {current} and cannot move to {EnumCatalog.NameOf(to)}" +
                (allowed.Count == 0 ? $" ({current} is final)" : $" (from {current} it may move to {string.Join(", ", allowed.Select(EnumCatalog.NameOf))})"));
        }
        return expectedFrom is { } from && from != task.Status
            ? new BotStoreConflictException($"task {task.Id} is {current}, not {EnumCatalog.NameOf(from)}")
            : new BotStoreConflictException($"task {task.Id} changed concurrently and is now {current}: try again");
    }

    private static string? CheckError(string? error) => error is { Length: > 10_000 }
        ? throw new BotStoreValidationException($"error must have at most 10000 characters (got {error.Length})")
        : error;
}
