using BotStore.Data;
using BotStore.Sharding;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BotStore.Server;

/// <summary>The one place where the stores are registered: singletons over the host's <see cref="ShardRouter"/>.</summary>
internal static class Stores
{
    /// <summary>Registers every store the API uses, and the clock they share.</summary>
    public static IServiceCollection AddBotStoreStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new TenantStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new BotRegistry(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new UserStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new SessionStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new MessageStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new AnalyticsStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new TaskStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new ApprovalStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new MemoryStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new DocumentStore(sp.GetRequiredService<ShardRouter>()));
        services.TryAddSingleton(sp => new UserEraser(sp.GetRequiredService<ShardRouter>()));
        return services;
    }
}
