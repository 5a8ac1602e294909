using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/bots/{id}/documents</c>: a bot's knowledge-base documents and their sync status, as a sync worker reports
/// them (PUT per path, 201 when new) and finds its work (GET with <c>?sync_status=pending,error</c>).
/// </summary>
internal static class DocumentsApi
{
    public static RouteGroupBuilder MapDocumentsApi(this RouteGroupBuilder v1)
    {
        v1.MapPut("/bots/{id}/documents/{**path}", async Task<Results<Created<KbDocument>, Ok<KbDocument>>> (string id, string path, DocumentBody body, CallerTenant tenant,
            DocumentStore documents, CancellationToken ct) =>
        {
            var state = new DocumentState(ApiArgs.Required(body.SyncStatus, "sync_status"), body.ContentHash, body.SizeBytes, body.Error);
            var (document, created) = await documents.UpsertAsync(tenant.Id, ApiArgs.Id(id, "bot"), path, state, ct);
            return created ? TypedResults.Created($"/v1/bots/{document.BotId}/documents/{path}", document) : TypedResults.Ok(document);
        }).WithName("PutDocument");

        v1.MapGet("/bots/{id}/documents", async (string id, string? sync_status, string? limit, string? after, CallerTenant tenant,
            DocumentStore documents, ServeOptions options, CancellationToken ct) =>
        {
            var statuses = sync_status?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(EnumCatalog.Parse<SyncStatus>).ToArray();
            return TypedResults.Ok(await documents.ListAsync(tenant.Id, ApiArgs.Id(id, "bot"), statuses, after, ApiArgs.Limit(limit, options), ct));
        }).WithName("ListDocuments");
        return v1;
    }

    internal sealed record DocumentBody(SyncStatus? SyncStatus, string? ContentHash, long? SizeBytes, string? Error);
}
