using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>The API takes enum values by name only: a number, or a number written as a string, is a 400 on every field and query parameter.</summary>
public sealed class EnumNameTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public void Every_enum_domain_reads_names_and_refuses_numbers_in_json()
    {
        foreach (var domain in EnumCatalog.Domains)
        {
            foreach (var entry in domain.Entries)
            {
                Assert.Equal(entry.Value, Convert.ToInt16(JsonSerializer.Deserialize($"\"{entry.Name}\"", domain.ClrType, ApiServer.Json)));
                foreach (var number in new[] { $"\"{entry.Value}\"", entry.Value.ToString(), $"\" {entry.Value}\"" })
                {
                    var refused = Assert.Throws<BotStoreValidationException>(() => JsonSerializer.Deserialize(number, domain.ClrType, ApiServer.Json));
                    Assert.Contains(domain.Name, refused.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public async Task Numbers_for_enums_are_400_on_fields_routes_and_queries_and_nothing_is_written()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var s = w.SessionId;
        (string Method, string Url, string? Body)[] cases =
        [
            ("POST", $"/v1/sessions/{s}/messages", """{"role":"1","content":"x"}"""),
            ("POST", $"/v1/sessions/{s}/messages", """{"role":"user","message_type":"0","content":"x"}"""),
            ("POST", "/v1/messages/batch", $$"""{"messages":[{"session_id":"{{s}}","role":"0","content":"x"}]}"""),
            ("POST", "/v1/analytics/events", """{"events":[{"name":"e","channel":"0"}]}"""),
            ("POST", "/v1/bots", """{"name":"b","llm_provider":"1"}"""),
            ("POST", $"/v1/bots/{w.BotId}/channels", """{"channel":"2"}"""),
            ("POST", "/v1/sessions", $$"""{"user_id":"{{w.UserId}}","bot_id":"{{w.BotId}}","channel":"0"}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","priority":"2"}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","intent_type":"1"}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","execution_mode":"0"}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","risk_level":"3"}"""),
            ("PUT", $"/v1/bots/{w.BotId}/memories/1/k", """{"value":1}"""),
            ("GET", $"/v1/bots/{w.BotId}/memories?type=1", null),
            ("PUT", $"/v1/bots/{w.BotId}/documents/a.md", """{"sync_status":"0"}"""),
            ("GET", $"/v1/bots/{w.BotId}/documents?sync_status=0", null),
            ("GET", $"/v1/bots/{w.BotId}/documents?sync_status=pending,1", null),
        ];
        foreach (var (method, url, body) in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body is null ? null : Body(body) };
            await ProblemAsync(await client.SendAsync(request), HttpStatusCode.BadRequest, "allowed names are");
        }
        var task = await OkAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t"}"""));
        await ProblemAsync(await client.PostRaw($"/v1/tasks/{task.GetProperty("id").GetGuid()}/transitions", """{"to":"2"}"""),
            HttpStatusCode.BadRequest, "allowed names are");
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM auto_tasks WHERE tenant_id = $1", tenantId));
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM user_sessions WHERE tenant_id = $1", tenantId));
    }

    [Fact]
    public async Task Admin_queries_take_names_and_refuse_what_is_not_one_with_a_problem()
    {
        var token = await new TenantStore(api.Database.DataSource).RotateAdminTokenAsync();
        using var admin = api.Anonymous();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await OkAsync(await admin.GetAsync("/admin/db/maintenance?task=vacuum"));
        await ProblemAsync(await admin.GetAsync("/admin/db/maintenance?task=%00"), HttpStatusCode.BadRequest, "unknown maintenance task");
        await ProblemAsync(await admin.GetAsync("/admin/db/maintenance?task=1"), HttpStatusCode.BadRequest, "unknown maintenance task");
        await ProblemAsync(await admin.GetAsync("/admin/db/queries?order=1"), HttpStatusCode.BadRequest, "is not one of total, mean, calls");
    }
}
