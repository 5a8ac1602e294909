using System.Net;
using System.Text;
using System.Text.Json;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Tasks;

public sealed class TasksApiTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task A_task_goes_through_its_life_with_an_approval_over_http()
    {
        var (tenant, client) = await api.NewTenantAsync();
        var bot = await Seed.BotAsync(api.Database, tenant);
        var created = await SendAsync(client, HttpMethod.Post, "/v1/tasks", $$"""
            {"bot_id": "{{bot}}", "title": "book a flight", "intent_type": "action", "priority": "urgent",
             "execution_mode": "supervised", "risk_level": "high", "payload": {"to": "LIS"} }
            """);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Json.GetProperty("id").GetString();
        Assert.Equal($"/v1/tasks/{id}", created.Location);
        Assert.Equal("pending", created.Json.GetProperty("status").GetString());
        Assert.Equal("urgent", created.Json.GetProperty("priority").GetString());
        Assert.Equal("LIS", created.Json.GetProperty("payload").GetProperty("to").GetString());

        Assert.Equal("ready", (await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/transitions", """{"to": "ready"}""")).Json.GetProperty("status").GetString());
        var illegal = await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/transitions", """{"to": "completed"}""");
        Assert.Equal(HttpStatusCode.Conflict, illegal.Status);
        Assert.Contains("is ready and cannot move to completed", illegal.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var stale = await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/transitions", """{"to": "running", "from": "pending"}""");
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Contains("is ready, not pending", stale.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/transitions", """{"to": "running", "from": "ready"}""");
        Assert.Equal(40, (await SendAsync(client, HttpMethod.Patch, $"/v1/tasks/{id}", """{"progress": 40}""")).Json.GetProperty("progress").GetInt32());

        var approval = await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/approvals", """{"step": "pay", "risk_level": "critical", "expires_in_seconds": 600}""");
        Assert.Equal(HttpStatusCode.Created, approval.Status);
        var approvalId = approval.Json.GetProperty("id").GetString();
        Assert.Equal("waiting_approval", (await SendAsync(client, HttpMethod.Get, $"/v1/tasks/{id}")).Json.GetProperty("status").GetString());
        var pending = await SendAsync(client, HttpMethod.Get, $"/v1/tasks/{id}/approvals?status=pending");
        Assert.Equal(approvalId, pending.Json.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, pending.Json.GetProperty("next").ValueKind);

        var decided = await SendAsync(client, HttpMethod.Post, $"/v1/approvals/{approvalId}/decision", """{"decision": "approve", "reason": "within budget"}""");
        Assert.Equal(HttpStatusCode.OK, decided.Status);
        Assert.Equal("approved", decided.Json.GetProperty("approval").GetProperty("status").GetString());
        Assert.Equal("running", decided.Json.GetProperty("task_status").GetString());
        var twice = await SendAsync(client, HttpMethod.Post, $"/v1/approvals/{approvalId}/decision", """{"decision": "reject"}""");
        Assert.Equal(HttpStatusCode.Conflict, twice.Status);
        Assert.Contains("already decided: approved", twice.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await SendAsync(client, HttpMethod.Get, $"/v1/tasks/{id}/approvals?status=pending")).Json.GetProperty("items").EnumerateArray());

        var done = await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{id}/transitions", """{"to": "completed"}""");
        Assert.Equal(100, done.Json.GetProperty("progress").GetInt32());
        Assert.Empty((await SendAsync(client, HttpMethod.Get, "/v1/tasks")).Json.GetProperty("items").EnumerateArray());
        Assert.Single((await SendAsync(client, HttpMethod.Get, $"/v1/tasks?state=all&bot_id={bot}")).Json.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Lists_page_with_a_cursor()
    {
        var (tenant, client) = await api.NewTenantAsync();
        var bot = await Seed.BotAsync(api.Database, tenant);
        for (var i = 0; i < 5; i++)
            await SendAsync(client, HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "t{{i}}"}""");
        var seen = new HashSet<string>();
        var url = "/v1/tasks?limit=2";
        for (var pages = 1; ; pages++)
        {
            var page = await SendAsync(client, HttpMethod.Get, url);
            foreach (var item in page.Json.GetProperty("items").EnumerateArray())
                Assert.True(seen.Add(item.GetProperty("id").GetString()!));
            if (page.Json.GetProperty("next").GetString() is not { } next)
            {
                Assert.Equal(3, pages);
                break;
            }
            url = $"/v1/tasks?limit=2&after={Uri.EscapeDataString(next)}";
        }
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public async Task Memories_and_documents_over_http()
    {
        var (tenant, client) = await api.NewTenantAsync();
        var bot = await Seed.BotAsync(api.Database, tenant);
        var user = await Seed.UserAsync(api.Database, tenant);
        var url = $"/v1/bots/{bot}/memories/semantic/favourite%20food";
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(client, HttpMethod.Put, url, """{"value": {"dish": "bacalhau"}}""")).Status);
        var replaced = await SendAsync(client, HttpMethod.Put, url, """{"value": ["bacalhau", "caldo verde"]}""");
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal("favourite food", replaced.Json.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(client, HttpMethod.Put, $"{url}?user_id={user}", """{"value": 7, "expires_at": "2999-01-01T00:00:00Z"}""")).Status);
        Assert.Equal(2, (await SendAsync(client, HttpMethod.Get, url)).Json.GetProperty("value").GetArrayLength());
        Assert.Equal(7, (await SendAsync(client, HttpMethod.Get, $"{url}?user_id={user}")).Json.GetProperty("value").GetInt32());
        Assert.Equal(2, (await SendAsync(client, HttpMethod.Get, $"/v1/bots/{bot}/memories?type=semantic")).Json.GetProperty("items").GetArrayLength());
        Assert.Single((await SendAsync(client, HttpMethod.Get, $"/v1/bots/{bot}/memories?user_id={user}")).Json.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, HttpMethod.Delete, url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(client, HttpMethod.Get, url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(client, HttpMethod.Delete, url)).Status);

        var doc = await SendAsync(client, HttpMethod.Put, $"/v1/bots/{bot}/documents/handbook/ch1.md", """{"sync_status": "pending", "content_hash": "h1", "size_bytes": 2048}""");
        Assert.Equal(HttpStatusCode.Created, doc.Status);
        Assert.Equal("handbook/ch1.md", doc.Json.GetProperty("path").GetString());
        await SendAsync(client, HttpMethod.Put, $"/v1/bots/{bot}/documents/handbook/ch2.md", """{"sync_status": "synced"}""");
        await SendAsync(client, HttpMethod.Put, $"/v1/bots/{bot}/documents/faq.md", """{"sync_status": "error", "error": "403 from source"}""");
        var work = await SendAsync(client, HttpMethod.Get, $"/v1/bots/{bot}/documents?sync_status=pending,error");
        Assert.Equal(["faq.md", "handbook/ch1.md"], work.Json.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task Another_tenants_things_are_404_to_a_tenant()
    {
        var (tenantA, a) = await api.NewTenantAsync();
        var (_, b) = await api.NewTenantAsync();
        var bot = await Seed.BotAsync(api.Database, tenantA);
        var task = (await SendAsync(a, HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "private"}""")).Json.GetProperty("id").GetString();
        await SendAsync(a, HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "ready"}""");
        await SendAsync(a, HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "running"}""");
        var approval = (await SendAsync(a, HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s", "expires_in_seconds": 60}""")).Json.GetProperty("id").GetString();
        await SendAsync(a, HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k", """{"value": 1}""");
        await SendAsync(a, HttpMethod.Put, $"/v1/bots/{bot}/documents/d.md", """{"sync_status": "pending"}""");

        (HttpMethod, string, string?)[] probes =
        [
            (HttpMethod.Get, $"/v1/tasks/{task}", null),
            (HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "cancelled"}"""),
            (HttpMethod.Patch, $"/v1/tasks/{task}", """{"progress": 1}"""),
            (HttpMethod.Get, $"/v1/tasks?bot_id={bot}", null),
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "sneaky"}"""),
            (HttpMethod.Get, $"/v1/tasks/{task}/approvals", null),
            (HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s", "expires_in_seconds": 60}"""),
            (HttpMethod.Get, $"/v1/approvals/{approval}", null),
            (HttpMethod.Post, $"/v1/approvals/{approval}/decision", """{"decision": "approve"}"""),
            (HttpMethod.Get, $"/v1/bots/{bot}/memories/long/k", null),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k", """{"value": 2}"""),
            (HttpMethod.Delete, $"/v1/bots/{bot}/memories/long/k", null),
            (HttpMethod.Get, $"/v1/bots/{bot}/memories", null),
            (HttpMethod.Put, $"/v1/bots/{bot}/documents/d.md", """{"sync_status": "deleted"}"""),
            (HttpMethod.Get, $"/v1/bots/{bot}/documents", null),
        ];
        foreach (var (method, url, body) in probes)
        {
            var answer = await SendAsync(b, method, url, body);
            Assert.True(answer.Status == HttpStatusCode.NotFound, $"{method} {url} answered {answer.Status}");
            Assert.Equal("application/problem+json", answer.MediaType);
        }
        Assert.Equal("waiting_approval", (await SendAsync(a, HttpMethod.Get, $"/v1/tasks/{task}")).Json.GetProperty("status").GetString());
        Assert.Equal(1, (await SendAsync(a, HttpMethod.Get, $"/v1/bots/{bot}/memories/long/k")).Json.GetProperty("value").GetInt32());
        Assert.Equal("pending", (await SendAsync(a, HttpMethod.Get, $"/v1/approvals/{approval}")).Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Bad_input_is_a_400_problem_that_says_what_is_wrong_and_writes_nothing()
    {
        var (tenant, client) = await api.NewTenantAsync();
        var bot = await Seed.BotAsync(api.Database, tenant);
        var task = (await SendAsync(client, HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "t"}""")).Json.GetProperty("id").GetString();
        await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "ready"}""");
        await SendAsync(client, HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "running"}""");
        var before = await RowsAsync(tenant);

        (HttpMethod, string, string?, string)[] cases =
        [
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "t", "priority": "asap"}""", "'asap' is not a task_priority"),
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "t", "intent_type": 3}""", "a intent_type is a string"),
            (HttpMethod.Post, "/v1/tasks", """{"bot_id": "not-a-uuid", "title": "t"}""", "$.bot_id"),
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "t" """, "not valid JSON"),
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}"}""", "title is required"),
            (HttpMethod.Post, "/v1/tasks", $$"""{"bot_id": "{{bot}}", "title": "{{new string('x', 501)}}"}""", "title must have 1 to 500"),
            (HttpMethod.Get, "/v1/tasks/12345", null, "task id '12345' is not a valid id"),
            (HttpMethod.Get, $"/v1/tasks?limit={api.Options.MaxPageSize + 1}", null, $"limit must be at most {api.Options.MaxPageSize}"),
            (HttpMethod.Get, "/v1/tasks?limit=ten", null, "limit must be a whole number"),
            (HttpMethod.Get, "/v1/tasks?state=finished", null, "state must be active or all"),
            (HttpMethod.Get, "/v1/tasks?after=garbage", null, "is not a cursor"),
            (HttpMethod.Post, $"/v1/tasks/{task}/transitions", """{"to": "done"}""", "'done' is not a task_status"),
            (HttpMethod.Post, $"/v1/tasks/{task}/transitions", "{}", "to is required"),
            (HttpMethod.Patch, $"/v1/tasks/{task}", """{"progress": 101}""", "progress must be between 0 and 100"),
            (HttpMethod.Patch, $"/v1/tasks/{task}", """{"progress": -5}""", "progress must be between 0 and 100"),
            (HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s", "expires_at": "2001-01-01T00:00:00Z"}""", "expires_at must be in the future"),
            (HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s"}""", "give expires_at or expires_in_seconds"),
            (HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s", "expires_in_seconds": 0}""", "expires_in_seconds must be between"),
            (HttpMethod.Post, $"/v1/tasks/{task}/approvals", """{"step": "s", "risk_level": "extreme", "expires_in_seconds": 9}""", "'extreme' is not a risk_level"),
            (HttpMethod.Post, $"/v1/approvals/{task}/decision", """{"decision": "maybe"}""", "'maybe' is not a decision"),
            (HttpMethod.Get, $"/v1/tasks/{task}/approvals?status=open", null, "status must be pending or all"),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/forever/k", """{"value": 1}""", "'forever' is not a memory_type"),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k", """{"value": 1, "expires_at": "2001-01-01T00:00:00Z"}""", "expires_at must be in the future"),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k", """{"expires_at": "2999-01-01T00:00:00Z"}""", "value is required"),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k?user_id=nobody", """{"value": 1}""", "user_id 'nobody' is not a valid id"),
            (HttpMethod.Put, $"/v1/bots/{bot}/memories/long/k", "{\"value\": ", "not valid JSON"),
            (HttpMethod.Get, $"/v1/bots/{bot}/memories?type=sometimes", null, "'sometimes' is not a memory_type"),
            (HttpMethod.Put, $"/v1/bots/{bot}/documents/a.md", """{"sync_status": "lost"}""", "'lost' is not a sync_status"),
            (HttpMethod.Put, $"/v1/bots/{bot}/documents/a.md", """{"sync_status": "pending", "size_bytes": -1}""", "size_bytes must not be negative"),
            (HttpMethod.Get, $"/v1/bots/{bot}/documents?sync_status=pending,gone", null, "'gone' is not a sync_status"),
            (HttpMethod.Get, "/v1/bots/xyz/documents", null, "bot id 'xyz' is not a valid id"),
        ];
        foreach (var (method, url, body, detail) in cases)
        {
            var answer = await SendAsync(client, method, url, body);
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{method} {url} {body} answered {answer.Status}");
            Assert.Equal("application/problem+json", answer.MediaType);
            Assert.Contains(detail, answer.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(before, await RowsAsync(tenant));
        var unchanged = (await SendAsync(client, HttpMethod.Get, $"/v1/tasks/{task}")).Json;
        Assert.Equal(("running", 0), (unchanged.GetProperty("status").GetString(), unchanged.GetProperty("progress").GetInt32()));
    }

    private Task<string> RowsAsync(long tenant) => api.Database.ScalarAsync<string>("""
        SELECT concat_ws(',', (SELECT count(*) FROM auto_tasks WHERE tenant_id = $1), (SELECT max(updated_at) FROM auto_tasks WHERE tenant_id = $1),
            (SELECT count(*) FROM task_approvals WHERE tenant_id = $1), (SELECT count(*) FROM bot_memories WHERE tenant_id = $1),
            (SELECT count(*) FROM kb_documents WHERE tenant_id = $1))
        """, tenant);

    private static async Task<Answer> SendAsync(HttpClient client, HttpMethod method, string url, string? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Answer(response.StatusCode, json, response.Headers.Location?.ToString(), response.Content.Headers.ContentType?.MediaType);
    }

    private sealed record Answer(HttpStatusCode Status, JsonElement Json, string? Location, string? MediaType);
}
