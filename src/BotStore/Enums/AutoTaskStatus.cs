namespace BotStore.Enums;

/// <summary>Where an autonomous task is in its life cycle. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("task_status")]
public enum AutoTaskStatus : short
{
    /// <summary>Waiting to start.</summary>
    [EnumValue("pending", "Waiting to start")]
    Pending = 0,

    /// <summary>Ready to execute.</summary>
    [EnumValue("ready", "Ready to execute")]
    Ready = 1,

    /// <summary>Currently executing.</summary>
    [EnumValue("running", "Currently executing")]
    Running = 2,

    /// <summary>Paused by user.</summary>
    [EnumValue("paused", "Paused by user")]
    Paused = 3,

    /// <summary>Needs approval.</summary>
    [EnumValue("waiting_approval", "Needs approval")]
    WaitingApproval = 4,

    /// <summary>Successfully finished.</summary>
    [EnumValue("completed", "Successfully finished")]
    Completed = 5,

    /// <summary>Failed with error.</summary>
    [EnumValue("failed", "Failed with error")]
    Failed = 6,

    /// <summary>Cancelled by user.</summary>
    [EnumValue("cancelled", "Cancelled by user")]
    Cancelled = 7,
}
