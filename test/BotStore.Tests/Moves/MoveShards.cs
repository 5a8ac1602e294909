using BotStore.Sharding;
using BotStore.Sharding.Moves;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Moves;

/// <summary>
/// Two migrated databases of the test cluster as shards 'a' and 'b' (logical replication between databases of one
/// cluster works like between clusters: the mover makes its slot itself), the directory on 'a'.
/// </summary>
public sealed class MoveShards : IAsyncDisposable
{
    private MoveShards(TestDatabase a, TestDatabase b)
    {
        A = a;
        B = b;
        Directory = new TenantDirectory(a.DataSource, TimeSpan.Zero);
    }

    public TestDatabase A { get; }
    public TestDatabase B { get; }
    public TenantDirectory Directory { get; }

    public TestDatabase this[string shard] => shard == "a" ? A : B;

    public static async Task<MoveShards> CreateAsync()
    {
        var (a, b) = (new TestDatabase(), new TestDatabase());
        await Task.WhenAll(a.InitializeAsync(), b.InitializeAsync());
        return new MoveShards(a, b);
    }

    public TenantMover Mover(TenantMoverOptions? options = null) => new(Directory,
        [new MoveShard("a", A.DataSource, MoveShard.ToConnInfo(A.ConnectionString)), new MoveShard("b", B.DataSource, MoveShard.ToConnInfo(B.ConnectionString))],
        options ?? new TenantMoverOptions { DeleteBatchSize = 50 });

    /// <summary>A tenant on 'a' with a conversation, <paramref name="messages"/> messages, a task, a memory and a token, placed in the directory.</summary>
    public async Task<SampleConversation> CreateTenantAsync(int messages)
    {
        var c = await SampleRows.CreateConversationAsync(A);
        await A.ExecuteAsync("INSERT INTO tenant_directory (tenant_id, shard) VALUES ($1, 'a')", c.TenantId);
        var start = DateTimeOffset.UtcNow.AddDays(-40);
        for (var i = 0; i < messages; i++)
            await SampleRows.InsertMessageAsync(A, c, start.AddHours(i * 7), i);
        await A.ExecuteAsync("""
            INSERT INTO auto_tasks (tenant_id, id, bot_id, session_id, title, payload) VALUES ($1, $2, $3, $4, 'remind', '{"x": 1.5}')
            """, c.TenantId, Uuid7.New(), c.BotId, c.SessionId);
        await A.ExecuteAsync("INSERT INTO api_tokens (tenant_id, token_hash) VALUES ($1, sha256(random()::text::bytea))", c.TenantId);
        return c;
    }

    /// <summary>Rows of the tenant on a shard, per table.</summary>
    public async Task<long> RowsAsync(string shard, long tenantId)
    {
        long total = 0;
        foreach (var table in BotStore.Data.TenantEraser.Tables)
            total += await this[shard].ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE {(table == "tenants" ? "id" : "tenant_id")} = $1", tenantId);
        return total;
    }

    /// <summary>Publications, slots and subscriptions left on either side (the cluster is shared, so by name).</summary>
    public async Task<long> LeftoversAsync(long tenantId) =>
        await A.ScalarAsync<long>("SELECT count(*) FROM pg_publication WHERE pubname LIKE $1", $"botstore_move_{tenantId}_%")
        + await A.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE $1", $"botstore_move_{tenantId}_%")
        + await B.ScalarAsync<long>("SELECT count(*) FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())");

    public async ValueTask DisposeAsync()
    {
        // A subscription left by a failed test would keep its slot (and the database) busy.
        await using (var subs = B.DataSource.CreateCommand("SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        await using (var reader = await subs.ExecuteReaderAsync())
        {
            var names = new List<string>();
            while (await reader.ReadAsync())
                names.Add(reader.GetString(0));
            await reader.DisposeAsync();
            foreach (var name in names)
            {
                await B.ExecuteAsync($"ALTER SUBSCRIPTION {name} DISABLE");
                await B.ExecuteAsync($"ALTER SUBSCRIPTION {name} SET (slot_name = NONE)");
                await B.ExecuteAsync($"DROP SUBSCRIPTION {name}");
            }
        }
        await using (var slots = A.DataSource.CreateCommand("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active"))
            await slots.ExecuteNonQueryAsync();
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
