using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/bots/{id}/documents</c>: a bot's knowledge-base documents and their sync status, as a sync worker reports
/// them (PUT per path, 201 when new) and finds its work (GET with <c>?sync_status=pending,error</c>).
/// </summary>
internal static class DocumentsApi
{
    internal sealed record DocumentBody(SyncStatus? SyncStatus, string? ContentHash, long? SizeBytes, string? Error);

    public static IEndpointRouteBuilder MapDocumentsApi(this IEndpointRouteBuilder app)
    {
        var documents = app.MapGroup("/v1/bots/{id}/documents").WithTags("Documents");
        documents.Put("/{**path}", PutDocument);
        documents.Get("", ListDocuments);
        return app;
    }

    public static async Task<Results<Created<KbDocument>, Ok<KbDocument>>> PutDocument(string id, string path, DocumentBody body,
        CallerTenant tenant, DocumentStore documents, CancellationToken ct)
    {
        var state = new DocumentState(ApiInput.Required(body.SyncStatus, "sync_status"), body.ContentHash, body.SizeBytes, body.Error);
        var (document, created) = await documents.UpsertAsync(tenant.Id, ApiInput.Id(id, "bot id"), path, state, ct);
        return created ? TypedResults.Created(Location(document), document) : TypedResults.Ok(document);
    }

    public static async Task<Ok<Page<KbDocument>>> ListDocuments(string id, [FromQuery(Name = "sync_status")] string? syncStatus, string? limit,
        string? after, CallerTenant tenant, DocumentStore documents, ServeOptions options, CancellationToken ct)
    {
        var statuses = syncStatus?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(EnumCatalog.ParseName<SyncStatus>).ToArray();
        return TypedResults.Ok(await documents.ListAsync(tenant.Id, ApiInput.Id(id, "bot id"), statuses, after, ApiInput.Limit(limit, options), ct));
    }

    // The path as a URL: each segment escaped (a header carries ASCII only; café.md, a newline).
    private static string Location(KbDocument d) =>
        $"/v1/bots/{d.BotId}/documents/{string.Join('/', d.Path.Split('/').Select(Uri.EscapeDataString))}";
}
