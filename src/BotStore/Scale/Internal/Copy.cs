using Npgsql;
using NpgsqlTypes;

namespace BotStore.Scale.Internal;

/// <summary>Binary COPY of the generated rows: the COPY command of each table and the writer of its row.</summary>
internal static class Copy
{
    public const string MessageColumns =
        "tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content, metadata";

    /// <summary>Streams <paramref name="rows"/> into one COPY; returns how many were written.</summary>
    public static async Task<long> RowsAsync<T>(NpgsqlConnection conn, string command, IEnumerable<T> rows,
        Action<NpgsqlBinaryImporter, T> write, CancellationToken ct, Action<long>? written = null)
    {
        await using var importer = await conn.BeginBinaryImportAsync(command, ct);
        long count = 0;
        foreach (var row in rows)
        {
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

    public static string Command(string table, string columns) => $"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)";

    // Identity values from COPY are taken as given, like INSERT ... OVERRIDING SYSTEM VALUE.
    public static readonly string Tenants = Command("tenants", "id, created_at, is_active, name");

    public static void Tenant(NpgsqlBinaryImporter w, TenantRow r)
    {
        w.StartRow();
        w.Write(r.Id, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.IsActive, NpgsqlDbType.Boolean);
        w.Write(r.Name, NpgsqlDbType.Text);
    }

    public static readonly string Bots = Command("bots", "tenant_id, created_at, updated_at, id, llm_provider, is_active, name, config");

    public static void Bot(NpgsqlBinaryImporter w, BotRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.UpdatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.LlmProvider, NpgsqlDbType.Smallint);
        w.Write(r.IsActive, NpgsqlDbType.Boolean);
        w.Write(r.Name, NpgsqlDbType.Text);
        Nullable(w, r.Config, NpgsqlDbType.Jsonb);
    }

    public static readonly string BotChannels = Command("bot_channels", "tenant_id, created_at, id, bot_id, channel, is_active, config");

    public static void BotChannel(NpgsqlBinaryImporter w, BotChannelRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.BotId, NpgsqlDbType.Uuid);
        w.Write(r.Channel, NpgsqlDbType.Smallint);
        w.Write(r.IsActive, NpgsqlDbType.Boolean);
        Nullable(w, r.Config, NpgsqlDbType.Jsonb);
    }

    public static readonly string Users = Command("users", "tenant_id, created_at, id, external_id, display_name");

