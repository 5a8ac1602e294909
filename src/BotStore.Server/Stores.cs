using BotStore.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BotStore.Server;

/// <summary>The one place where the stores are registered: singletons over the host's <see cref="Npgsql.NpgsqlDataSource"/>.</summary>
internal static class Stores
{
    /// <summary>Registers every store the API uses, and the clock they share.</summary>
    public static IServiceCollection AddBotStoreStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TenantStore>();
        services.TryAddSingleton<BotRegistry>();
        services.TryAddSingleton<UserStore>();
        services.TryAddSingleton<SessionStore>();
        services.TryAddSingleton<MessageStore>();
        services.TryAddSingleton<AnalyticsStore>();
        services.TryAddSingleton<TaskStore>();
        services.TryAddSingleton<ApprovalStore>();
        services.TryAddSingleton<MemoryStore>();
        services.TryAddSingleton<DocumentStore>();
        return services;
    }
}
