using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary><c>/v1/bots</c> and their channels.</summary>
internal static class BotsApi
{
    internal sealed record CreateBotRequest(string? Name, LlmProvider? LlmProvider);

    internal sealed record AddChannelRequest(ChannelType? Channel);

    public static IEndpointRouteBuilder MapBotsApi(this IEndpointRouteBuilder app)
    {
        var bots = app.MapGroup("/v1/bots").WithTags("Bots");
        bots.Post("", CreateBot);
        bots.Get("", ListBots);
        bots.Get("/{id}", GetBot);
        bots.Post("/{id}/deactivate", DeactivateBot);
        bots.Post("/{id}/channels", AddBotChannel);
        bots.Get("/{id}/channels", ListBotChannels);
        return app;
    }

    public static async Task<Created<Bot>> CreateBot(CallerTenant tenant, CreateBotRequest body, BotRegistry bots, CancellationToken ct)
    {
        var bot = await bots.CreateAsync(tenant.Id, ApiInput.Required(body.Name, "name"), ApiInput.Required(body.LlmProvider, "llm_provider"), ct);
        return TypedResults.Created($"/v1/bots/{bot.Id}", bot);
    }

    public static async Task<Ok<Page<Bot>>> ListBots(CallerTenant tenant, BotRegistry bots, ServeOptions options, string? limit, string? after,
        [FromQuery(Name = "include_inactive")] bool? includeInactive, CancellationToken ct) =>
        TypedResults.Ok(await bots.ListAsync(tenant.Id, includeInactive ?? false, after, ApiInput.Limit(limit, options), ct));

    public static async Task<Ok<Bot>> GetBot(CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
        TypedResults.Ok(await bots.GetAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct));

    public static async Task<Ok<Bot>> DeactivateBot(CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
        TypedResults.Ok(await bots.DeactivateAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct));

    public static async Task<Created<BotChannel>> AddBotChannel(CallerTenant tenant, string id, AddChannelRequest body, BotRegistry bots, CancellationToken ct)
    {
        var channel = await bots.AddChannelAsync(tenant.Id, ApiInput.Id(id, "bot id"), ApiInput.Required(body.Channel, "channel"), ct);
        return TypedResults.Created($"/v1/bots/{channel.BotId}/channels", channel);
    }

    public static async Task<Ok<Page<BotChannel>>> ListBotChannels(CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
        TypedResults.Ok(new Page<BotChannel>(await bots.ListChannelsAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct), null));
}