    public static void User(NpgsqlBinaryImporter w, UserRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.ExternalId, NpgsqlDbType.Text);
        Nullable(w, r.DisplayName, NpgsqlDbType.Text);
    }

    public static readonly string Memories = Command("bot_memories",
        "tenant_id, created_at, updated_at, expires_at, id, bot_id, user_id, memory_type, key, value");

    public static void Memory(NpgsqlBinaryImporter w, MemoryRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.UpdatedAt, NpgsqlDbType.TimestampTz);
        Nullable(w, r.ExpiresAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.BotId, NpgsqlDbType.Uuid);
        Nullable(w, r.UserId, NpgsqlDbType.Uuid);
        w.Write(r.MemoryType, NpgsqlDbType.Smallint);
        w.Write(r.Key, NpgsqlDbType.Text);
        w.Write(r.Value, NpgsqlDbType.Jsonb);
    }

    public static readonly string Sessions = Command("user_sessions",
        "tenant_id, created_at, last_activity_at, id, user_id, bot_id, message_count, channel, title");

    public static void Session(NpgsqlBinaryImporter w, SessionRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.LastActivityAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.UserId, NpgsqlDbType.Uuid);
        w.Write(r.BotId, NpgsqlDbType.Uuid);
        w.Write(r.MessageCount, NpgsqlDbType.Integer);
        w.Write(r.Channel, NpgsqlDbType.Smallint);
        Nullable(w, r.Title, NpgsqlDbType.Text);
    }

    public static readonly string Messages = Command("message_history", MessageColumns);

    public static void Message(NpgsqlBinaryImporter w, MessageRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.SessionId, NpgsqlDbType.Uuid);
        w.Write(r.UserId, NpgsqlDbType.Uuid);
        w.Write(r.MessageIndex, NpgsqlDbType.Integer);
        w.Write(r.Role, NpgsqlDbType.Smallint);
        w.Write(r.MessageType, NpgsqlDbType.Smallint);
        w.Write(r.IsRead, NpgsqlDbType.Boolean);
        w.Write(r.Content, NpgsqlDbType.Text);
        Nullable(w, r.Metadata, NpgsqlDbType.Jsonb);
    }

    public static readonly string Tasks = Command("auto_tasks",
        "tenant_id, created_at, updated_at, started_at, finished_at, id, bot_id, session_id, status, priority, " +
        "execution_mode, intent_type, risk_level, progress, title, error, payload");

    public static void Task(NpgsqlBinaryImporter w, TaskRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.UpdatedAt, NpgsqlDbType.TimestampTz);
        Nullable(w, r.StartedAt, NpgsqlDbType.TimestampTz);
        Nullable(w, r.FinishedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.BotId, NpgsqlDbType.Uuid);
        Nullable(w, r.SessionId, NpgsqlDbType.Uuid);
        w.Write(r.Status, NpgsqlDbType.Smallint);
        w.Write(r.Priority, NpgsqlDbType.Smallint);
        w.Write(r.ExecutionMode, NpgsqlDbType.Smallint);
        w.Write(r.IntentType, NpgsqlDbType.Smallint);
        w.Write(r.RiskLevel, NpgsqlDbType.Smallint);
        w.Write(r.Progress, NpgsqlDbType.Smallint);
        w.Write(r.Title, NpgsqlDbType.Text);
        Nullable(w, r.Error, NpgsqlDbType.Text);
        Nullable(w, r.Payload, NpgsqlDbType.Jsonb);
    }

    public static readonly string Approvals = Command("task_approvals",
        "tenant_id, created_at, expires_at, decided_at, id, task_id, status, risk_level, step, reason, decided_by");

    public static void Approval(NpgsqlBinaryImporter w, ApprovalRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.ExpiresAt, NpgsqlDbType.TimestampTz);
        Nullable(w, r.DecidedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        w.Write(r.TaskId, NpgsqlDbType.Uuid);
        w.Write(r.Status, NpgsqlDbType.Smallint);
        w.Write(r.RiskLevel, NpgsqlDbType.Smallint);
        w.Write(r.Step, NpgsqlDbType.Text);
        Nullable(w, r.Reason, NpgsqlDbType.Text);
        Nullable(w, r.DecidedBy, NpgsqlDbType.Text);
    }

    public static readonly string Events = Command("analytics_events",
        "tenant_id, created_at, id, bot_id, user_id, session_id, channel, name, properties");

    public static void Event(NpgsqlBinaryImporter w, EventRow r)
    {
        w.StartRow();
        w.Write(r.TenantId, NpgsqlDbType.Bigint);
        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
        w.Write(r.Id, NpgsqlDbType.Uuid);
        Nullable(w, r.BotId, NpgsqlDbType.Uuid);
        Nullable(w, r.UserId, NpgsqlDbType.Uuid);
        Nullable(w, r.SessionId, NpgsqlDbType.Uuid);
        w.Write(r.Channel, NpgsqlDbType.Smallint);
        w.Write(r.Name, NpgsqlDbType.Text);
        Nullable(w, r.Properties, NpgsqlDbType.Jsonb);
    }

    private static void Nullable(NpgsqlBinaryImporter w, string? value, NpgsqlDbType type)
    {
        if (value is null)
            w.WriteNull();
        else
            w.Write(value, type);
    }

    private static void Nullable<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v)
            w.Write(v, type);
        else
            w.WriteNull();
    }
}
