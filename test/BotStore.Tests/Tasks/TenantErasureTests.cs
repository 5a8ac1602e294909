using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Tasks;

public sealed class TenantErasureTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Erasure_removes_exactly_one_tenants_rows_and_reports_progress_per_table()
    {
        var victim = await PopulateAsync("victim");
        var bystander = await PopulateAsync("bystander");
        var before = await CountsAsync(bystander);
        var victimRows = (await new TenantEraser(db.DataSource).RemainingAsync(victim)).ToDictionary(r => r.Table, r => r.Rows);
        Assert.All(TenantEraser.Tables, t => Assert.True(victimRows[t] > 0, $"the victim has no rows in {t}"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(DISTINCT tableoid) FROM message_history WHERE tenant_id = $1", victim) >= 2);
        Assert.True(await db.ScalarAsync<long>("SELECT count(DISTINCT tableoid) FROM analytics_events WHERE tenant_id = $1", victim) >= 2);

        var reports = new List<ErasureProgress>();
        var deleted = await new TenantEraser(db.DataSource).EraseAsync(victim, batchSize: 7, new Recorder(reports));

        Assert.Equal(victimRows.Values.Sum(), deleted);
        var finals = reports.Where(r => r.Done).ToList();
        Assert.Equal(TenantEraser.Tables, finals.Select(r => r.Table));
        Assert.All(finals, f => Assert.Equal(victimRows[f.Table], f.RowsDeleted));
        Assert.Contains(reports, r => r is { Table: "message_history", Done: false, Partition: not null });
        Assert.True(reports.Count(r => r.Table == "auto_tasks") > 2, "auto_tasks was not deleted in batches");

        Assert.All(await new TenantEraser(db.DataSource).RemainingAsync(victim), r => Assert.Equal(0, r.Rows));
        Assert.Equal(before, await CountsAsync(bystander));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => new TenantEraser(db.DataSource).EraseAsync(victim));
    }

    [Fact]
    public async Task An_interrupted_erasure_keeps_its_committed_batches_and_a_second_run_finishes_it()
    {
        var victim = await PopulateAsync("interrupted");
        var bystander = await PopulateAsync("bystander2");
        var before = await CountsAsync(bystander);
        var total = (await new TenantEraser(db.DataSource).RemainingAsync(victim)).Sum(r => r.Rows);

        using var cts = new CancellationTokenSource();
        var reports = new List<ErasureProgress>();
        var stopInMessages = new Recorder(reports, r =>
        {
            if (r is { Table: "message_history", RowsDeleted: > 0 })
                cts.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new TenantEraser(db.DataSource).EraseAsync(victim, 5, stopInMessages, cts.Token));

        var remaining = (await new TenantEraser(db.DataSource).RemainingAsync(victim)).ToDictionary(r => r.Table, r => r.Rows);
        Assert.Equal(0, remaining["auto_tasks"]);
        Assert.True(remaining["message_history"] > 0);
        Assert.Equal(1, remaining["tenants"]);
        Assert.False(await db.ScalarAsync<bool>("SELECT is_active FROM tenants WHERE id = $1", victim));
        var firstRun = reports.Where(r => r.Done).Sum(r => r.RowsDeleted) + reports.Last(r => r.Table == "message_history").RowsDeleted;
        Assert.Equal(total, firstRun + remaining.Values.Sum());

        var secondRun = await new TenantEraser(db.DataSource).EraseAsync(victim, 5);
        Assert.Equal(remaining.Values.Sum(), secondRun);
        Assert.All(await new TenantEraser(db.DataSource).RemainingAsync(victim), r => Assert.Equal(0, r.Rows));
        Assert.Equal(before, await CountsAsync(bystander));
    }

    [Fact]
    public async Task The_cli_refuses_without_yes_off_a_terminal_and_erases_with_it()
    {
        var victim = await PopulateAsync("cli-victim");
        var name = await db.ScalarAsync<string>("SELECT name FROM tenants WHERE id = $1", victim);
        var refused = await Infrastructure.Cli.RunAsync(["--database", db.ConnectionString, "tenants", "erase", name]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("pass --yes", refused.Stderr, StringComparison.Ordinal);
        Assert.True(await db.ScalarAsync<bool>("SELECT is_active FROM tenants WHERE id = $1", victim));

        var badSize = await Infrastructure.Cli.RunAsync(["--database", db.ConnectionString, "tenants", "erase", name, "--yes", "--batch-size", "0"]);
        Assert.Equal(1, badSize.ExitCode);
        Assert.Contains("--batch-size must be positive", badSize.Stderr, StringComparison.Ordinal);

        var erased = await Infrastructure.Cli.RunAsync(["--database", db.ConnectionString, "tenants", "erase", victim.ToString(System.Globalization.CultureInfo.InvariantCulture), "--yes", "--batch-size", "3", "--json"]);
        Assert.True(erased.ExitCode == 0, erased.Stderr);
        Assert.Contains("\"rows_deleted\"", erased.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE id = $1", victim));
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", victim));
    }

    /// <summary>A tenant with rows in every table it can own, messages and events in two monthly partitions.</summary>
    private async Task<long> PopulateAsync(string name)
    {
        var tenant = await db.ScalarAsync<long>("INSERT INTO tenants (name) VALUES ($1) RETURNING id", $"{name}-{Guid.NewGuid():N}"[..30]);
        await db.ExecuteAsync("INSERT INTO api_tokens (tenant_id, token_hash) VALUES ($1, sha256($2::bytea))", tenant, Guid.NewGuid().ToByteArray());
        var tasks = new TaskStore(db.DataSource);
        var approvals = new ApprovalStore(db.DataSource);
        var memories = new MemoryStore(db.DataSource);
        var documents = new DocumentStore(db.DataSource);
        var now = DateTimeOffset.UtcNow;
        var lastMonth = new DateTimeOffset(now.Year, now.Month, 1, 12, 0, 0, TimeSpan.Zero).AddMonths(-1);
        for (var b = 0; b < 2; b++)
        {
            var bot = await Seed.BotAsync(db, tenant);
            await db.ExecuteAsync("INSERT INTO bot_channels (tenant_id, id, bot_id, channel) VALUES ($1, $2, $3, 0)", tenant, Uuid7.New(), bot);
            await documents.UpsertAsync(tenant, bot, $"doc-{b}.md", new DocumentState(SyncStatus.Pending));
            for (var u = 0; u < 3; u++)
            {
                var user = await Seed.UserAsync(db, tenant);
                await memories.UpsertAsync(tenant, new MemoryKey(bot, MemoryType.Episodic, user, "seen"), System.Text.Json.JsonDocument.Parse("1").RootElement);
                var session = await Seed.SessionAsync(db, tenant, user, bot);
                await InsertMessagesAsync(tenant, session, user, [now.AddMinutes(-1), now.AddSeconds(-1), lastMonth, lastMonth.AddMinutes(1)]);
                await db.ExecuteAsync("""
                    INSERT INTO analytics_events (tenant_id, created_at, id, channel, name)
                    SELECT $1, uuid7_time(id), id, 0, 'event' FROM unnest($2::uuid[]) id
                    """, tenant, new[] { Uuid7.At(now.AddMinutes(-2)), Uuid7.At(lastMonth.AddHours(2)) });
                var task = await tasks.CreateAsync(tenant, new NewTask(bot, "task", SessionId: session));
                await Seed.ForceStatusAsync(db, task.Id, AutoTaskStatus.Running);
                await approvals.RequestAsync(tenant, task.Id, "step", RiskLevel.Low, now.AddHours(1));
                await tasks.CreateAsync(tenant, new NewTask(bot, "another"));
            }
        }
        return tenant;
    }

    private Task InsertMessagesAsync(long tenant, Guid session, Guid user, DateTimeOffset[] times) => db.ExecuteAsync("""
        INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, content)
        SELECT $1, uuid7_time(id), id, $2, $3, i - 1, 1, 'hello' FROM unnest($4::uuid[]) WITH ORDINALITY AS m (id, i)
        """, tenant, session, user, times.Select(Uuid7.At).ToArray());

    private async Task<Dictionary<string, long>> CountsAsync(long tenant)
    {
        var counts = new Dictionary<string, long>();
        foreach (var table in TenantEraser.Tables)
        {
            counts[table] = await db.ScalarAsync<long>(table == "tenants"
                ? "SELECT count(*) FROM tenants WHERE id = $1 AND is_active"
                : $"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant);
        }
        return counts;
    }

    private sealed class Recorder(List<ErasureProgress> reports, Action<ErasureProgress>? then = null) : IProgress<ErasureProgress>
    {
        public void Report(ErasureProgress value)
        {
            reports.Add(value);
            then?.Invoke(value);
        }
    }
}
