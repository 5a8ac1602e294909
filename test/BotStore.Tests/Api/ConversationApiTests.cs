using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Api;

public sealed class ConversationApiTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task A_conversation_end_to_end_in_snake_case_with_enum_names()
    {
        var (_, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        Assert.Equal("anthropic", w.Bot.GetProperty("llm_provider").GetString());
        Assert.Equal("web", w.Session.GetProperty("channel").GetString());

        var id = Guid.CreateVersion7();
        var first = await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/messages", new { id, role = "user", message_type = "text", content = "Hi!" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var answer = await Json(first);
        Assert.Equal(0, answer.GetProperty("message_index").GetInt32());
        Assert.Equal(id, answer.GetProperty("id").GetGuid());
        Assert.Equal($"/v1/messages/{id}", first.Headers.Location?.ToString());

        var retry = await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/messages", new { id, role = "user", message_type = "text", content = "Hi!" });
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(answer.ToString(), (await Json(retry)).ToString());

        for (var i = 1; i < 5; i++)
        {
            var reply = await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/messages",
                new { role = i % 2 == 1 ? "assistant" : "user", content = $"reply {i}", metadata = new { step = i } });
            Assert.Equal(i, (await Json(reply)).GetProperty("message_index").GetInt32());
        }

        var newest = await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}/messages?limit=2");
        Assert.Equal([4, 3], Indexes(newest));
        Assert.Equal("user", newest.GetProperty("items")[0].GetProperty("role").GetString());
        var next = newest.GetProperty("next").GetString();
        Assert.Equal(new[] { 2, 1 }, Indexes(await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}/messages?limit=2&before={next}")));
        var oldest = await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}/messages?order=asc&after=1");
        Assert.Equal([2, 3, 4], Indexes(oldest));
        Assert.Equal(JsonValueKind.Null, oldest.GetProperty("next").ValueKind);
        Assert.Equal(3, oldest.GetProperty("items")[1].GetProperty("metadata").GetProperty("step").GetInt32());
        Assert.Equal("Hi!", (await client.GetFromJsonAsync<JsonElement>($"/v1/messages/{id}")).GetProperty("content").GetString());

        Assert.Equal(new[] { 1, 3 }, Indexes(await client.GetFromJsonAsync<JsonElement>($"/v1/users/{w.UserId}/unread")));
        var read = await client.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/read", new { up_to_index = 2 });
        Assert.Equal(1, (await Json(read)).GetProperty("marked").GetInt32());
        Assert.Equal(new[] { 3 }, Indexes(await client.GetFromJsonAsync<JsonElement>($"/v1/users/{w.UserId}/unread")));

        var withMessages = await client.GetFromJsonAsync<JsonElement>($"/v1/users/{w.UserId}/sessions?messages=2");
        var item = withMessages.GetProperty("items")[0];
        Assert.Equal(5, item.GetProperty("message_count").GetInt32());
        Assert.Equal([4, 3], item.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("message_index").GetInt32()));
        var plain = await client.GetFromJsonAsync<JsonElement>($"/v1/users/{w.UserId}/sessions");
        Assert.False(plain.GetProperty("items")[0].TryGetProperty("messages", out _));
        Assert.Equal(w.SessionId, (await client.GetFromJsonAsync<JsonElement>("/v1/sessions")).GetProperty("items")[0].GetProperty("id").GetGuid());
        Assert.Equal(5, (await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}")).GetProperty("message_count").GetInt32());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_conversation_routes()
    {
        using var anonymous = api.Anonymous();
        var paths = (await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[] { "/v1/bots", "/v1/bots/{id}/deactivate", "/v1/users/{id}/sessions", "/v1/sessions/{id}/messages",
                     "/v1/sessions/{id}/read", "/v1/users/{id}/unread", "/v1/messages/batch", "/v1/analytics/events" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
    }

    [Fact]
    public async Task Bots_users_and_channels()
    {
        var (_, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var second = await Json(await client.PostAsJsonAsync("/v1/bots", new { name = "second", llm_provider = "mistral" }));
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/v1/bots/{w.BotId}/channels", new { channel = "telegram" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync($"/v1/bots/{w.BotId}/channels", new { channel = "telegram" })).StatusCode);
        Assert.Equal("telegram", (await client.GetFromJsonAsync<JsonElement>($"/v1/bots/{w.BotId}/channels")).GetProperty("items")[0].GetProperty("channel").GetString());

        var deactivated = await Json(await client.PostAsync($"/v1/bots/{second.GetProperty("id").GetGuid()}/deactivate", null));
        Assert.False(deactivated.GetProperty("is_active").GetBoolean());
        Assert.Equal([w.BotId], (await client.GetFromJsonAsync<JsonElement>("/v1/bots")).GetProperty("items").EnumerateArray().Select(b => b.GetProperty("id").GetGuid()));
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/v1/bots?include_inactive=true")).GetProperty("items").GetArrayLength());
        var session = await client.PostAsJsonAsync("/v1/sessions", new { user_id = w.UserId, bot_id = second.GetProperty("id").GetGuid(), channel = "web" });
        Assert.Equal(HttpStatusCode.Conflict, session.StatusCode);

        Assert.Equal("u-1", (await client.GetFromJsonAsync<JsonElement>($"/v1/users/{w.UserId}")).GetProperty("external_id").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/v1/users", new { external_id = "u-1" })).StatusCode);
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/v1/users")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Batches_of_messages_and_events_go_through_copy_and_are_idempotent()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var messages = Enumerable.Range(0, 20).Select(i => new { id = Guid.CreateVersion7(), session_id = w.SessionId, role = "user", content = $"b{i}" }).ToArray();
        var first = await Json(await client.PostAsJsonAsync("/v1/messages/batch", new { messages }));
        Assert.Equal((20, 20, 0), (first.GetProperty("received").GetInt32(), first.GetProperty("inserted").GetInt32(), first.GetProperty("duplicates").GetInt32()));
        var again = await Json(await client.PostAsJsonAsync("/v1/messages/batch", new { messages }));
        Assert.Equal(20, again.GetProperty("duplicates").GetInt32());
        Assert.Equal(20, (await client.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}")).GetProperty("message_count").GetInt32());

        var events = Enumerable.Range(0, 30).Select(i => new { name = "opened", channel = "slack", session_id = w.SessionId, properties = new { i } }).ToArray();
        var ingested = await Json(await client.PostAsJsonAsync("/v1/analytics/events", new { events }));
        Assert.Equal(30, ingested.GetProperty("inserted").GetInt32());
        Assert.Equal(30L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM analytics_events WHERE tenant_id = $1 AND channel = 4", tenantId));
    }

    [Fact]
    public async Task Another_tenants_ids_are_not_found_anywhere_and_nothing_is_written()
    {
        var (tenantA, a) = await api.NewTenantAsync();
        var (_, b) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(a);
        await a.PostAsJsonAsync($"/v1/sessions/{w.SessionId}/messages", new { role = "user", content = "A's secret" });
        var ownB = await ApiWorld.CreateAsync(b);
        var messageId = (await a.GetFromJsonAsync<JsonElement>($"/v1/sessions/{w.SessionId}/messages")).GetProperty("items")[0].GetProperty("id").GetGuid();

        HttpRequestMessage[] requests =
        [
            new(HttpMethod.Get, $"/v1/bots/{w.BotId}"),
            new(HttpMethod.Post, $"/v1/bots/{w.BotId}/deactivate"),
            new(HttpMethod.Get, $"/v1/bots/{w.BotId}/channels"),
            Post($"/v1/bots/{w.BotId}/channels", new { channel = "sms" }),
            new(HttpMethod.Get, $"/v1/users/{w.UserId}"),
            new(HttpMethod.Get, $"/v1/users/{w.UserId}/sessions"),
            new(HttpMethod.Get, $"/v1/users/{w.UserId}/sessions?messages=3"),
            new(HttpMethod.Get, $"/v1/users/{w.UserId}/unread"),
            new(HttpMethod.Get, $"/v1/sessions/{w.SessionId}"),
            new(HttpMethod.Get, $"/v1/sessions/{w.SessionId}/messages"),
            new(HttpMethod.Get, $"/v1/messages/{messageId}"),
            Post($"/v1/sessions/{w.SessionId}/messages", new { role = "user", content = "B writes into A" }),
            Post($"/v1/sessions/{w.SessionId}/read", new { up_to_index = 0 }),
            Post("/v1/sessions", new { user_id = w.UserId, bot_id = ownB.BotId, channel = "web" }),
            Post("/v1/sessions", new { user_id = ownB.UserId, bot_id = w.BotId, channel = "web" }),
            Post("/v1/messages/batch", new { messages = new[] { new { session_id = w.SessionId, role = "user", content = "x" } } }),
        ];
        foreach (var request in requests)
        {
            var response = await b.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantA));
        Assert.True((await a.GetFromJsonAsync<JsonElement>($"/v1/bots/{w.BotId}")).GetProperty("is_active").GetBoolean());
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM bot_channels WHERE tenant_id = $1", tenantA));
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM user_sessions WHERE tenant_id = $1", tenantA));
    }

    private static HttpRequestMessage Post(string url, object body) => new(HttpMethod.Post, url) { Content = JsonContent.Create(body) };

    private static int[] Indexes(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("message_index").GetInt32()).ToArray();

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();
}

/// <summary>A bot, a user and a session made through the API.</summary>
public sealed record ApiWorld(JsonElement Bot, JsonElement User, JsonElement Session)
{
    public Guid BotId => Bot.GetProperty("id").GetGuid();
    public Guid UserId => User.GetProperty("id").GetGuid();
    public Guid SessionId => Session.GetProperty("id").GetGuid();

    public static async Task<ApiWorld> CreateAsync(HttpClient client)
    {
        var bot = await CreatedAsync(await client.PostAsJsonAsync("/v1/bots", new { name = "helper", llm_provider = "anthropic" }));
        var user = await CreatedAsync(await client.PostAsJsonAsync("/v1/users", new { external_id = "u-1", display_name = "Ana" }));
        var session = await CreatedAsync(await client.PostAsJsonAsync("/v1/sessions",
            new { user_id = user.GetProperty("id").GetGuid(), bot_id = bot.GetProperty("id").GetGuid(), channel = "web", title = "hello" }));
        return new ApiWorld(bot, user, session);
    }

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
