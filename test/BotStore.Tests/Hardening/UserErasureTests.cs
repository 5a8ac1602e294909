using System.Net;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// Erasing one end user removes everything the tenant holds about them (sessions, messages in every partition, a
/// task of their session and its approval, memories, events), counts it per table, and touches no other user's or
/// tenant's rows; through the API and the CLI.
/// </summary>
public sealed class UserErasureTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task Delete_user_erases_their_rows_everywhere_and_nothing_else()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var (otherTenant, other) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        var victim = await SeedUserAsync(tenantId, client, w, "victim");
        var keeper = await SeedUserAsync(tenantId, client, w, "keeper");
        var stranger = await SeedUserAsync(otherTenant, other, await ApiWorld.CreateAsync(other), "stranger");
        var keptBefore = await RowsAsync(tenantId, keeper);
        var strangerBefore = await RowsAsync(otherTenant, stranger);
        Assert.DoesNotContain(0L, (await RowsAsync(tenantId, victim)).Values);

        // Another tenant cannot erase (or learn of) this user.
        await ProblemAsync(await other.DeleteAsync($"/v1/users/{victim}"), HttpStatusCode.NotFound);

        var answer = await OkAsync(await client.DeleteAsync($"/v1/users/{victim}"));
        var deleted = answer.GetProperty("deleted");
        Assert.Equal(1, deleted.GetProperty("users").GetInt64());
        Assert.Equal(2, deleted.GetProperty("user_sessions").GetInt64());
        Assert.Equal(4, deleted.GetProperty("message_history").GetInt64());
        Assert.Equal(1, deleted.GetProperty("auto_tasks").GetInt64());
        Assert.Equal(1, deleted.GetProperty("task_approvals").GetInt64());
        Assert.Equal(1, deleted.GetProperty("bot_memories").GetInt64());
        Assert.Equal(2, deleted.GetProperty("analytics_events").GetInt64());
        Assert.Equal(12, answer.GetProperty("total").GetInt64());

        Assert.All((await RowsAsync(tenantId, victim)).Values, n => Assert.Equal(0L, n));
        Assert.Equal(keptBefore, await RowsAsync(tenantId, keeper));
        Assert.Equal(strangerBefore, await RowsAsync(otherTenant, stranger));
        await ProblemAsync(await client.DeleteAsync($"/v1/users/{victim}"), HttpStatusCode.NotFound);
        await ProblemAsync(await client.DeleteAsync("/v1/users/nope"), HttpStatusCode.BadRequest);

        // The CLI erases the keeper by external id, in batches of one row.
        var name = await api.Database.ScalarAsync<string>("SELECT name FROM tenants WHERE id = $1", tenantId);
        var refused = await Infrastructure.Cli.RunAsync(["--database", api.Database.ConnectionString, "tenants", "erase-user", name, "keeper"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("pass --yes", refused.Stderr, StringComparison.Ordinal);
        var erased = await Infrastructure.Cli.RunAsync(["--database", api.Database.ConnectionString, "tenants", "erase-user", name, "keeper",
            "--yes", "--batch-size", "1", "--json"]);
        Assert.True(erased.ExitCode == 0, erased.Stderr);
        Assert.Contains("\"total\":12", erased.Stdout.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.All((await RowsAsync(tenantId, keeper)).Values, n => Assert.Equal(0L, n));
        Assert.Equal(strangerBefore, await RowsAsync(otherTenant, stranger));
    }

    // A user with two sessions (one started 40 days ago, so its messages are in another partition), two messages in
    // each (one unread), a task of a session with an approval, a memory about the user and two events.
    private async Task<Guid> SeedUserAsync(long tenantId, HttpClient client, ApiWorld w, string externalId)
    {
        var ds = api.Database.DataSource;
        var user = (await new UserStore(ds).CreateAsync(tenantId, externalId)).Id;
        var sessions = new SessionStore(ds);
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        var past = await sessions.CreateAsync(tenantId, user, w.BotId, ChannelType.Web, createdAt: old);
        var now = await sessions.CreateAsync(tenantId, user, w.BotId, ChannelType.Web);
        await new MessageStore(ds).BulkAppendAsync(tenantId, [
            new NewMessage(past.Id, MessageRole.User, "then") { Id = Uuid7.At(old.AddMinutes(1)) },
            new NewMessage(past.Id, MessageRole.Assistant, "then too") { Id = Uuid7.At(old.AddMinutes(2)) },
            new NewMessage(now.Id, MessageRole.User, "now"),
            new NewMessage(now.Id, MessageRole.Assistant, "now too"),
        ]);
        var task = await OkAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","session_id":"{{now.Id}}","title":"t"}"""));
        foreach (var to in new[] { "ready", "running" })
            await OkAsync(await client.PostRaw($"/v1/tasks/{task.GetProperty("id").GetGuid()}/transitions", $$"""{"to":"{{to}}"}"""));
        await OkAsync(await client.PostRaw($"/v1/tasks/{task.GetProperty("id").GetGuid()}/approvals", """{"step":"s","expires_in_seconds":600}"""));
        await OkAsync(await client.PutRaw($"/v1/bots/{w.BotId}/memories/long/name?user_id={user}", """{"value":"Ana"}"""));
        await new AnalyticsStore(ds).IngestAsync(tenantId, [
            new NewEvent("seen", ChannelType.Web) { UserId = user },
            new NewEvent("left", ChannelType.Web) { UserId = user, Id = Uuid7.At(old.AddMinutes(3)) },
        ]);
        return user;
    }

    private async Task<Dictionary<string, long>> RowsAsync(long tenantId, Guid user)
    {
        var rows = new Dictionary<string, long>();
        foreach (var (table, where) in new[]
        {
            ("users", "id = $2"), ("user_sessions", "user_id = $2"), ("message_history", "user_id = $2"), ("bot_memories", "user_id = $2"),
            ("analytics_events", "user_id = $2"),
            ("auto_tasks", "session_id IN (SELECT id FROM user_sessions WHERE tenant_id = $1 AND user_id = $2)"),
            ("task_approvals", "task_id IN (SELECT t.id FROM auto_tasks t JOIN user_sessions s ON s.id = t.session_id WHERE s.tenant_id = $1 AND s.user_id = $2)"),
        })
        {
            rows[table] = await api.Database.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE tenant_id = $1 AND {where}", tenantId, user);
        }
        return rows;
    }
}
