using System.Net;
using BotStore.Data;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>Any document path the store takes is answered 201 with a Location that leads back to it; a path too long for the index is a 400.</summary>
public sealed class DocumentPathTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Theory]
    [InlineData("café.md", "caf%C3%A9.md")]
    [InlineData("notes/line%0Abreak.md", "notes/line%0Abreak.md")]
    [InlineData("a b/c%3Fd.md", "a%20b/c%3Fd.md")]
    public async Task A_path_with_any_characters_is_stored_and_located(string urlPath, string location)
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var created = await client.PutRaw($"/v1/bots/{w.BotId}/documents/{urlPath}", """{"sync_status":"pending"}""");
        var document = await OkAsync(created, HttpStatusCode.Created);
        Assert.Equal($"/v1/bots/{w.BotId}/documents/{location}", created.Headers.Location?.OriginalString);
        var stored = document.GetProperty("path").GetString()!;
        Assert.Equal(Uri.UnescapeDataString(urlPath), stored);
        Assert.Equal(stored, await api.Database.ScalarAsync<string>("SELECT path FROM kb_documents WHERE tenant_id = $1", tenantId));
        // The Location's path is the same document: a second PUT there replaces it.
        await OkAsync(await client.PutRaw(created.Headers.Location!.OriginalString, """{"sync_status":"synced"}"""), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_path_over_the_byte_limit_is_400_and_the_longest_is_stored()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var longest = new string('é', InputLimits.MaxDocumentPathBytes / 2);
        await OkAsync(await client.PutRaw($"/v1/bots/{w.BotId}/documents/{Uri.EscapeDataString(longest)}", """{"sync_status":"pending"}"""),
            HttpStatusCode.Created);
        await ProblemAsync(await client.PutRaw($"/v1/bots/{w.BotId}/documents/{Uri.EscapeDataString(longest + "a")}", """{"sync_status":"pending"}"""),
            HttpStatusCode.BadRequest, $"the limit is {InputLimits.MaxDocumentPathBytes}");
        // Far beyond the B-tree's row limit (2,704 bytes): refused at the door, not by the index.
        await ProblemAsync(await client.PutRaw($"/v1/bots/{w.BotId}/documents/{new string('a', 3000)}", """{"sync_status":"pending"}"""),
            HttpStatusCode.BadRequest, $"has 3000 bytes of UTF-8; the limit is {InputLimits.MaxDocumentPathBytes}");
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM kb_documents WHERE tenant_id = $1", tenantId));
    }
}
