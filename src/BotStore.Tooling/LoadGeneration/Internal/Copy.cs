using Npgsql;
using NpgsqlTypes;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>
/// One table's binary COPY: its columns, each named once beside the way its value is written, so the COPY
/// column list and the row writer cannot drift apart.
/// </summary>
internal sealed class CopyTable<T>(string table)
{
    private readonly List<(string Name, Action<NpgsqlBinaryImporter, T> Write)> _columns = [];

    public string Columns => string.Join(", ", _columns.Select(c => c.Name));

    public string Command => CommandFor(table);

    /// <summary>The COPY into another table with the same columns (a benchmark's copy of the table).</summary>
    public string CommandFor(string target) => $"COPY {target} ({Columns}) FROM STDIN (FORMAT BINARY)";

    public CopyTable<T> Add<TValue>(string name, Func<T, TValue> value, NpgsqlDbType type)
    {
        _columns.Add((name, (w, row) => w.Write(value(row), type)));
        return this;
    }

    public CopyTable<T> AddNullable<TValue>(string name, Func<T, TValue?> value, NpgsqlDbType type) where TValue : struct
    {
        _columns.Add((name, (w, row) =>
        {
            if (value(row) is { } v)
                w.Write(v, type);
            else
                w.WriteNull();
        }));
        return this;
    }

    public CopyTable<T> AddNullable(string name, Func<T, string?> value, NpgsqlDbType type)
    {
        _columns.Add((name, (w, row) =>
        {
            if (value(row) is { } v)
                w.Write(v, type);
            else
                w.WriteNull();
        }));
        return this;
    }

    /// <summary>Streams <paramref name="rows"/> into one COPY (into <paramref name="target"/>, else the table); returns how many.</summary>
    public async Task<long> WriteAsync(NpgsqlConnection conn, IEnumerable<T> rows, CancellationToken ct, Action<long>? written = null, string? target = null)
    {
        await using var importer = await conn.BeginBinaryImportAsync(CommandFor(target ?? table), ct);
        long count = 0;
        foreach (var row in rows)
        {
            importer.StartRow();
            foreach (var (_, write) in _columns)
                write(importer, row);
            if (++count % 4096 == 0)
            {
                ct.ThrowIfCancellationRequested();
                written?.Invoke(count);
            }
        }
        await importer.CompleteAsync(ct);
        written?.Invoke(count);
        return count;
    }
}

/// <summary>The COPY of every table loadgen writes, in each table's column order.</summary>
internal static class Copy
{
    private const NpgsqlDbType Bigint = NpgsqlDbType.Bigint;
    private const NpgsqlDbType Integer = NpgsqlDbType.Integer;
    private const NpgsqlDbType Smallint = NpgsqlDbType.Smallint;
    private const NpgsqlDbType Boolean = NpgsqlDbType.Boolean;
    private const NpgsqlDbType Time = NpgsqlDbType.TimestampTz;
    private const NpgsqlDbType Uuid = NpgsqlDbType.Uuid;
    private const NpgsqlDbType Text = NpgsqlDbType.Text;
    private const NpgsqlDbType Jsonb = NpgsqlDbType.Jsonb;

