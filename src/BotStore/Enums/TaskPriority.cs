namespace BotStore.Enums;

/// <summary>How urgently a task should run. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("task_priority")]
public enum TaskPriority : short
{
    /// <summary>Low priority.</summary>
    [EnumValue("low", "Low priority")]
    Low = 0,

    /// <summary>Normal priority.</summary>
    [EnumValue("normal", "Normal priority")]
    Normal = 1,

    /// <summary>High priority.</summary>
    [EnumValue("high", "High priority")]
    High = 2,

    /// <summary>Urgent.</summary>
    [EnumValue("urgent", "Urgent")]
    Urgent = 3,

    /// <summary>Critical.</summary>
    [EnumValue("critical", "Critical")]
    Critical = 4,
}
