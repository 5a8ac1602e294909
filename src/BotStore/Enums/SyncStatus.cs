namespace BotStore.Enums;

/// <summary>Where a knowledge-base document stands against its source. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("sync_status")]
public enum SyncStatus : short
{
    /// <summary>Fully synced.</summary>
    [EnumValue("synced", "Fully synced")]
    Synced = 0,

    /// <summary>Sync pending.</summary>
    [EnumValue("pending", "Sync pending")]
    Pending = 1,

    /// <summary>Conflict detected.</summary>
    [EnumValue("conflict", "Conflict detected")]
    Conflict = 2,

    /// <summary>Sync error.</summary>
    [EnumValue("error", "Sync error")]
    Error = 3,

    /// <summary>Marked for deletion.</summary>
    [EnumValue("deleted", "Marked for deletion")]
    Deleted = 4,
}
