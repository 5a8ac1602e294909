using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Data;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// What the door accepts can always be read back: JSON at most <see cref="InputLimits.MaxJsonDepth"/> deep is stored and
/// read on every read route, one level deeper is a 400; text PostgreSQL cannot store (NUL, half a surrogate pair) is a
/// 400 on every field that carries it, and nothing is written.
/// </summary>
public sealed class InputLimitTests(ApiServer api) : IClassFixture<ApiServer>
{
    private const int Deepest = InputLimits.MaxJsonDepth;

    [Fact]
    public async Task The_deepest_accepted_json_reads_back_on_every_read_route_and_one_deeper_is_400()
    {
        var (_, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var ok = Nested(Deepest);
        var deep = Nested(Deepest + 1);

        // task payload
        var task = await OkAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","payload":{{ok}}}"""), HttpStatusCode.Created);
        var taskId = task.GetProperty("id").GetGuid();
        AssertDepth(await OkAsync(await client.GetAsync($"/v1/tasks/{taskId}")), "payload");
        AssertDepth(Single(await OkAsync(await client.GetAsync("/v1/tasks"))), "payload");
        AssertDepth(Single(await OkAsync(await client.GetAsync("/v1/tasks?state=all"))), "payload");
        await ProblemAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","payload":{{deep}}}"""),
            HttpStatusCode.BadRequest, $"payload is nested more than {Deepest} levels");

        // message metadata: single append and batch; an assistant's message is unread, so it shows in unread too
        var message = await OkAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages",
            $$"""{"role":"assistant","content":"m","metadata":{{ok}}}"""), HttpStatusCode.Created);
        await OkAsync(await client.PostRaw("/v1/messages/batch",
            $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"assistant","content":"b","metadata":{{ok}}}]}"""));
        AssertDepth(await OkAsync(await client.GetAsync($"/v1/messages/{message.GetProperty("id").GetGuid()}")), "metadata");
        foreach (var m in (await OkAsync(await client.GetAsync($"/v1/sessions/{w.SessionId}/messages"))).GetProperty("items").EnumerateArray())
            AssertDepth(m, "metadata");
        foreach (var m in (await OkAsync(await client.GetAsync($"/v1/users/{w.UserId}/unread"))).GetProperty("items").EnumerateArray())
            AssertDepth(m, "metadata");
        foreach (var m in Single(await OkAsync(await client.GetAsync($"/v1/users/{w.UserId}/sessions?messages=5"))).GetProperty("messages").EnumerateArray())
            AssertDepth(m, "metadata");
        await ProblemAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages", $$"""{"role":"user","content":"m","metadata":{{deep}}}"""),
            HttpStatusCode.BadRequest, $"metadata is nested more than {Deepest} levels");
        await ProblemAsync(await client.PostRaw("/v1/messages/batch",
                $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"user","content":"b","metadata":{{deep}}}]}"""),
            HttpStatusCode.BadRequest, "messages[0]: metadata is nested more than");

        // memory value
        await OkAsync(await client.PutRaw($"/v1/bots/{w.BotId}/memories/long/deep", $$"""{"value":{{ok}}}"""), HttpStatusCode.Created);
        AssertDepth(await OkAsync(await client.GetAsync($"/v1/bots/{w.BotId}/memories/long/deep")), "value");
        AssertDepth(Single(await OkAsync(await client.GetAsync($"/v1/bots/{w.BotId}/memories"))), "value");
        await ProblemAsync(await client.PutRaw($"/v1/bots/{w.BotId}/memories/long/deeper", $$"""{"value":{{deep}}}"""),
            HttpStatusCode.BadRequest, $"value is nested more than {Deepest} levels");

        // event properties (written only)
        await OkAsync(await client.PostRaw("/v1/analytics/events", $$"""{"events":[{"name":"e","channel":"web","properties":{{ok}}}]}"""));
        await ProblemAsync(await client.PostRaw("/v1/analytics/events", $$"""{"events":[{"name":"e","channel":"web","properties":{{deep}}}]}"""),
            HttpStatusCode.BadRequest, "events[0].properties is nested more than");
    }

    [Fact]
    public async Task Nul_and_lone_surrogates_are_400_on_every_field_and_nothing_is_written()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var taskId = (await OkAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t"}"""))).GetProperty("id").GetGuid();
        var before = await CountsAsync(tenantId);
        const string nul = "a\\u0000b";
        const string half = "a\\ud800b";
        var s = w.SessionId;
        (string Method, string Url, string? Body)[] cases =
        [
            ("POST", "/v1/users", $$"""{"external_id":"{{nul}}"}"""),
            ("POST", "/v1/users", $$"""{"external_id":"x","display_name":"{{nul}}"}"""),
            ("POST", "/v1/bots", $$"""{"name":"{{nul}}","llm_provider":"anthropic"}"""),
            ("POST", "/v1/sessions", $$"""{"user_id":"{{w.UserId}}","bot_id":"{{w.BotId}}","channel":"web","title":"{{nul}}"}"""),
            ("POST", $"/v1/sessions/{s}/messages", $$"""{"role":"user","content":"{{nul}}"}"""),
            ("POST", $"/v1/sessions/{s}/messages", $$"""{"role":"user","content":"x","metadata":{"k":"{{nul}}"} }"""),
            ("POST", $"/v1/sessions/{s}/messages", $$"""{"role":"user","content":"x","metadata":{"{{nul}}":1} }"""),
            ("POST", $"/v1/sessions/{s}/messages", $$"""{"role":"user","content":"x","metadata":["{{half}}"]}"""),
            ("POST", "/v1/messages/batch", $$"""{"messages":[{"session_id":"{{s}}","role":"user","content":"{{nul}}"}]}"""),
            ("POST", "/v1/messages/batch", $$"""{"messages":[{"session_id":"{{s}}","role":"user","content":"x","metadata":{"k":"{{nul}}"} }]}"""),
            ("POST", "/v1/messages/batch", $$"""{"messages":[{"session_id":"{{s}}","role":"user","content":"x","metadata":{"k":"{{half}}"} }]}"""),
            ("POST", "/v1/analytics/events", $$"""{"events":[{"name":"{{nul}}","channel":"web"}]}"""),
            ("POST", "/v1/analytics/events", $$"""{"events":[{"name":"e","channel":"web","properties":{"k":"{{nul}}"} }]}"""),
            ("POST", "/v1/analytics/events", $$"""{"events":[{"name":"e","channel":"web","properties":{"{{half}}":1} }]}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"{{nul}}"}"""),
            ("POST", "/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","payload":"{{nul}}"}"""),
            ("POST", $"/v1/tasks/{taskId}/transitions", $$"""{"to":"failed","error":"{{nul}}"}"""),
            ("PATCH", $"/v1/tasks/{taskId}", $$"""{"progress":5,"error":"{{nul}}"}"""),
            ("POST", $"/v1/tasks/{taskId}/approvals", $$"""{"step":"{{nul}}","expires_in_seconds":60}"""),
            ("PUT", $"/v1/bots/{w.BotId}/memories/long/k", $$"""{"value":"{{nul}}"}"""),
            ("PUT", $"/v1/bots/{w.BotId}/documents/a.md", $$"""{"sync_status":"error","error":"{{nul}}"}"""),
            ("PUT", $"/v1/bots/{w.BotId}/documents/a.md", $$"""{"sync_status":"synced","content_hash":"{{nul}}"}"""),
            ("GET", $"/v1/bots/{w.BotId}/documents?after={Cursor.Encode(Convert.ToBase64String("a\0b"u8))}", null),
            ("GET", $"/v1/bots/{w.BotId}/memories?after={Cursor.Encode("1", "", Convert.ToBase64String("a\0b"u8))}", null),
            ("GET", $"/v1/sessions/{s}/messages?before={Cursor.Encode("m", "5", "99999999999999999999")}", null),
            ("GET", $"/v1/sessions/{s}/messages?after={Cursor.Encode("m", "5", "1")}", null),
            ("GET", $"/v1/users/{w.UserId}/unread?after={Cursor.Encode("1", "a\0b")}", null),
        ];
        foreach (var (method, url, body) in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body is null ? null : Body(body) };
            await ProblemAsync(await client.SendAsync(request), HttpStatusCode.BadRequest);
        }
        Assert.Equal(before, await CountsAsync(tenantId));
        var stored = await OkAsync(await client.GetAsync($"/v1/tasks/{taskId}"));
        Assert.Equal("pending", stored.GetProperty("status").GetString());
        Assert.Equal(0, stored.GetProperty("progress").GetInt32());
    }

    private async Task<string> CountsAsync(long tenantId) => await api.Database.ScalarAsync<string>("""
        SELECT concat_ws(',', (SELECT count(*) FROM users WHERE tenant_id = $1), (SELECT count(*) FROM bots WHERE tenant_id = $1),
            (SELECT count(*) FROM user_sessions WHERE tenant_id = $1), (SELECT count(*) FROM message_history WHERE tenant_id = $1),
            (SELECT count(*) FROM analytics_events WHERE tenant_id = $1), (SELECT count(*) FROM auto_tasks WHERE tenant_id = $1),
            (SELECT count(*) FROM task_approvals WHERE tenant_id = $1), (SELECT count(*) FROM bot_memories WHERE tenant_id = $1),
            (SELECT count(*) FROM kb_documents WHERE tenant_id = $1))
        """, tenantId);

    private static JsonElement Single(JsonElement page) => Assert.Single(page.GetProperty("items").EnumerateArray().ToList());

    private static void AssertDepth(JsonElement item, string property) => Assert.Equal(Deepest, Depth(item.GetProperty(property)));
}
