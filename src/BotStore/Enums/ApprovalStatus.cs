namespace BotStore.Enums;

/// <summary>The decision on an approval request. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("approval_status")]
public enum ApprovalStatus : short
{
    /// <summary>Awaiting decision.</summary>
    [EnumValue("pending", "Awaiting decision")]
    Pending = 0,

    /// <summary>Approved.</summary>
    [EnumValue("approved", "Approved")]
    Approved = 1,

    /// <summary>Rejected.</summary>
    [EnumValue("rejected", "Rejected")]
    Rejected = 2,

    /// <summary>Timed out.</summary>
    [EnumValue("expired", "Timed out")]
    Expired = 3,

    /// <summary>Skipped.</summary>
    [EnumValue("skipped", "Skipped")]
    Skipped = 4,
}
