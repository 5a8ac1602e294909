using BotStore.Data;

namespace BotStore.Server;

/// <summary>The conversation side of the API: bots, users, sessions, messages and analytics events.</summary>
internal static class ConversationApi
{
    /// <summary>Registers the conversation stores (singletons over the data source).</summary>
    public static IServiceCollection AddConversationStores(this IServiceCollection services)
    {
        services.AddSingleton<BotRegistry>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<MessageStore>();
        services.AddSingleton<AnalyticsStore>();
        return services;
    }

    /// <summary>Maps every conversation route under /v1.</summary>
    public static RouteGroupBuilder MapConversationApi(this RouteGroupBuilder v1) =>
        v1.MapBotsApi().MapUsersApi().MapSessionsApi().MapMessagesApi().MapAnalyticsApi();
}
