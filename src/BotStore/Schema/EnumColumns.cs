using System.Globalization;
using BotStore.Enums;

namespace BotStore.Schema;

/// <summary>A SMALLINT column that holds values of an enum domain.</summary>
public sealed record EnumColumn(string Table, string Column, EnumDomain Domain)
{
    /// <summary>The CHECK constraint's name: <c>ck_&lt;table&gt;_&lt;column&gt;</c>.</summary>
    public string ConstraintName => $"ck_{Table}_{Column}";

    /// <summary>The CHECK expression generated from the catalog: a range when the values are contiguous, else a list.</summary>
    public string CheckExpression
    {
        get
        {
            var values = Domain.Entries.Select(e => (int)e.Value).ToArray();
            var contiguous = values[^1] - values[0] == values.Length - 1;
            return contiguous
                ? string.Create(CultureInfo.InvariantCulture, $"{Column} BETWEEN {values[0]} AND {values[^1]}")
                : $"{Column} IN ({string.Join(", ", values)})";
        }
    }

    /// <summary>The column comment generated from the catalog, e.g. <c>approval_status: 0=pending, 1=approved, ...</c>.</summary>
    public string Comment => $"{Domain.Name}: " + string.Join(", ", Domain.Entries.Select(e => $"{e.Value}={e.Name}"));
}

/// <summary>Every enum column of the schema, and the DDL that keeps the database in step with the catalog.</summary>
public static class EnumColumns
{
    /// <summary>Every SMALLINT enum column, by table.</summary>
    public static IReadOnlyList<EnumColumn> All { get; } =
    [
        new("bots", "llm_provider", EnumCatalog.Of<LlmProvider>()),
        new("bot_channels", "channel", EnumCatalog.Of<ChannelType>()),
        new("user_sessions", "channel", EnumCatalog.Of<ChannelType>()),
        new("message_history", "role", EnumCatalog.Of<MessageRole>()),
        new("message_history", "message_type", EnumCatalog.Of<MessageType>()),
        new("auto_tasks", "status", EnumCatalog.Of<AutoTaskStatus>()),
        new("auto_tasks", "priority", EnumCatalog.Of<TaskPriority>()),
        new("auto_tasks", "execution_mode", EnumCatalog.Of<ExecutionMode>()),
        new("auto_tasks", "intent_type", EnumCatalog.Of<IntentType>()),
        new("auto_tasks", "risk_level", EnumCatalog.Of<RiskLevel>()),
        new("task_approvals", "status", EnumCatalog.Of<ApprovalStatus>()),
        new("task_approvals", "risk_level", EnumCatalog.Of<RiskLevel>()),
        new("bot_memories", "memory_type", EnumCatalog.Of<MemoryType>()),
        new("kb_documents", "sync_status", EnumCatalog.Of<SyncStatus>()),
        new("analytics_events", "channel", EnumCatalog.Of<ChannelType>()),
    ];

    /// <summary>
    /// DDL that brings every CHECK and comment in line with the catalog. When a domain gains a value, put this
    /// output (<c>botstore enums --sql</c>) in a new migration.
    /// </summary>
    public static string SyncSql() => string.Join("\n", All.Select(c =>
        $"ALTER TABLE {c.Table} DROP CONSTRAINT IF EXISTS {c.ConstraintName}, ADD CONSTRAINT {c.ConstraintName} CHECK ({c.CheckExpression});\n" +
        $"COMMENT ON COLUMN {c.Table}.{c.Column} IS '{c.Comment}';"));
}
