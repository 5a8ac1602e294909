using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>Messages: append (idempotent on the client's id), history, read marks, unread, and the bulk batch.</summary>
internal static class MessagesApi
{
    /// <summary>The most messages or events one batch request may carry.</summary>
    public const int MaxBatchItems = 10_000;

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

    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/sessions/{id}/messages", async Task<Results<Created<AppendAnswer>, Ok<AppendAnswer>>> (CallerTenant tenant, string id,
            AppendMessageRequest body, MessageStore messages, ServeOptions options, TimeProvider clock, CancellationToken ct) =>
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
        }).WithName("AppendMessage");

        v1.MapGet("/sessions/{id}/messages", async (CallerTenant tenant, string id, MessageStore messages, ServeOptions options,
            int? limit, string? before, string? after, string? order, CancellationToken ct) =>
        {
            var newestFirst = order?.ToLowerInvariant() switch
            {
                null or "desc" => true,
                "asc" => false,
                _ => throw new BotStoreValidationException($"order must be asc or desc (got '{order}')"),
            };
            return TypedResults.Ok(await messages.HistoryAsync(tenant.Id, ApiInput.Id(id, "session id"), newestFirst, after, before,
                ApiInput.Limit(limit, options), ct));
        }).WithName("ListSessionMessages");

        v1.MapGet("/messages/{id}", async (CallerTenant tenant, string id, MessageStore messages, CancellationToken ct) =>
        {
            var messageId = ApiInput.Id(id, "message id");
            return TypedResults.Ok(await messages.FindAsync(tenant.Id, messageId, ct) ?? throw new BotStoreNotFoundException($"message {messageId} not found"));
        }).WithName("GetMessage");

        v1.MapPost("/sessions/{id}/read", async (CallerTenant tenant, string id, MarkReadRequest body, MessageStore messages, CancellationToken ct) =>
            TypedResults.Ok(new MarkReadAnswer(await messages.MarkReadAsync(tenant.Id, ApiInput.Id(id, "session id"),
                ApiInput.Required(body.UpToIndex, "up_to_index"), ct)))).WithName("MarkSessionRead");

        v1.MapGet("/users/{id}/unread", async (CallerTenant tenant, string id, MessageStore messages, ServeOptions options,
            int? limit, string? after, CancellationToken ct) =>
            TypedResults.Ok(await messages.UnreadAsync(tenant.Id, ApiInput.Id(id, "user id"), after, ApiInput.Limit(limit, options), ct)))
            .WithName("ListUnreadMessages");

        v1.MapPost("/messages/batch", async (CallerTenant tenant, MessageBatchRequest body, MessageStore messages, ServeOptions options,
            TimeProvider clock, CancellationToken ct) =>
        {
            var items = BatchItems(body.Messages, "messages");
            var batch = new List<NewMessage>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var m = items[i] ?? throw new BotStoreValidationException($"messages[{i}] is null");
                var field = $"messages[{i}]";
                batch.Add(new NewMessage(ApiInput.Id(m.SessionId, $"{field}.session_id"), ApiInput.Required(m.Role, $"{field}.role"),
                    ApiInput.Content(m.Content, options, $"{field}.content"))
                {
                    // History may be old (imports); ids from the future are refused.
                    Id = m.Id is null ? null : ApiInput.ClientId(m.Id, $"{field}.id", options, clock, pastAllowed: true).Id,
                    MessageIndex = m.MessageIndex,
                    MessageType = m.MessageType ?? MessageType.Text,
                    Metadata = m.Metadata,
                });
            }
            return TypedResults.Ok(BatchAnswer.From(await messages.BulkAppendAsync(tenant.Id, batch, ct)));
        }).WithName("AppendMessageBatch");
        return v1;
    }

    /// <summary>The items of a batch body: present, not empty, at most <see cref="MaxBatchItems"/>.</summary>
    public static IReadOnlyList<T> BatchItems<T>(IReadOnlyList<T>? items, string field) => items switch
    {
        null => throw new BotStoreValidationException($"{field} is required"),
        { Count: 0 } => throw new BotStoreValidationException($"{field} is empty"),
        { Count: > MaxBatchItems } => throw new BotStoreValidationException($"{field} has {items.Count} items; a batch carries at most {MaxBatchItems}"),
        _ => items,
    };
}
