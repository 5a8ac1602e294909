using System.Collections.Concurrent;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Sharding.Moves;
using BotStore.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace BotStore.Tests.Moves;

/// <summary>
/// A move between two clusters while writers keep appending through the router and each shard's PgBouncer (client
/// ids, retried on 503 as an API client would): nothing acknowledged is lost or doubled, and nothing stays behind.
/// </summary>
public sealed class MoveUnderLoadTests(TwoShards shards, ITestOutputHelper output) : IClassFixture<TwoShards>
{
    private readonly TwoShards _shards = shards;

    [Fact]
    public async Task Every_acknowledged_message_is_on_the_target_exactly_once_and_the_fence_is_short()
    {
        await using var router = _shards.CreateRouter();
        var (tenant, _) = await new TenantStore(router).CreateAsync($"moving-{Guid.NewGuid():N}"[..20], "east");
        var other = (await new TenantStore(router).CreateAsync($"staying-{Guid.NewGuid():N}"[..20], "east")).Tenant;
        await using var east = _shards.East.CreateDirect();
        await using var west = _shards.West.CreateDirect();
        var sessions = new[] { await NewSessionAsync(east, tenant.Id), await NewSessionAsync(east, tenant.Id) };
        var otherSession = await NewSessionAsync(east, other.Id);
        var messages = new MessageStore(router);

        var acked = new ConcurrentBag<Guid>();
        var otherAcked = new ConcurrentBag<Guid>();
        var retries = 0;
        using var stop = new CancellationTokenSource();
        async Task WriteAsync(long tenantId, Guid session, ConcurrentBag<Guid> into)
        {
            while (!stop.IsCancellationRequested)
            {
                var id = Uuid7.New();
                while (true)
                {
                    try
                    {
                        await messages.AppendAsync(tenantId, new NewMessage(session, MessageRole.User, "hello") { Id = id });
                        into.Add(id);
                        break;
                    }
                    catch (BotStoreUnavailableException)
                    {
                        // The API answers 503 with Retry-After: the client sends the same message (same id) again.
                        Interlocked.Increment(ref retries);
                        await Task.Delay(50);
                    }
                }
            }
        }
        var writers = sessions.Select(s => Task.Run(() => WriteAsync(tenant.Id, s, acked)))
            .Append(Task.Run(() => WriteAsync(other.Id, otherSession, otherAcked))).ToArray();
        while (acked.Count < 200)
            await Task.Delay(50);

        var mover = new TenantMover(router.Directory, [
            new MoveShard("east", east, MoveShard.ToConnInfo(_shards.East.DirectConnectionString)),
            new MoveShard("west", west, MoveShard.ToConnInfo(_shards.West.DirectConnectionString)),
        ], new TenantMoverOptions { DeleteBatchSize = 100 });
        var report = await mover.MoveAsync(tenant.Id, "west", new Progress<MoveProgress>(p => output.WriteLine($"{p.Step}: {p.Message}")));
        var atSwitch = acked.Count;
        while (acked.Count < atSwitch + 100)
            await Task.Delay(50);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        output.WriteLine($"acknowledged {acked.Count} ({atSwitch} by the end of the move), {retries} retries, fence {report.FenceMilliseconds:0} ms");
        Assert.All(report.Tables, t => Assert.True(t.Matches, t.Table));
        Assert.InRange(report.FenceMilliseconds!.Value, 0, 5_000);
        var ids = acked.ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT count(*) FROM message_history WHERE tenant_id = $1 AND id = ANY ($2)", tenant.Id, ids));
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT count(*) FROM message_history WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(0L, await CountAsync(east, "SELECT count(*) FROM message_history WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(0L, await CountAsync(east, "SELECT count(*) FROM user_sessions WHERE tenant_id = $1", tenant.Id));
        // The other tenant was never fenced and stayed where it was, every write of it acknowledged and present.
        Assert.Equal((long)otherAcked.Count, await CountAsync(east, "SELECT count(*) FROM message_history WHERE tenant_id = $1", other.Id));
        Assert.Equal("west", await router.Directory.FindAsync(tenant.Id));
        // The target's session counters agree with its messages (appends on both sides of the switch numbered alike).
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT sum(message_count) FROM user_sessions WHERE tenant_id = $1", tenant.Id));
    }

    private static async Task<Guid> NewSessionAsync(NpgsqlDataSource db, long tenantId)
    {
        var (bot, user, session) = (Uuid7.New(), Uuid7.New(), Uuid7.New());
        await CountAsync(db, "INSERT INTO bots (tenant_id, id, llm_provider, name, config) VALUES ($1, $2, 1, 'helper', '{}') RETURNING 0", tenantId, bot);
        await CountAsync(db, "INSERT INTO users (tenant_id, id, external_id, display_name) VALUES ($1, $2, $3, 'Ada') RETURNING 0", tenantId, user, $"ext-{user:N}");
        await CountAsync(db, """
            INSERT INTO user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, message_count, channel, title)
            VALUES ($1, now(), now(), $2, $3, $4, 0, 0, 'load') RETURNING 0
            """, tenantId, session, user, bot);
        return session;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}
