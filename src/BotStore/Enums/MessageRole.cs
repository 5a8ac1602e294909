namespace BotStore.Enums;

/// <summary>Who or what produced a message. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("message_role")]
public enum MessageRole : short
{
    /// <summary>User message.</summary>
    [EnumValue("user", "User message")]
    User = 1,

    /// <summary>Bot response.</summary>
    [EnumValue("assistant", "Bot response")]
    Assistant = 2,

    /// <summary>System prompt.</summary>
    [EnumValue("system", "System prompt")]
    System = 3,

    /// <summary>Tool call/result.</summary>
    [EnumValue("tool", "Tool call/result")]
    Tool = 4,

    /// <summary>Episodic memory summary.</summary>
    [EnumValue("episodic", "Episodic memory summary")]
    Episodic = 9,

    /// <summary>Compacted conversation.</summary>
    [EnumValue("compact", "Compacted conversation")]
    Compact = 10,
}
