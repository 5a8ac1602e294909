namespace BotStore.Enums;

/// <summary>How risky a task or one of its steps is. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("risk_level")]
public enum RiskLevel : short
{
    /// <summary>No risk.</summary>
    [EnumValue("none", "No risk")]
    None = 0,

    /// <summary>Low risk.</summary>
    [EnumValue("low", "Low risk")]
    Low = 1,

    /// <summary>Medium risk.</summary>
    [EnumValue("medium", "Medium risk")]
    Medium = 2,

    /// <summary>High risk.</summary>
    [EnumValue("high", "High risk")]
    High = 3,

    /// <summary>Critical risk.</summary>
    [EnumValue("critical", "Critical risk")]
    Critical = 4,
}
