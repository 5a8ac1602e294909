using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/bots/{id}/memories</c>: a bot's memories by type and key, bot-level or (with <c>?user_id=</c>) about one
/// user. PUT answers 201 when it created the memory, 200 when it replaced one.
/// </summary>
internal static class MemoriesApi
{
    public static RouteGroupBuilder MapMemoriesApi(this RouteGroupBuilder v1)
    {
        v1.MapPut("/bots/{id}/memories/{type}/{key}", async Task<Results<Created<Memory>, Ok<Memory>>> (string id, string type, string key, string? user_id, MemoryBody body,
            CallerTenant tenant, MemoryStore memories, CancellationToken ct) =>
        {
            if (body.Value is not { } value)
                throw new BotStoreValidationException("value is required (any JSON value)");
            var (memory, created) = await memories.UpsertAsync(tenant.Id, Key(id, type, key, user_id), value, body.ExpiresAt, ct);
            return created ? TypedResults.Created($"/v1/bots/{memory.BotId}/memories/{type}/{Uri.EscapeDataString(key)}", memory) : TypedResults.Ok(memory);
        }).WithName("PutMemory");

        v1.MapGet("/bots/{id}/memories/{type}/{key}", async (string id, string type, string key, string? user_id, CallerTenant tenant,
            MemoryStore memories, CancellationToken ct) =>
            TypedResults.Ok(await memories.GetAsync(tenant.Id, Key(id, type, key, user_id), ct))).WithName("GetMemory");

        v1.MapDelete("/bots/{id}/memories/{type}/{key}", async (string id, string type, string key, string? user_id, CallerTenant tenant,
            MemoryStore memories, CancellationToken ct) =>
        {
            await memories.DeleteAsync(tenant.Id, Key(id, type, key, user_id), ct);
            return TypedResults.NoContent();
        }).WithName("DeleteMemory");

        v1.MapGet("/bots/{id}/memories", async (string id, string? type, string? user_id, string? limit, string? after, CallerTenant tenant,
            MemoryStore memories, ServeOptions options, CancellationToken ct) =>
            TypedResults.Ok(await memories.ListAsync(tenant.Id, ApiArgs.Id(id, "bot"), ApiArgs.OptionalEnum<MemoryType>(type),
                ApiArgs.OptionalId(user_id, "user"), after, ApiArgs.Limit(limit, options), ct))).WithName("ListMemories");
        return v1;
    }

    private static MemoryKey Key(string botId, string type, string key, string? userId) =>
        new(ApiArgs.Id(botId, "bot"), EnumCatalog.Parse<MemoryType>(type), ApiArgs.OptionalId(userId, "user"), key);

    internal sealed record MemoryBody(JsonElement? Value, DateTimeOffset? ExpiresAt);
}
