using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary><c>POST /v1/analytics/events</c>: a batch of events, stored through binary COPY; ids already stored are skipped.</summary>
internal static class AnalyticsApi
{
    internal sealed record BatchEvent(string? Id, string? Name, ChannelType? Channel, string? BotId, string? UserId, string? SessionId,
        JsonElement? Properties);

    internal sealed record EventBatchRequest(IReadOnlyList<BatchEvent>? Events);

    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var analytics = app.MapGroup("/v1/analytics").WithTags("Analytics");
        analytics.Post("/events", IngestAnalyticsEvents);
        return app;
    }

    public static async Task<Ok<MessagesApi.BatchAnswer>> IngestAnalyticsEvents(CallerTenant tenant, EventBatchRequest body, AnalyticsStore analytics,
        ServeOptions options, TimeProvider clock, CancellationToken ct)
    {
        var events = ApiInput.Batch(body.Events, "events", (e, field) =>
            new NewEvent(ApiInput.Required(e.Name, $"{field}.name"), ApiInput.Required(e.Channel, $"{field}.channel"))
            {
                Id = e.Id is null ? null : ApiInput.ClientId(e.Id, $"{field}.id", options, clock, pastAllowed: true).Id,
                BotId = ApiInput.OptionalId(e.BotId, $"{field}.bot_id"),
                UserId = ApiInput.OptionalId(e.UserId, $"{field}.user_id"),
                SessionId = ApiInput.OptionalId(e.SessionId, $"{field}.session_id"),
                Properties = e.Properties,
            });
        return TypedResults.Ok(MessagesApi.BatchAnswer.From(await analytics.IngestAsync(tenant.Id, events, ct)));
    }
}
