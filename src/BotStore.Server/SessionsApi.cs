using System.Text.Json.Serialization;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary><c>/v1/sessions</c> and <c>/v1/users/{id}/sessions</c>.</summary>
internal static class SessionsApi
{
    internal sealed record CreateSessionRequest(string? UserId, string? BotId, ChannelType? Channel, string? Title);

    /// <summary>A user's session in a list; <see cref="Messages"/> only when asked for (?messages=N), newest first.</summary>
    internal sealed record SessionListItem(Guid Id, Guid UserId, string? Title, int MessageCount, DateTimeOffset CreatedAt,
        DateTimeOffset LastActivityAt, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Message>? Messages)
    {
        public static SessionListItem From(SessionSummary s, IReadOnlyList<Message>? messages = null) =>
            new(s.Id, s.UserId, s.Title, s.MessageCount, s.CreatedAt, s.LastActivityAt, messages);
    }

    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/v1/sessions").WithTags("Sessions");
        sessions.Post("", CreateSession);
        sessions.Get("/{id}", GetSession);
        sessions.Get("", ListSessions);
        app.MapGroup("/v1/users/{id}/sessions").WithTags("Sessions").Get("", ListUserSessions);
        return app;
    }

    public static async Task<Created<Session>> CreateSession(CallerTenant tenant, CreateSessionRequest body, SessionStore sessions, CancellationToken ct)
    {
        var session = await sessions.CreateAsync(tenant.Id, ApiInput.Id(body.UserId, "user_id"), ApiInput.Id(body.BotId, "bot_id"),
            ApiInput.Required(body.Channel, "channel"), body.Title, ct: ct);
        return TypedResults.Created($"/v1/sessions/{session.Id}", session);
    }

    public static async Task<Ok<Session>> GetSession(CallerTenant tenant, string id, SessionStore sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.GetAsync(tenant.Id, ApiInput.Id(id, "session id"), ct));

    public static async Task<Ok<Page<Session>>> ListSessions(CallerTenant tenant, SessionStore sessions, ServeOptions options, string? limit,
        string? after, CancellationToken ct) =>
        TypedResults.Ok(await sessions.ListByTenantAsync(tenant.Id, after, ApiInput.Limit(limit, options), ct));

    public static async Task<Ok<Page<SessionListItem>>> ListUserSessions(CallerTenant tenant, string id, SessionStore sessions, ServeOptions options,
        string? limit, string? after, int? messages, CancellationToken ct)
    {
        var userId = ApiInput.Id(id, "user id");
        var take = ApiInput.Limit(limit, options);
        if (messages is null or 0)
        {
            var page = await sessions.ListByUserAsync(tenant.Id, userId, after, take, ct);
            return TypedResults.Ok(new Page<SessionListItem>(page.Items.Select(s => SessionListItem.From(s)).ToList(), page.Next));
        }
        var digests = await sessions.ListByUserWithMessagesAsync(tenant.Id, userId, messages.Value, after, take, ct);
        return TypedResults.Ok(new Page<SessionListItem>(digests.Items.Select(d => SessionListItem.From(d.Session, d.LastMessages)).ToList(), digests.Next));
    }
}
