using System.Text.Json;
using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Tests.Tasks;

/// <summary>
/// A realistic volume for the planner: 200k tasks over 100 tenants of very different sizes (tenant k holds a share
/// proportional to 1/k), most of them finished, and approvals for about half the tasks that ran, then ANALYZE.
/// </summary>
public sealed class TaskVolume : IAsyncLifetime
{
    public const int TaskCount = 200_000;
    private const int Tenants = 100;

    public TestDatabase Db { get; } = new();
    public long BigTenant { get; private set; }
    public long SmallTenant { get; private set; }
    public Guid BigTenantBot { get; private set; }
    public Guid WaitingTask { get; private set; }

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        await Db.ExecuteAsync("INSERT INTO tenants (name) SELECT 'volume-' || g FROM generate_series(1, $1) g", Tenants);
        await Db.ExecuteAsync("INSERT INTO bots (tenant_id, id, llm_provider, name) SELECT t.id, gen_random_uuid(), 0, 'bot ' || b FROM tenants t, generate_series(1, 3) b");
        var tenants = new List<(long Id, Guid[] Bots)>();
        await using (var cmd = Db.DataSource.CreateCommand("SELECT tenant_id, array_agg(id ORDER BY id) FROM bots GROUP BY tenant_id ORDER BY tenant_id"))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                tenants.Add((reader.GetInt64(0), reader.GetFieldValue<Guid[]>(1)));
        }
        BigTenant = tenants[0].Id;
        BigTenantBot = tenants[0].Bots[0];
        SmallTenant = tenants[^1].Id;

        // Status mix: 70% finished (completed dominates), the rest spread over the active states.
        short[] statuses = [0, 1, 2, 2, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7];
        var harmonic = Enumerable.Range(1, Tenants).Sum(k => 1.0 / k);
        var random = new Random(42);
        var start = DateTimeOffset.UtcNow.AddDays(-90);
        await using (var conn = await Db.DataSource.OpenConnectionAsync())
        await using (var copy = await conn.BeginBinaryImportAsync("COPY auto_tasks (tenant_id, id, bot_id, status, priority, title, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var k = 0; k < Tenants; k++)
            {
                var count = k == Tenants - 1 ? TaskCount - CountSoFar(k) : Share(k);
                for (var i = 0; i < count; i++)
                {
                    var created = start.AddSeconds(random.Next(90 * 24 * 3600));
                    await copy.StartRowAsync();
                    await copy.WriteAsync(tenants[k].Id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(Uuid7.At(created), NpgsqlDbType.Uuid);
                    await copy.WriteAsync(tenants[k].Bots[random.Next(3)], NpgsqlDbType.Uuid);
                    await copy.WriteAsync(statuses[random.Next(statuses.Length)], NpgsqlDbType.Smallint);
                    await copy.WriteAsync((short)random.Next(5), NpgsqlDbType.Smallint);
                    await copy.WriteAsync("task", NpgsqlDbType.Text);
                    await copy.WriteAsync(created, NpgsqlDbType.TimestampTz);
                }
            }
            await copy.CompleteAsync();
        }
        await Db.ExecuteAsync("""
            INSERT INTO task_approvals (tenant_id, id, task_id, status, step, expires_at)
            SELECT tenant_id, gen_random_uuid(), id, CASE WHEN status = 4 THEN 0 ELSE 1 + (hashtext(id::text) & 3) % 3 END, 'step',
                   now() + ((hashtext(id::text) % 1000) / 500.0 - 0.2) * interval '1 day'
            FROM auto_tasks WHERE status IN (2, 4, 5, 6) AND hashtext(id::text) & 1 = 0
            """);
        await Db.ExecuteAsync("ANALYZE");
        WaitingTask = await Db.ScalarAsync<Guid>("SELECT task_id FROM task_approvals WHERE tenant_id = $1 AND status = 0 LIMIT 1", BigTenant);

        int Share(int k) => (int)(TaskCount / harmonic / (k + 1));
        int CountSoFar(int upTo) => Enumerable.Range(0, upTo).Sum(Share);
    }

    public Task DisposeAsync() => Db.DisposeAsync();
}