    // Identity values from COPY are taken as given, like INSERT ... OVERRIDING SYSTEM VALUE.
    public static readonly CopyTable<TenantRow> Tenants = new CopyTable<TenantRow>("tenants")
        .Add("id", r => r.Id, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("is_active", r => r.IsActive, Boolean)
        .Add("name", r => r.Name, Text);

    public static readonly CopyTable<BotRow> Bots = new CopyTable<BotRow>("bots")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("updated_at", r => r.UpdatedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("llm_provider", r => r.LlmProvider, Smallint)
        .Add("is_active", r => r.IsActive, Boolean)
        .Add("name", r => r.Name, Text)
        .AddNullable("config", r => r.Config, Jsonb);

    public static readonly CopyTable<BotChannelRow> BotChannels = new CopyTable<BotChannelRow>("bot_channels")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("bot_id", r => r.BotId, Uuid)
        .Add("channel", r => r.Channel, Smallint)
        .Add("is_active", r => r.IsActive, Boolean)
        .AddNullable("config", r => r.Config, Jsonb);

    public static readonly CopyTable<UserRow> Users = new CopyTable<UserRow>("users")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("external_id", r => r.ExternalId, Text)
        .AddNullable("display_name", r => r.DisplayName, Text);

    public static readonly CopyTable<MemoryRow> Memories = new CopyTable<MemoryRow>("bot_memories")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("updated_at", r => r.UpdatedAt, Time)
        .AddNullable("expires_at", r => r.ExpiresAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("bot_id", r => r.BotId, Uuid)
        .AddNullable("user_id", r => r.UserId, Uuid)
        .Add("memory_type", r => r.MemoryType, Smallint)
        .Add("key", r => r.Key, Text)
        .Add("value", r => r.Value, Jsonb);

    public static readonly CopyTable<SessionRow> Sessions = new CopyTable<SessionRow>("user_sessions")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("last_activity_at", r => r.LastActivityAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("user_id", r => r.UserId, Uuid)
        .Add("bot_id", r => r.BotId, Uuid)
        .Add("message_count", r => r.MessageCount, Integer)
        .Add("channel", r => r.Channel, Smallint)
        .AddNullable("title", r => r.Title, Text);

    public static readonly CopyTable<MessageRow> Messages = new CopyTable<MessageRow>("message_history")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("session_id", r => r.SessionId, Uuid)
        .Add("user_id", r => r.UserId, Uuid)
        .Add("message_index", r => r.MessageIndex, Integer)
        .Add("role", r => r.Role, Smallint)
        .Add("message_type", r => r.MessageType, Smallint)
        .Add("is_read", r => r.IsRead, Boolean)
        .Add("content", r => r.Content, Text)
        .AddNullable("metadata", r => r.Metadata, Jsonb);

    public static readonly CopyTable<TaskRow> Tasks = new CopyTable<TaskRow>("auto_tasks")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("updated_at", r => r.UpdatedAt, Time)
        .AddNullable("started_at", r => r.StartedAt, Time)
        .AddNullable("finished_at", r => r.FinishedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("bot_id", r => r.BotId, Uuid)
        .AddNullable("session_id", r => r.SessionId, Uuid)
        .Add("status", r => r.Status, Smallint)
        .Add("priority", r => r.Priority, Smallint)
        .Add("execution_mode", r => r.ExecutionMode, Smallint)
        .Add("intent_type", r => r.IntentType, Smallint)
        .Add("risk_level", r => r.RiskLevel, Smallint)
        .Add("progress", r => r.Progress, Smallint)
        .Add("title", r => r.Title, Text)
        .AddNullable("error", r => r.Error, Text)
        .AddNullable("payload", r => r.Payload, Jsonb);

    public static readonly CopyTable<ApprovalRow> Approvals = new CopyTable<ApprovalRow>("task_approvals")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("expires_at", r => r.ExpiresAt, Time)
        .AddNullable("decided_at", r => r.DecidedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .Add("task_id", r => r.TaskId, Uuid)
        .Add("status", r => r.Status, Smallint)
        .Add("risk_level", r => r.RiskLevel, Smallint)
        .Add("step", r => r.Step, Text)
        .AddNullable("reason", r => r.Reason, Text)
        .AddNullable("decided_by", r => r.DecidedBy, Text);

    public static readonly CopyTable<EventRow> Events = new CopyTable<EventRow>("analytics_events")
        .Add("tenant_id", r => r.TenantId, Bigint)
        .Add("created_at", r => r.CreatedAt, Time)
        .Add("id", r => r.Id, Uuid)
        .AddNullable("bot_id", r => r.BotId, Uuid)
        .AddNullable("user_id", r => r.UserId, Uuid)
        .AddNullable("session_id", r => r.SessionId, Uuid)
        .Add("channel", r => r.Channel, Smallint)
        .Add("name", r => r.Name, Text)
        .AddNullable("properties", r => r.Properties, Jsonb);
}
