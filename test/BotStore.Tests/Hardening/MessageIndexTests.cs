using System.Net;
using BotStore.Data;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>An explicit message_index cannot brick a session: beyond <see cref="InputLimits.MaxMessageIndex"/> it is a 400, and at it later appends go on.</summary>
public sealed class MessageIndexTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task An_index_near_int_max_is_refused_and_the_highest_allowed_leaves_the_session_open()
    {
        var (tenantId, client) = await api.NewTenantAsync();
        var w = await ApiWorld.CreateAsync(client);
        string Item(long index) => $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"user","content":"x","message_index":{{index}}}]}""";

        await ProblemAsync(await client.PostRaw("/v1/messages/batch", Item(int.MaxValue - 1)), HttpStatusCode.BadRequest,
            $"message_index must be between 0 and {InputLimits.MaxMessageIndex}");
        await ProblemAsync(await client.PostRaw("/v1/messages/batch", Item(InputLimits.MaxMessageIndex + 1L)), HttpStatusCode.BadRequest,
            "message_index must be between 0 and");
        await ProblemAsync(await client.PostRaw("/v1/messages/batch", Item(int.MaxValue + 1L)), HttpStatusCode.BadRequest);
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));

        await OkAsync(await client.PostRaw("/v1/messages/batch", Item(InputLimits.MaxMessageIndex)));
        var next = await OkAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages", """{"role":"user","content":"after"}"""), HttpStatusCode.Created);
        Assert.Equal(InputLimits.MaxMessageIndex + 1, next.GetProperty("message_index").GetInt32());
        var batch = await OkAsync(await client.PostRaw("/v1/messages/batch",
            $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"user","content":"y"}]}"""));
        Assert.Equal(1, batch.GetProperty("inserted").GetInt32());
        var history = await OkAsync(await client.GetAsync($"/v1/sessions/{w.SessionId}/messages?order=desc&limit=1"));
        Assert.Equal(InputLimits.MaxMessageIndex + 2, history.GetProperty("items")[0].GetProperty("message_index").GetInt32());
    }
}
