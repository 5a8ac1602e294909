using System.Net;
using BotStore.Data;
using BotStore.Tests.Api;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// Large metadata, again and again, with clients that give up half-way, on a small pool: every acknowledged append is
/// stored and answered as such, an oversized value is a 413 problem that writes nothing, and afterwards every
/// connection is back and idle (none serves the next request in an unknown state).
/// </summary>
public sealed class LargeBodyTests : IAsyncLifetime
{
    private const int PoolSize = 3;
    private readonly SmallPoolServer _server = new(PoolSize, "botstore-large");

    public Task InitializeAsync() => _server.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Large_metadata_repeated_with_aborted_clients_is_stored_exactly_as_acknowledged()
    {
        var (_, client) = await _server.TenantClientAsync();
        var w = await ApiWorld.CreateAsync(client);
        var big = $$"""{"blob":"{{new string('x', InputLimits.MaxJsonBytes - 20)}}"}""";
        var acknowledged = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            // A client that gives up while its large request is under way.
            using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(1 + i % 4 * 3)))
            {
                try
                {
                    (await client.PostAsync($"/v1/sessions/{w.SessionId}/messages",
                        Body($$"""{"role":"user","content":"gave up","metadata":{{big}}}"""), impatient.Token)).Dispose();
                }
                catch (OperationCanceledException)
                {
                    // expected: the client went away
                }
            }
            var id = Guid.CreateVersion7();
            var answer = await OkAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages",
                $$"""{"id":"{{id}}","role":"user","content":"kept {{i}}","metadata":{{big}}}"""), HttpStatusCode.Created);
            Assert.Equal(id, answer.GetProperty("id").GetGuid());
            acknowledged.Add(id);
        }

        var tooBig = $$"""{"blob":"{{new string('x', InputLimits.MaxJsonBytes)}}"}""";
        await ProblemAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages", $$"""{"role":"user","content":"x","metadata":{{tooBig}}}"""),
            HttpStatusCode.RequestEntityTooLarge, $"the limit is {InputLimits.MaxJsonBytes}");
        await ProblemAsync(await client.PostRaw("/v1/messages/batch",
            $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"user","content":"x","metadata":{{tooBig}}}]}"""), HttpStatusCode.RequestEntityTooLarge);
        await ProblemAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","payload":{{tooBig}}}"""), HttpStatusCode.RequestEntityTooLarge);

        // Every acknowledged append is stored once, with its metadata whole; the session's counter matches what is stored.
        foreach (var id in acknowledged)
        {
            var stored = await OkAsync(await client.GetAsync($"/v1/messages/{id}"));
            Assert.Equal(InputLimits.MaxJsonBytes - 20, stored.GetProperty("metadata").GetProperty("blob").GetString()!.Length);
        }
        var count = await _server.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1", w.SessionId);
        Assert.Equal(count, await _server.Database.ScalarAsync<int>("SELECT message_count FROM user_sessions WHERE id = $1", w.SessionId));
        Assert.Equal(0L, await _server.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1 AND content = 'x'", w.SessionId));

        // Another request is served at once, and no connection is left busy.
        await OkAsync(await client.GetAsync($"/v1/sessions/{w.SessionId}/messages?limit=5"));
        Assert.Equal(0L, await _server.BusyConnectionsAsync());
    }
}
