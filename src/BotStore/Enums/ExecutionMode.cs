namespace BotStore.Enums;

/// <summary>How much a task may do without a person. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("execution_mode")]
public enum ExecutionMode : short
{
    /// <summary>Manual execution only.</summary>
    [EnumValue("manual", "Manual execution only")]
    Manual = 0,

    /// <summary>Requires approval.</summary>
    [EnumValue("supervised", "Requires approval")]
    Supervised = 1,

    /// <summary>Fully automatic.</summary>
    [EnumValue("autonomous", "Fully automatic")]
    Autonomous = 2,
}
