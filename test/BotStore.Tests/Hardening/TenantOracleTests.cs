using System.Net;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// Another tenant's ids look exactly like ids that do not exist: a tenant may use them as its own (ids are unique per
/// tenant), and error bodies speak in the caller's terms, never naming constraints, partitions or PostgreSQL's text.
/// </summary>
public sealed class TenantOracleTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task Another_tenants_message_and_event_ids_are_free_for_a_tenant()
    {
        var (tenantA, a) = await api.NewTenantAsync();
        var (tenantB, b) = await api.NewTenantAsync();
        var wa = await ApiWorld.CreateAsync(a);
        var wb = await ApiWorld.CreateAsync(b);
        var messageId = Guid.CreateVersion7();
        var eventId = Guid.CreateVersion7();
        await OkAsync(await a.PostRaw($"/v1/sessions/{wa.SessionId}/messages", $$"""{"id":"{{messageId}}","role":"user","content":"A's"}"""), HttpStatusCode.Created);
        await OkAsync(await a.PostRaw("/v1/analytics/events", $$"""{"events":[{"id":"{{eventId}}","name":"a","channel":"web"}]}"""));

        // B's append with A's id is B's own new message, not a conflict; B's batch and event with it are stored too.
        var mine = await OkAsync(await b.PostRaw($"/v1/sessions/{wb.SessionId}/messages", $$"""{"id":"{{messageId}}","role":"user","content":"B's"}"""),
            HttpStatusCode.Created);
        Assert.Equal(0, mine.GetProperty("message_index").GetInt32());
        var events = await OkAsync(await b.PostRaw("/v1/analytics/events", $$"""{"events":[{"id":"{{eventId}}","name":"b","channel":"web"}]}"""));
        Assert.Equal(1, events.GetProperty("inserted").GetInt32());
        Assert.Equal(0, events.GetProperty("duplicates").GetInt32());

        Assert.Equal("A's", (await OkAsync(await a.GetAsync($"/v1/messages/{messageId}"))).GetProperty("content").GetString());
        Assert.Equal("B's", (await OkAsync(await b.GetAsync($"/v1/messages/{messageId}"))).GetProperty("content").GetString());
        foreach (var tenant in new[] { tenantA, tenantB })
        {
            Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1 AND id = $2", tenant, messageId));
            Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM analytics_events WHERE tenant_id = $1 AND id = $2", tenant, eventId));
        }
        // A retry by B is still B's idempotent retry.
        await OkAsync(await b.PostRaw($"/v1/sessions/{wb.SessionId}/messages", $$"""{"id":"{{messageId}}","role":"user","content":"B's"}"""), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Errors_name_the_callers_things_not_constraints_partitions_or_postgres_text()
    {
        var (_, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var duplicateUser = await ProblemAsync(await client.PostRaw("/v1/users", """{"external_id":"u-1"}"""), HttpStatusCode.Conflict,
            "a user with this external_id already exists");
        await OkAsync(await client.PostRaw($"/v1/bots/{w.BotId}/channels", """{"channel":"web"}"""), HttpStatusCode.Created);
        var duplicateChannel = await ProblemAsync(await client.PostRaw($"/v1/bots/{w.BotId}/channels", """{"channel":"web"}"""),
            HttpStatusCode.Conflict, "the bot already has this channel");
        var missingUser = await ProblemAsync(await client.PostRaw("/v1/sessions", $$"""{"user_id":"{{Guid.CreateVersion7()}}","bot_id":"{{w.BotId}}","channel":"web"}"""),
            HttpStatusCode.NotFound);
        var batch = await ProblemAsync(await client.PostRaw("/v1/messages/batch",
            $$"""{"messages":[{"session_id":"{{Guid.CreateVersion7()}}","role":"user","content":"x"}]}"""), HttpStatusCode.NotFound, "messages[0].session_id");
        foreach (var problem in new[] { duplicateUser, duplicateChannel, missingUser, batch })
        {
            var detail = problem.GetProperty("detail").GetString()!;
            foreach (var leak in new[] { "_key", "_pkey", "_fkey", "constraint", "violates", "duplicate key", "message_history_", "tenant_id" })
                Assert.DoesNotContain(leak, detail, StringComparison.OrdinalIgnoreCase);
        }
    }
}
