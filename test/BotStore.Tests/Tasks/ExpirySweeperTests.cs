using System.Text.Json;
using BotStore.Server;
using BotStore.Server.Operations;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Maintenance;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace BotStore.Tests.Tasks;

public sealed class ExpirySweeperTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task The_serve_worker_expires_overdue_approvals_and_deletes_expired_memories_on_its_own()
    {
        var tenant = await Seed.TenantAsync(db);
        var bot = await Seed.BotAsync(db, tenant);
        var tasks = new TaskStore(db.DataSource);
        var approvals = new ApprovalStore(db.DataSource);
        var memories = new MemoryStore(db.DataSource);
        var task = await tasks.CreateAsync(tenant, new NewTask(bot, "waits"));
        await Seed.ForceStatusAsync(db, task.Id, AutoTaskStatus.Running);
        var approval = await approvals.RequestAsync(tenant, task.Id, "sign", RiskLevel.Low, DateTimeOffset.UtcNow.AddHours(1));
        var (memory, _) = await memories.UpsertAsync(tenant, new MemoryKey(bot, MemoryType.Short, null, "k"), JsonDocument.Parse("1").RootElement,
            DateTimeOffset.UtcNow.AddHours(1));
        await db.ExecuteAsync("UPDATE task_approvals SET expires_at = now() - interval '1 second' WHERE id = $1", approval.Id);
        await db.ExecuteAsync("UPDATE bot_memories SET expires_at = now() - interval '1 second' WHERE id = $1", memory.Id);

        // The operations scheduler with nothing but the sweep on it: it fires the sweep on its own, at its interval.
        var operations = new OperationsOptions
        {
            RunPartitionsAtStart = false, PartitionsSchedule = null, ReindexSchedule = null, AnalyzeSchedule = null, ClusterSchedule = null,
        };
        var sweeper = new ExpirySweeper(approvals, memories, new SweeperOptions { Interval = TimeSpan.FromMilliseconds(200), BatchSize = 10 },
            NullLogger<ExpirySweeper>.Instance);
        await using var host = new OperationsHostedService(operations, new PartitionManager(db.DataSource, operations.ToPartitionOptions()),
            new MaintenanceRunner(db.DataSource, operations.ToMaintenanceOptions()), NullLogger<OperationsHostedService>.Instance, sweeper);
        await host.StartAsync(CancellationToken.None);
        try
        {
            // Wait for the scheduler's own firings (bounded, so a sweep that never runs fails the test rather than hangs).
            for (var i = 0; i < 150 && await db.ScalarAsync<long>("SELECT count(*) FROM bot_memories WHERE id = $1", memory.Id) > 0; i++)
                await Task.Delay(100);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM bot_memories WHERE id = $1", memory.Id));
        Assert.Equal((short)ApprovalStatus.Expired, await db.ScalarAsync<short>("SELECT status FROM task_approvals WHERE id = $1", approval.Id));
        Assert.Equal(AutoTaskStatus.Failed, (await tasks.GetAsync(tenant, task.Id)).Status);
    }
}
