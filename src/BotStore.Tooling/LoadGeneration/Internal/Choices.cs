using BotStore.Enums;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>How often each enum value occurs in generated data: a production-like mix, every value possible.</summary>
internal static class Choices
{
    public static readonly WeightedChoice<LlmProvider> Provider = new(
        (LlmProvider.Openai, 35), (LlmProvider.Anthropic, 25), (LlmProvider.AzureOpenai, 12), (LlmProvider.AzureClaude, 5),
        (LlmProvider.Google, 8), (LlmProvider.Local, 3), (LlmProvider.Ollama, 4), (LlmProvider.Groq, 3),
        (LlmProvider.Mistral, 3), (LlmProvider.Cohere, 2));

    public static readonly WeightedChoice<ChannelType> ExtraChannel = new(
        (ChannelType.Whatsapp, 30), (ChannelType.Telegram, 10), (ChannelType.Msteams, 12), (ChannelType.Slack, 10),
        (ChannelType.Email, 6), (ChannelType.Sms, 5), (ChannelType.Voice, 4), (ChannelType.Instagram, 5), (ChannelType.Api, 8));

    public static readonly WeightedChoice<MessageType> UserMessageType = new(
        (MessageType.Text, 88), (MessageType.Image, 4), (MessageType.Audio, 3), (MessageType.Video, 0.5),
        (MessageType.Document, 2), (MessageType.Location, 0.7), (MessageType.Contact, 0.3), (MessageType.Sticker, 1),
        (MessageType.Reaction, 0.5));

    public static readonly WeightedChoice<MessageType> AssistantMessageType = new(
        (MessageType.Text, 97), (MessageType.Image, 2), (MessageType.Document, 1));

    public static readonly WeightedChoice<AutoTaskStatus> RecentTaskStatus = new(
        (AutoTaskStatus.Pending, 20), (AutoTaskStatus.Ready, 15), (AutoTaskStatus.Running, 20), (AutoTaskStatus.Paused, 5),
        (AutoTaskStatus.WaitingApproval, 15), (AutoTaskStatus.Completed, 15), (AutoTaskStatus.Failed, 5), (AutoTaskStatus.Cancelled, 5));

    public static readonly WeightedChoice<AutoTaskStatus> OldTaskStatus = new(
        (AutoTaskStatus.Pending, 2), (AutoTaskStatus.Ready, 1), (AutoTaskStatus.Running, 1), (AutoTaskStatus.Paused, 3),
        (AutoTaskStatus.WaitingApproval, 3), (AutoTaskStatus.Completed, 72), (AutoTaskStatus.Failed, 10), (AutoTaskStatus.Cancelled, 8));

    public static readonly WeightedChoice<TaskPriority> Priority = new(
        (TaskPriority.Low, 20), (TaskPriority.Normal, 55), (TaskPriority.High, 18), (TaskPriority.Urgent, 5), (TaskPriority.Critical, 2));

    public static readonly WeightedChoice<ExecutionMode> Mode = new(
        (ExecutionMode.Manual, 20), (ExecutionMode.Supervised, 60), (ExecutionMode.Autonomous, 20));

    public static readonly WeightedChoice<IntentType> Intent = new(
        (IntentType.Unknown, 5), (IntentType.AppCreate, 5), (IntentType.Todo, 20), (IntentType.Monitor, 10), (IntentType.Action, 20),
        (IntentType.Schedule, 12), (IntentType.Goal, 5), (IntentType.Tool, 13), (IntentType.Query, 10));

    public static readonly WeightedChoice<RiskLevel> Risk = new(
        (RiskLevel.None, 40), (RiskLevel.Low, 30), (RiskLevel.Medium, 18), (RiskLevel.High, 9), (RiskLevel.Critical, 3));

    public static readonly WeightedChoice<ApprovalStatus> Decision = new(
        (ApprovalStatus.Approved, 75), (ApprovalStatus.Rejected, 10), (ApprovalStatus.Expired, 8), (ApprovalStatus.Skipped, 7));

    public static readonly WeightedChoice<MemoryType> UserMemory = new(
        (MemoryType.Short, 40), (MemoryType.Long, 35), (MemoryType.Episodic, 25));

    public static readonly WeightedChoice<MemoryType> BotMemory = new(
        (MemoryType.Long, 30), (MemoryType.Semantic, 40), (MemoryType.Procedural, 30));

    public static readonly string[] Models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-haiku-4", "gemini-2.0-flash", "llama-3.1-70b"];

    public static readonly string[] Tools = ["search_kb", "create_ticket", "lookup_order", "send_email", "calendar", "web_fetch", "sql_query"];

    public static readonly string[] FirstNames = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Grace", "Hugo", "Iris", "João", "Kim", "Lucas", "Maya", "Noah", "Olga", "Pedro", "Rosa", "Sam", "Tara", "Yuki"];

    public static readonly string[] LastNames = ["Silva", "Santos", "Smith", "Müller", "Garcia", "Rossi", "Kowalski", "Nguyen", "Tanaka", "Costa", "Brown", "Dubois", "Novak", "Haddad", "Okafor"];

    /// <summary>Activity by UTC hour: quiet nights, busy working hours.</summary>
    public static readonly double[] HourOfDay = SeededRandom.Weights(
        1.0, 0.7, 0.5, 0.4, 0.4, 0.5, 0.8, 1.2, 1.8, 2.2, 2.4, 2.4, 2.3, 2.3, 2.4, 2.4, 2.3, 2.1, 1.9, 1.8, 1.7, 1.6, 1.4, 1.2);
}
