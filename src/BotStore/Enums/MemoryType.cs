namespace BotStore.Enums;

/// <summary>How long and in what form a bot keeps a memory. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("memory_type")]
public enum MemoryType : short
{
    /// <summary>Short-term.</summary>
    [EnumValue("short", "Short-term")]
    Short = 0,

    /// <summary>Long-term.</summary>
    [EnumValue("long", "Long-term")]
    Long = 1,

    /// <summary>Episodic.</summary>
    [EnumValue("episodic", "Episodic")]
    Episodic = 2,

    /// <summary>Semantic.</summary>
    [EnumValue("semantic", "Semantic")]
    Semantic = 3,

    /// <summary>Procedural.</summary>
    [EnumValue("procedural", "Procedural")]
    Procedural = 4,
}
