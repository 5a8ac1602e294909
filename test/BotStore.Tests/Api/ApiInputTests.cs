using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Api;

/// <summary>Bad input: a 4xx problem that says what is wrong, and nothing written.</summary>
public sealed class ApiInputTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task Bad_messages_are_refused_with_what_is_wrong_and_nothing_is_written()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var url = $"/v1/sessions/{w.SessionId}/messages";
        var cases = new (string Body, string Says)[]
        {
            ("""{"role":"robot","content":"x"}""", "allowed names are user, assistant"),
            ("""{"role":"user","message_type":"hologram","content":"x"}""", "'hologram' is not a message_type"),
            ("""{"role":"user"}""", "content is required"),
            ("""{"content":"x"}""", "role is required"),
            ("""{"role":"user","content":"x","id":"nope"}""", "'nope' is not a valid id"),
            ($$"""{"role":"user","content":"x","id":"{{Guid.NewGuid()}}"}""", "is not a UUIDv7"),
            ($$"""{"role":"user","content":"x","id":"{{Uuid7.At(DateTimeOffset.UtcNow.AddMinutes(-30))}}"}""", "minutes in the past"),
            ($$"""{"role":"user","content":"x","id":"{{Uuid7.At(DateTimeOffset.UtcNow.AddMinutes(30))}}"}""", "minutes in the future"),
            ($$"""{"role":"user","content":"{{new string('é', api.Options.MaxContentBytes / 2 + 1)}}"}""", $"the limit is {api.Options.MaxContentBytes}"),
            ("""{"role":"user","content":"x",""", "not valid JSON"),
            ("""{"role":"user","content":"x","metadata":{"a":1}""", "not valid JSON"),
        };
        foreach (var (body, says) in cases)
            await AssertProblemAsync(await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, says);

        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/sessions/not-a-session/messages", new { role = "user", content = "x" }),
            HttpStatusCode.BadRequest, "session id 'not-a-session' is not a valid id");
        await AssertProblemAsync(await client.PostAsJsonAsync($"/v1/sessions/{Guid.CreateVersion7()}/messages", new { role = "user", content = "x" }),
            HttpStatusCode.NotFound, "not found");
        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/messages/batch", new
        {
            messages = new object[] { new { session_id = w.SessionId, role = "user", content = "fine" }, new { session_id = w.SessionId, role = "user" } },
        }), HttpStatusCode.BadRequest, "messages[1].content is required");
        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/messages/batch", new
        {
            messages = new object[] { new { session_id = w.SessionId, role = "user", content = "fine" }, new { session_id = w.SessionId, role = "user", content = "x", message_index = -1 } },
        }), HttpStatusCode.BadRequest, "messages[1]: message_index must be between 0 and");
        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/messages/batch", new { messages = Array.Empty<object>() }), HttpStatusCode.BadRequest, "messages is empty");
        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/analytics/events", new { events = new[] { new { name = "x", channel = "pigeon" } } }),
            HttpStatusCode.BadRequest, "'pigeon' is not a channel_type");

        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM analytics_events WHERE tenant_id = $1", tenantId));
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}")).GetProperty("message_count").GetInt32());
    }

    [Fact]
    public async Task An_old_client_id_is_accepted_only_as_a_retry_of_what_is_stored()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        // Stored 30 minutes "ago" (through the library, which allows up to an hour's drift); the API then sees it as old.
        var id = Uuid7.At(DateTimeOffset.UtcNow.AddMinutes(-30));
        var stored = await new MessageStore(api.Database.DataSource).AppendAsync(tenantId, new NewMessage(w.SessionId, MessageRole.User, "early") { Id = id });

        var retry = await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/messages", new { id, role = "user", content = "early" });
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(stored.MessageIndex, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message_index").GetInt32());
        var otherSession = await client.PostAsJsonAsync("/v1/sessions", new { user_id = w.UserId, bot_id = w.BotId, channel = "web" });
        var otherId = (await otherSession.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await AssertProblemAsync(await client.PostAsJsonAsync($"/v1/sessions/{otherId}/messages", new { id, role = "user", content = "early" }),
            HttpStatusCode.Conflict, "already used");
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));
    }

    [Fact]
    public async Task Bad_ids_pages_cursors_and_orders_are_400_problems()
    {
        var (_, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var max = api.Options.MaxPageSize;
        (string Url, string Says)[] cases =
        [
            ($"/v1/sessions/{w.SessionId}/messages?limit={max + 1}", $"limit must be at most {max}"),
            ($"/v1/sessions/{w.SessionId}/messages?limit=0", "limit must be at least 1"),
            ($"/v1/sessions/{w.SessionId}/messages?limit=many", "limit"),
            ($"/v1/sessions/{w.SessionId}/messages?order=sideways", "order must be asc or desc"),
            ($"/v1/sessions/{w.SessionId}/messages?before=zzz", "before must be a message_index or a cursor"),
            ("/v1/sessions?after=garbage", "not a cursor this list gave out"),
            ($"/v1/users/{w.UserId}/sessions?messages=1000", "messages must be between 1 and 100"),
            ("/v1/bots/12345", "bot id '12345' is not a valid id"),
            ("/v1/users/xyz/unread", "user id 'xyz' is not a valid id"),
        ];
        foreach (var (url, says) in cases)
            await AssertProblemAsync(await client.GetAsync(url), HttpStatusCode.BadRequest, says);

        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/sessions", new { user_id = "xyz", bot_id = w.BotId, channel = "web" }),
            HttpStatusCode.BadRequest, "user_id 'xyz' is not a valid id");
        await AssertProblemAsync(await client.PostAsJsonAsync("/v1/bots", new { name = "b", llm_provider = 3 }), HttpStatusCode.BadRequest, "a llm_provider is a string");
        await AssertProblemAsync(await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/read", new { up_to_index = -1 }), HttpStatusCode.BadRequest, "up_to_index");
        await AssertProblemAsync(await client.PostAsync("/v1/users", new StringContent("", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task The_same_mistake_gets_the_same_400_on_every_route()
    {
        var (_, client) = await api.NewTenantAsync();
        // One route per former helper family (tasks, memories and documents used one; the conversation routes another).
        string[] listUrls = ["/v1/tasks", "/v1/users", "/v1/bots", "/v1/sessions", $"/v1/bots/{Guid.NewGuid()}/memories", $"/v1/users/{Guid.NewGuid()}/unread"];
        var limitDetails = new HashSet<string>(StringComparer.Ordinal);
        foreach (var url in listUrls)
            limitDetails.Add(await DetailAsync(await client.GetAsync(url + "?limit=ten")));
        Assert.Equal(["limit must be a whole number (got 'ten')"], limitDetails);

        (string Url, string What)[] idUrls =
        [
            ("/v1/tasks/xyz", "task id"), ("/v1/approvals/xyz", "approval id"), ("/v1/bots/xyz", "bot id"), ("/v1/users/xyz", "user id"),
            ("/v1/sessions/xyz", "session id"), ("/v1/messages/xyz", "message id"), ("/v1/bots/xyz/documents", "bot id"), ("/v1/bots/xyz/memories", "bot id"),
        ];
        foreach (var (url, what) in idUrls)
            Assert.Equal($"{what} 'xyz' is not a valid id (a UUID)", await DetailAsync(await client.GetAsync(url)));
        Assert.Equal("bot_id 'xyz' is not a valid id (a UUID)", await DetailAsync(await client.GetAsync("/v1/tasks?bot_id=xyz")));
        Assert.Equal("user_id 'xyz' is not a valid id (a UUID)", await DetailAsync(await client.GetAsync($"/v1/bots/{Guid.NewGuid()}/memories?user_id=xyz")));
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string says)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString();
        Assert.True(detail?.Contains(says, StringComparison.Ordinal) == true, $"expected '{says}' in: {detail}");
    }
}
