using System.Collections.Concurrent;
using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Tooling.PgBouncer;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>The stores through a real PgBouncer in transaction mode with two server connections.</summary>
public sealed class PgBouncerTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private const int ServerConnections = 2;

    [Fact]
    public async Task Many_concurrent_tenants_share_two_server_connections_without_leaking_into_each_other()
    {
        await using var bouncer = await TestPgBouncer.StartAsync(db.ConnectionString, ServerConnections);
        await using var dataSource = new ConnectionSettings { ThroughPgBouncer = true }.CreateDataSource(bouncer.ConnectionString, "botstore-pgbouncer-test");
        var c = new Conversation(dataSource);
        var worlds = new List<Conversation.World>();
        for (var i = 0; i < 5; i++)
            worlds.Add(await c.NewWorldAsync());

        // 5 tenants x 6 writers/readers each, interleaved on 2 server connections.
        var leaks = new ConcurrentBag<string>();
        var pids = new ConcurrentDictionary<int, bool>();
        await Task.WhenAll(worlds.SelectMany(w => Enumerable.Range(0, 6).Select(k => Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                await c.SayAsync(w, $"{w.TenantId}:{k}:{i}");
                var page = await c.Messages.HistoryAsync(w.TenantId, w.Session.Id, limit: 20);
                if (page.Items.Any(m => !m.Content.StartsWith($"{w.TenantId}:", StringComparison.Ordinal)))
                    leaks.Add($"tenant {w.TenantId} read another tenant's message");
                // An unscoped transaction on the same server connections must find no tenant and no role left behind.
                await using var cmd = dataSource.CreateCommand("SELECT coalesce(current_setting('botstore.tenant_id', true), ''), current_user::text, pg_backend_pid()");
                await using var reader = await cmd.ExecuteReaderAsync();
                await reader.ReadAsync();
                if (reader.GetString(0) != "" || reader.GetString(1) == "botstore_app")
                    leaks.Add($"an unscoped transaction saw tenant '{reader.GetString(0)}' as {reader.GetString(1)}");
                pids[reader.GetInt32(2)] = true;
            }
        }))));

        Assert.Empty(leaks);
        Assert.InRange(pids.Count, 1, ServerConnections);
        foreach (var w in worlds)
        {
            Assert.Equal(48, (await c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
            var all = await c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false, limit: 200);
            Assert.Equal(Enumerable.Range(0, 48), all.Items.Select(m => m.MessageIndex));
            // The policy alone (no tenant filter) still shows one tenant through PgBouncer.
            await using var batch = TenantScope.Batch(dataSource, w.TenantId).Add("SELECT count(*) FROM message_history");
            await using var reader = await batch.ReadAsync(default);
            await reader.ReadAsync();
            Assert.Equal(48L, reader.GetInt64(0));
        }
    }

    [Fact]
    public async Task Bulk_ingest_and_lists_work_through_pgbouncer()
    {
        await using var bouncer = await TestPgBouncer.StartAsync(db.ConnectionString, ServerConnections);
        await using var dataSource = new ConnectionSettings { ThroughPgBouncer = true }.CreateDataSource(bouncer.ConnectionString, "botstore-pgbouncer-test");
        var c = new Conversation(dataSource);
        var w = await c.NewWorldAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => c.Messages.BulkAppendAsync(w.TenantId,
            Enumerable.Range(0, 250).Select(i => new NewMessage(w.Session.Id, MessageRole.Assistant, $"{k}:{i}")).ToList())));
        Assert.All(results, r => Assert.Equal(250, r.Inserted));
        Assert.Equal(1000, (await c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(200, (await c.Messages.UnreadAsync(w.TenantId, w.User.Id, limit: 200)).Items.Count);
        Assert.Equal(3, (await c.Sessions.ListByUserWithMessagesAsync(w.TenantId, w.User.Id, 3)).Items.Single().LastMessages.Count);
        Assert.Equal((10, 10), ((await c.Analytics.IngestAsync(w.TenantId, Enumerable.Range(0, 10).Select(i => new NewEvent("e", ChannelType.Api)).ToList())).Inserted, 10));
    }

    /// <summary>
    /// PgBouncer logs every login and logout (about 300 bytes per client). It once also wrote all of it to a stderr
    /// pipe that nobody read, and after ~64 kB it blocked in write(2) and served no one: bench pooled's timeouts.
    /// Here clients log in and out until the log is several pipes' worth, and every one of them must be served.
    /// </summary>
    [Fact]
    public async Task PgBouncer_keeps_serving_once_its_log_outgrows_a_pipe()
    {
        const int PipeBytes = 64 * 1024;
        await using var bouncer = await TestPgBouncer.StartAsync(db.ConnectionString, ServerConnections);
        var unpooled = new NpgsqlConnectionStringBuilder(new ConnectionSettings { ThroughPgBouncer = true }.Apply(bouncer.ConnectionString, "botstore-pgbouncer-log"))
        {
            Pooling = false,
        }.ConnectionString;
        var logins = 0;
        while (bouncer.Log.Length < 3 * PipeBytes && logins < 10_000)
        {
            for (var i = 0; i < 100; i++, logins++)
            {
                await using var conn = new NpgsqlConnection(unpooled);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT 1", conn);
                Assert.Equal(1, await cmd.ExecuteScalarAsync());
            }
        }
        Assert.True(bouncer.Log.Length >= 3 * PipeBytes, $"{logins} logins wrote only {bouncer.Log.Length} bytes of log");
    }

    [Fact]
    public void The_rendered_config_carries_the_seeds_pool_settings()
    {
        var ini = PgBouncerConfig.ForDatabases(["postgres://app:pw@shard1.db:5432/gb", "postgres://app:pw@shard2.db:5432/gb"]).RenderIni();
        foreach (var line in new[]
        {
            "gb_shard1 = host=shard1.db port=5432 dbname=gb", "gb_shard2 = host=shard2.db port=5432 dbname=gb",
            "listen_port = 6432", "listen_addr = *", "auth_type = md5", "auth_file = /etc/pgbouncer/userlist.txt",
            "pool_mode = transaction", "max_client_conn = 10000", "listen_backlog = 4096", "default_pool_size = 50", "min_pool_size = 10",
            "reserve_pool_size = 25", "reserve_pool_timeout = 3", "pkt_buf = 32768", "server_connect_timeout = 3", "server_idle_timeout = 600",
            "server_lifetime = 3600", "client_idle_timeout = 0",
        })
        {
            Assert.Contains(line + "\n", ini, StringComparison.Ordinal);
        }
        Assert.Equal("\"app\" \"pw\"\n", PgBouncerConfig.ForDatabases(["postgres://app:pw@shard1.db/gb", "postgres://app:pw@shard2.db/gb"]).RenderUserlist());
        Assert.Contains("eu = host=db.eu port=5433 dbname=botstore", PgBouncerConfig.ForDatabases(["eu=postgres://u@db.eu:5433/botstore"]).RenderIni(), StringComparison.Ordinal);
    }
}
