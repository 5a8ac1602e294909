using BotStore.Data;
using BotStore.Enums;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>The conversation stores over one data source, and a tenant with a bot, a user and a session to work in.</summary>
public sealed class Conversation(NpgsqlDataSource dataSource)
{
    public BotRegistry Bots { get; } = new(dataSource);
    public UserStore Users { get; } = new(dataSource);
    public SessionStore Sessions { get; } = new(dataSource);
    public MessageStore Messages { get; } = new(dataSource);
    public AnalyticsStore Analytics { get; } = new(dataSource);

    /// <summary>A new tenant with one bot, one user and one session.</summary>
    public async Task<World> NewWorldAsync(DateTimeOffset? sessionCreatedAt = null)
    {
        var (tenant, _) = await new TenantStore(dataSource).CreateAsync($"t-{Guid.NewGuid():N}"[..20]);
        var bot = await Bots.CreateAsync(tenant.Id, "helper", LlmProvider.Anthropic);
        var user = await Users.CreateAsync(tenant.Id, $"ext-{Guid.NewGuid():N}", "Ana");
        var session = await Sessions.CreateAsync(tenant.Id, user.Id, bot.Id, ChannelType.Web, "hello", sessionCreatedAt);
        return new World(tenant.Id, bot, user, session);
    }

    /// <summary>Appends a user message with the given text.</summary>
    public Task<AppendResult> SayAsync(World w, string text, Guid? sessionId = null) =>
        Messages.AppendAsync(w.TenantId, new NewMessage(sessionId ?? w.Session.Id, MessageRole.User, text));

    public sealed record World(long TenantId, Bot Bot, User User, Session Session);
}
