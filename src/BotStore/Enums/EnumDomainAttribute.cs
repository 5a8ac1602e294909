namespace BotStore.Enums;

/// <summary>Names the snake_case domain of a SMALLINT enum (e.g. <c>task_status</c>).</summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class EnumDomainAttribute(string name) : Attribute
{
    /// <summary>The domain's snake_case name.</summary>
    public string Name { get; } = name;
}

/// <summary>The seed's snake_case name and description of one enum value.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class EnumValueAttribute(string name, string description) : Attribute
{
    /// <summary>The snake_case name used in JSON, the CLI and docs.</summary>
    public string Name { get; } = name;

    /// <summary>The seed's one-line description.</summary>
    public string Description { get; } = description;
}
