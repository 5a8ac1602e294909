using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>Messages: append (idempotent on the client's id), history, read marks, unread, and the bulk batch.</summary>
internal static class MessagesApi
{
    internal sealed record AppendMessageRequest(string? Id, MessageRole? Role, MessageType? MessageType, string? Content, JsonElement? Metadata);

    internal sealed record AppendAnswer(Guid Id, int MessageIndex, DateTimeOffset CreatedAt);

    internal sealed record MarkReadRequest(int? UpToIndex);

    internal sealed record MarkReadAnswer(int Marked);

    internal sealed record BatchMessage(string? Id, string? SessionId, int? MessageIndex, MessageRole? Role, MessageType? MessageType,
        string? Content, JsonElement? Metadata);

    internal sealed record MessageBatchRequest(IReadOnlyList<BatchMessage>? Messages);

    internal sealed record BatchAnswer(int Received, int Inserted, int Duplicates)
    {
        public static BatchAnswer From(BulkResult r) => new(r.Received, r.Inserted, r.Duplicates);
    }

    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var ofSession = app.MapGroup("/v1/sessions/{id}").WithTags("Messages");
        ofSession.Post("/messages", AppendMessage);
        ofSession.Get("/messages", ListSessionMessages);
        ofSession.Post("/read", MarkSessionRead);

        var messages = app.MapGroup("/v1/messages").WithTags("Messages");
        messages.Get("/{id}", GetMessage);
        messages.Post("/batch", AppendMessageBatch);

        app.MapGroup("/v1/users/{id}/unread").WithTags("Messages").Get("", ListUnreadMessages);
        return app;
    }

    public static async Task<Results<Created<AppendAnswer>, Ok<AppendAnswer>>> AppendMessage(CallerTenant tenant, string id,
        AppendMessageRequest body, MessageStore messages, ServeOptions options, TimeProvider clock, CancellationToken ct)
    {
        var sessionId = ApiInput.Id(id, "session id");
        var message = new NewMessage(sessionId, ApiInput.Required(body.Role, "role"), ApiInput.Content(body.Content, options))
        {
            MessageType = body.MessageType ?? MessageType.Text,
            Metadata = body.Metadata,
        };
        if (body.Id is not null)
        {
            var (clientId, recent) = ApiInput.ClientId(body.Id, "id", options, clock, pastAllowed: false);
            if (!recent)
            {
                // An old id is only acceptable as a retry of something already stored.
                var stored = await messages.FindAsync(tenant.Id, clientId, ct) ?? throw ApiInput.TooOld(clientId, "id", options, clock);
                return stored.SessionId == sessionId
                    ? TypedResults.Ok(new AppendAnswer(stored.Id, stored.MessageIndex, stored.CreatedAt))
                    : throw new BotStoreConflictException($"message id {clientId} is already used by a message of another session");
            }
            message = message with { Id = clientId };
        }
        var result = await messages.AppendAsync(tenant.Id, message, ct);
        var answer = new AppendAnswer(result.Id, result.MessageIndex, result.CreatedAt);
        return result.Created ? TypedResults.Created($"/v1/messages/{result.Id}", answer) : TypedResults.Ok(answer);
    }

    public static async Task<Ok<Page<Message>>> ListSessionMessages(CallerTenant tenant, string id, MessageStore messages, ServeOptions options,
        string? limit, string? before, string? after, string? order, CancellationToken ct)
    {
        var newestFirst = order?.ToLowerInvariant() switch
        {
            null or "desc" => true,
            "asc" => false,
            _ => throw new BotStoreValidationException($"order must be asc or desc (got '{order}')"),
        };
        return TypedResults.Ok(await messages.HistoryAsync(tenant.Id, ApiInput.Id(id, "session id"), newestFirst, after, before,
            ApiInput.Limit(limit, options), ct));
    }

    public static async Task<Ok<Message>> GetMessage(CallerTenant tenant, string id, MessageStore messages, CancellationToken ct)
    {
        var messageId = ApiInput.Id(id, "message id");
        return TypedResults.Ok(await messages.FindAsync(tenant.Id, messageId, ct) ?? throw new BotStoreNotFoundException($"message {messageId} not found"));
    }

    public static async Task<Ok<MarkReadAnswer>> MarkSessionRead(CallerTenant tenant, string id, MarkReadRequest body, MessageStore messages,
        CancellationToken ct) =>
        TypedResults.Ok(new MarkReadAnswer(await messages.MarkReadAsync(tenant.Id, ApiInput.Id(id, "session id"),
            ApiInput.Required(body.UpToIndex, "up_to_index"), ct)));

    public static async Task<Ok<Page<Message>>> ListUnreadMessages(CallerTenant tenant, string id, MessageStore messages, ServeOptions options,
        string? limit, string? after, CancellationToken ct) =>
        TypedResults.Ok(await messages.UnreadAsync(tenant.Id, ApiInput.Id(id, "user id"), after, ApiInput.Limit(limit, options), ct));

    public static async Task<Ok<BatchAnswer>> AppendMessageBatch(CallerTenant tenant, MessageBatchRequest body, MessageStore messages,
        ServeOptions options, TimeProvider clock, CancellationToken ct)
    {
        var batch = ApiInput.Batch(body.Messages, "messages", (m, field) =>
            new NewMessage(ApiInput.Id(m.SessionId, $"{field}.session_id"), ApiInput.Required(m.Role, $"{field}.role"),
                ApiInput.Content(m.Content, options, $"{field}.content"))
            {
                // History may be old (imports); ids from the future are refused.
                Id = m.Id is null ? null : ApiInput.ClientId(m.Id, $"{field}.id", options, clock, pastAllowed: true).Id,
                MessageIndex = m.MessageIndex,
                MessageType = m.MessageType ?? MessageType.Text,
                Metadata = m.Metadata,
            });
        return TypedResults.Ok(BatchAnswer.From(await messages.BulkAppendAsync(tenant.Id, batch, ct)));
    }
}
