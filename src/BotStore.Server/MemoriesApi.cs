using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/bots/{id}/memories</c>: a bot's memories by type and key, bot-level or (with <c>?user_id=</c>) about one
/// user. PUT answers 201 when it created the memory, 200 when it replaced one.
/// </summary>
internal static class MemoriesApi
{
    internal sealed record MemoryBody(JsonElement? Value, DateTimeOffset? ExpiresAt);

    public static IEndpointRouteBuilder MapMemoriesApi(this IEndpointRouteBuilder app)
    {
        var memories = app.MapGroup("/v1/bots/{id}/memories").WithTags("Memories");
        memories.Put("/{type}/{key}", PutMemory);
        memories.Get("/{type}/{key}", GetMemory);
        memories.Delete("/{type}/{key}", DeleteMemory);
        memories.Get("", ListMemories);
        return app;
    }

    public static async Task<Results<Created<Memory>, Ok<Memory>>> PutMemory(string id, string type, string key,
        [FromQuery(Name = "user_id")] string? userId, MemoryBody body, CallerTenant tenant, MemoryStore memories, CancellationToken ct)
    {
        if (body.Value is not { } value)
            throw new BotStoreValidationException("value is required (any JSON value)");
        var (memory, created) = await memories.UpsertAsync(tenant.Id, Key(id, type, key, userId), value, body.ExpiresAt, ct);
        return created ? TypedResults.Created($"/v1/bots/{memory.BotId}/memories/{type}/{Uri.EscapeDataString(key)}", memory) : TypedResults.Ok(memory);
    }

    public static async Task<Ok<Memory>> GetMemory(string id, string type, string key, [FromQuery(Name = "user_id")] string? userId,
        CallerTenant tenant, MemoryStore memories, CancellationToken ct) =>
        TypedResults.Ok(await memories.GetAsync(tenant.Id, Key(id, type, key, userId), ct));

    public static async Task<NoContent> DeleteMemory(string id, string type, string key, [FromQuery(Name = "user_id")] string? userId,
        CallerTenant tenant, MemoryStore memories, CancellationToken ct)
    {
        await memories.DeleteAsync(tenant.Id, Key(id, type, key, userId), ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<Page<Memory>>> ListMemories(string id, string? type, [FromQuery(Name = "user_id")] string? userId, string? limit,
        string? after, CallerTenant tenant, MemoryStore memories, ServeOptions options, CancellationToken ct) =>
        TypedResults.Ok(await memories.ListAsync(tenant.Id, ApiInput.Id(id, "bot id"), ApiInput.OptionalEnum<MemoryType>(type),
            ApiInput.OptionalId(userId, "user_id"), after, ApiInput.Limit(limit, options), ct));

    private static MemoryKey Key(string botId, string type, string key, string? userId) =>
        new(ApiInput.Id(botId, "bot id"), EnumCatalog.ParseName<MemoryType>(type), ApiInput.OptionalId(userId, "user_id"), key);
}
