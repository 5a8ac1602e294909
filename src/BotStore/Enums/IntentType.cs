namespace BotStore.Enums;

/// <summary>What the user asked a task to achieve. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("intent_type")]
public enum IntentType : short
{
    /// <summary>Unclassified.</summary>
    [EnumValue("unknown", "Unclassified")]
    Unknown = 0,

    /// <summary>Create application.</summary>
    [EnumValue("app_create", "Create application")]
    AppCreate = 1,

    /// <summary>Create task/reminder.</summary>
    [EnumValue("todo", "Create task/reminder")]
    Todo = 2,

    /// <summary>Set up monitoring.</summary>
    [EnumValue("monitor", "Set up monitoring")]
    Monitor = 3,

    /// <summary>Execute action.</summary>
    [EnumValue("action", "Execute action")]
    Action = 4,

    /// <summary>Create schedule.</summary>
    [EnumValue("schedule", "Create schedule")]
    Schedule = 5,

    /// <summary>Set goal.</summary>
    [EnumValue("goal", "Set goal")]
    Goal = 6,

    /// <summary>Create tool.</summary>
    [EnumValue("tool", "Create tool")]
    Tool = 7,

    /// <summary>Query/search.</summary>
    [EnumValue("query", "Query/search")]
    Query = 8,
}
