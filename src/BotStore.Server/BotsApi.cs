using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary><c>/v1/bots</c> and their channels.</summary>
internal static class BotsApi
{
    internal sealed record CreateBotRequest(string? Name, LlmProvider? LlmProvider);

    internal sealed record AddChannelRequest(ChannelType? Channel);

    public static RouteGroupBuilder MapBotsApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/bots", async (CallerTenant tenant, CreateBotRequest body, BotRegistry bots, CancellationToken ct) =>
        {
            var bot = await bots.CreateAsync(tenant.Id, ApiInput.Required(body.Name, "name"), ApiInput.Required(body.LlmProvider, "llm_provider"), ct);
            return TypedResults.Created($"/v1/bots/{bot.Id}", bot);
        }).WithName("CreateBot");

        v1.MapGet("/bots", async (CallerTenant tenant, BotRegistry bots, ServeOptions options, int? limit, string? after,
            [FromQuery(Name = "include_inactive")] bool? includeInactive, CancellationToken ct) =>
            TypedResults.Ok(await bots.ListAsync(tenant.Id, includeInactive ?? false, after, ApiInput.Limit(limit, options), ct)))
            .WithName("ListBots");

        v1.MapGet("/bots/{id}", async (CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
            TypedResults.Ok(await bots.GetAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct))).WithName("GetBot");

        v1.MapPost("/bots/{id}/deactivate", async (CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
            TypedResults.Ok(await bots.DeactivateAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct))).WithName("DeactivateBot");

        v1.MapPost("/bots/{id}/channels", async (CallerTenant tenant, string id, AddChannelRequest body, BotRegistry bots, CancellationToken ct) =>
        {
            var channel = await bots.AddChannelAsync(tenant.Id, ApiInput.Id(id, "bot id"), ApiInput.Required(body.Channel, "channel"), ct);
            return TypedResults.Created($"/v1/bots/{channel.BotId}/channels", channel);
        }).WithName("AddBotChannel");

        v1.MapGet("/bots/{id}/channels", async (CallerTenant tenant, string id, BotRegistry bots, CancellationToken ct) =>
            TypedResults.Ok(new Page<BotChannel>(await bots.ListChannelsAsync(tenant.Id, ApiInput.Id(id, "bot id"), ct), null)))
            .WithName("ListBotChannels");
        return v1;
    }
}