public sealed class TaskQueryPlanTests(TaskVolume volume) : IClassFixture<TaskVolume>
{
    [Fact]
    public async Task The_volume_is_there()
    {
        Assert.Equal(TaskVolume.TaskCount, await volume.Db.ScalarAsync<long>("SELECT count(*) FROM auto_tasks"));
        Assert.True(await volume.Db.ScalarAsync<long>("SELECT count(*) FROM auto_tasks WHERE tenant_id = $1", volume.BigTenant) > 30_000);
        Assert.True(await volume.Db.ScalarAsync<long>("SELECT count(*) FROM task_approvals WHERE status = 0") > 5_000);
    }

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, true)]
    public async Task Active_tasks_of_a_tenant_are_read_in_order_from_the_tenant_active_index(bool big, bool withCursor, bool byBot)
    {
        var tenant = big ? volume.BigTenant : volume.SmallTenant;
        var plan = await ExplainAsync(tenant, TaskStore.ActiveSql, tenant, new NpgsqlParameter<Guid?> { TypedValue = byBot ? volume.BigTenantBot : null },
            new NpgsqlParameter<short?> { TypedValue = withCursor ? (short)2 : null }, new NpgsqlParameter<short?> { TypedValue = withCursor ? (short)2 : null },
            new NpgsqlParameter<Guid?> { TypedValue = withCursor ? Guid.Parse("88888888-8888-7888-8888-888888888888") : null }, 51);
        Assert.Contains(plan, n => n.Index == "idx_tasks_tenant_active" && n.Type.StartsWith("Index", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, n => n.Type is "Sort" or "Incremental Sort" or "Seq Scan" or "Bitmap Heap Scan");
        Assert.DoesNotContain(plan, n => n.Index == "idx_tasks_status");
    }

    [Fact]
    public async Task All_tasks_of_a_tenant_are_read_newest_first_from_the_primary_key()
    {
        var plan = await ExplainAsync(volume.BigTenant, TaskStore.AllSql, volume.BigTenant, new NpgsqlParameter<Guid?> { TypedValue = null },
            new NpgsqlParameter<Guid?> { TypedValue = null }, 51);
        Assert.Contains(plan, n => n.Index == "auto_tasks_pkey");
        Assert.DoesNotContain(plan, n => n.Type is "Sort" or "Seq Scan");
    }

    [Fact]
    public async Task Pending_approvals_of_a_task_come_from_idx_approvals_pending()
    {
        var plan = await ExplainAsync(volume.BigTenant, ApprovalStore.PendingSql, volume.BigTenant, volume.WaitingTask,
            new NpgsqlParameter<DateTimeOffset?> { TypedValue = null }, new NpgsqlParameter<Guid?> { TypedValue = null }, 51);
        Assert.Contains(plan, n => n.Index == "idx_approvals_pending");
        Assert.DoesNotContain(plan, n => n.Type is "Seq Scan");
    }

    [Fact]
    public async Task All_approvals_of_a_task_come_from_idx_approvals_task()
    {
        var plan = await ExplainAsync(volume.BigTenant, ApprovalStore.AllSql, volume.BigTenant, volume.WaitingTask,
            new NpgsqlParameter<Guid?> { TypedValue = null }, 51);
        Assert.Contains(plan, n => n.Index == "idx_approvals_task");
        Assert.DoesNotContain(plan, n => n.Type is "Seq Scan" or "Sort");
    }

    [Fact]
    public async Task The_sweeper_finds_overdue_approvals_of_all_tenants_through_idx_approvals_expiry()
    {
        await using var cmd = volume.Db.DataSource.CreateCommand("EXPLAIN (FORMAT JSON) " + ApprovalStore.SweepSql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = 1000 });
        var plan = Flatten((string)(await cmd.ExecuteScalarAsync())!);
        Assert.Contains(plan, n => n.Index == "idx_approvals_expiry");
        Assert.DoesNotContain(plan, n => n.Type == "Seq Scan" && n.Relation == "task_approvals");
    }

    /// <summary>EXPLAIN of the store's own SQL, as botstore_app with the tenant set, exactly as the store runs it.</summary>
    private async Task<List<PlanNode>> ExplainAsync(long tenant, string sql, params object?[] args)
    {
        await using var batch = TenantScope.Batch(volume.Db.DataSource, tenant).Add("EXPLAIN (FORMAT JSON) " + sql, args);
        await using var reader = await batch.ReadAsync(CancellationToken.None);
        await reader.ReadAsync();
        return Flatten(reader.GetString(0));
    }

    private static List<PlanNode> Flatten(string json)
    {
        var nodes = new List<PlanNode>();
        using var doc = JsonDocument.Parse(json);
        Walk(doc.RootElement[0].GetProperty("Plan"));
        return nodes;

        void Walk(JsonElement node)
        {
            nodes.Add(new PlanNode(node.GetProperty("Node Type").GetString()!,
                node.TryGetProperty("Index Name", out var index) ? index.GetString() : null,
                node.TryGetProperty("Relation Name", out var relation) ? relation.GetString() : null));
            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray())
                    Walk(child);
            }
        }
    }

    private sealed record PlanNode(string Type, string? Index, string? Relation);
}
