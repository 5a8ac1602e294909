namespace BotStore.Tooling.LoadGeneration.Internal;

// The generated rows, one record per table, in the tables' column order.

internal readonly record struct TenantRow(long Id, DateTimeOffset CreatedAt, bool IsActive, string Name);

internal readonly record struct BotRow(long TenantId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Guid Id,
    short LlmProvider, bool IsActive, string Name, string? Config);

internal readonly record struct BotChannelRow(long TenantId, DateTimeOffset CreatedAt, Guid Id, Guid BotId, short Channel,
    bool IsActive, string? Config);

internal readonly record struct UserRow(long TenantId, DateTimeOffset CreatedAt, Guid Id, string ExternalId, string? DisplayName);

internal readonly record struct MemoryRow(long TenantId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? ExpiresAt, Guid Id, Guid BotId, Guid? UserId, short MemoryType, string Key, string Value);

internal readonly record struct SessionRow(long TenantId, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, Guid Id,
    Guid UserId, Guid BotId, int MessageCount, short Channel, string? Title);

internal readonly record struct MessageRow(long TenantId, DateTimeOffset CreatedAt, Guid Id, Guid SessionId, Guid UserId,
    int MessageIndex, short Role, short MessageType, bool IsRead, string Content, string? Metadata);

internal readonly record struct TaskRow(long TenantId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, Guid Id, Guid BotId, Guid? SessionId, short Status,
    short Priority, short ExecutionMode, short IntentType, short RiskLevel, short Progress, string Title, string? Error,
    string? Payload);

internal readonly record struct ApprovalRow(long TenantId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? DecidedAt, Guid Id, Guid TaskId, short Status, short RiskLevel, string Step, string? Reason,
    string? DecidedBy);

internal readonly record struct EventRow(long TenantId, DateTimeOffset CreatedAt, Guid Id, Guid? BotId, Guid? UserId,
    Guid? SessionId, short Channel, string Name, string? Properties);
