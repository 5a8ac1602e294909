using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Tasks;

public sealed class ApprovalTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private TaskStore Tasks => new(db.DataSource);
    private ApprovalStore Approvals => new(db.DataSource);
    private static DateTimeOffset InAnHour => DateTimeOffset.UtcNow.AddHours(1);

    [Fact]
    public async Task Requesting_moves_a_running_task_to_waiting_approval_and_only_a_running_one()
    {
        var (tenant, task) = await RunningTaskAsync();
        var approval = await Approvals.RequestAsync(tenant, task.Id, "send the invoice", RiskLevel.High, InAnHour);
        Assert.Equal(ApprovalStatus.Pending, approval.Status);
        Assert.Equal(RiskLevel.High, approval.RiskLevel);
        Assert.Equal(AutoTaskStatus.WaitingApproval, (await Tasks.GetAsync(tenant, task.Id)).Status);
        Assert.Equal([approval.Id], (await Approvals.ListAsync(tenant, task.Id, pendingOnly: true)).Items.Select(a => a.Id));

        var again = await Assert.ThrowsAsync<BotStoreConflictException>(() => Approvals.RequestAsync(tenant, task.Id, "another", RiskLevel.Low, InAnHour));
        Assert.Contains("is waiting_approval", again.Message, StringComparison.Ordinal);
        Assert.Single((await Approvals.ListAsync(tenant, task.Id, pendingOnly: false)).Items);

        var pending = await Tasks.CreateAsync(tenant, new NewTask(task.BotId, "not started"));
        var refused = await Assert.ThrowsAsync<BotStoreConflictException>(() => Approvals.RequestAsync(tenant, pending.Id, "x", RiskLevel.Low, InAnHour));
        Assert.Contains("is pending", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await Approvals.ListAsync(tenant, pending.Id, pendingOnly: false)).Items);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Approvals.RequestAsync(tenant, pending.Id, "x", RiskLevel.Low, DateTimeOffset.UtcNow.AddSeconds(-1)));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Approvals.RequestAsync(tenant, Uuid7.New(), "x", RiskLevel.Low, InAnHour));
    }

    [Theory]
    [InlineData(ApprovalStatus.Approved, AutoTaskStatus.Running)]
    [InlineData(ApprovalStatus.Skipped, AutoTaskStatus.Running)]
    [InlineData(ApprovalStatus.Rejected, AutoTaskStatus.Failed)]
    public async Task A_decision_moves_the_task_on_and_a_second_one_is_refused(ApprovalStatus decision, AutoTaskStatus taskStatus)
    {
        var (tenant, task) = await RunningTaskAsync();
        var approval = await Approvals.RequestAsync(tenant, task.Id, "deploy", RiskLevel.Medium, InAnHour);
        var decided = await Approvals.DecideAsync(tenant, approval.Id, decision, "looked fine", "ana");
        Assert.Equal(decision, decided.Approval.Status);
        Assert.Equal("ana", decided.Approval.DecidedBy);
        Assert.NotNull(decided.Approval.DecidedAt);
        Assert.Equal(taskStatus, decided.TaskStatus);
        var stored = await Tasks.GetAsync(tenant, task.Id);
        Assert.Equal(taskStatus, stored.Status);
        if (taskStatus == AutoTaskStatus.Failed)
            Assert.Equal("approval of step deploy rejected: looked fine", stored.Error);
        Assert.Empty((await Approvals.ListAsync(tenant, task.Id, pendingOnly: true)).Items);

        var second = await Assert.ThrowsAsync<BotStoreConflictException>(() => Approvals.DecideAsync(tenant, approval.Id, ApprovalStatus.Approved));
        Assert.Contains($"already decided: {EnumCatalog.NameOf(decision)}", second.Message, StringComparison.Ordinal);
        Assert.Equal(taskStatus, (await Tasks.GetAsync(tenant, task.Id)).Status);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Approvals.DecideAsync(tenant, approval.Id, ApprovalStatus.Expired));
    }

    [Fact]
    public async Task Of_concurrent_decisions_exactly_one_counts()
    {
        var decisions = new[] { ApprovalStatus.Approved, ApprovalStatus.Rejected, ApprovalStatus.Skipped };
        for (var i = 0; i < 30; i++)
        {
            var (tenant, task) = await RunningTaskAsync();
            var approval = await Approvals.RequestAsync(tenant, task.Id, $"step {i}", RiskLevel.Low, InAnHour);
            var results = await Task.WhenAll(decisions.Select(d => Task.Run(async () =>
            {
                try
                {
                    return await Approvals.DecideAsync(tenant, approval.Id, d, $"by {d}");
                }
                catch (BotStoreConflictException)
                {
                    return null;
                }
            })));
            var winner = Assert.Single(results, r => r is not null)!;
            var stored = await Approvals.GetAsync(tenant, approval.Id);
            Assert.Equal(winner.Approval.Status, stored.Status);
            Assert.Equal($"by {stored.Status}", stored.Reason);
            Assert.Equal(winner.TaskStatus, (await Tasks.GetAsync(tenant, task.Id)).Status);
        }
    }

    [Fact]
    public async Task An_overdue_approval_cannot_be_decided_nor_one_whose_task_stopped_waiting()
    {
        var (tenant, task) = await RunningTaskAsync();
        var approval = await Approvals.RequestAsync(tenant, task.Id, "late", RiskLevel.Low, InAnHour);
        await MakeOverdueAsync(approval.Id);
        Assert.Equal(ApprovalStatus.Expired, (await Approvals.GetAsync(tenant, approval.Id)).Status);
        var late = await Assert.ThrowsAsync<BotStoreConflictException>(() => Approvals.DecideAsync(tenant, approval.Id, ApprovalStatus.Approved));
        Assert.Contains("expired", late.Message, StringComparison.Ordinal);

        var (tenant2, task2) = await RunningTaskAsync();
        var orphan = await Approvals.RequestAsync(tenant2, task2.Id, "moot", RiskLevel.Low, InAnHour);
        await Tasks.TransitionAsync(tenant2, task2.Id, AutoTaskStatus.Cancelled);
        var moot = await Assert.ThrowsAsync<BotStoreConflictException>(() => Approvals.DecideAsync(tenant2, orphan.Id, ApprovalStatus.Approved));
        Assert.Contains("is cancelled", moot.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Pending, (await Approvals.GetAsync(tenant2, orphan.Id)).Status);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Approvals.DecideAsync(tenant, orphan.Id, ApprovalStatus.Approved));
    }

    [Fact]
    public async Task The_sweeper_expires_only_overdue_approvals_and_fails_only_tasks_still_waiting_on_them()
    {
        await SweepAsync(); // earlier tests of this class may have left overdue approvals
        var overdue = new List<(long Tenant, Guid Task, Guid Approval)>();
        for (var i = 0; i < 3; i++)
        {
            var (tenant, task) = await RunningTaskAsync();
            var approval = await Approvals.RequestAsync(tenant, task.Id, $"overdue {i}", RiskLevel.Low, InAnHour);
            await MakeOverdueAsync(approval.Id);
            overdue.Add((tenant, task.Id, approval.Id));
        }
        var (cancelledTenant, cancelledTask) = await RunningTaskAsync();
        var cancelledApproval = await Approvals.RequestAsync(cancelledTenant, cancelledTask.Id, "moot", RiskLevel.Low, InAnHour);
        await Tasks.TransitionAsync(cancelledTenant, cancelledTask.Id, AutoTaskStatus.Cancelled);
        await MakeOverdueAsync(cancelledApproval.Id);
        var (liveTenant, liveTask) = await RunningTaskAsync();
        var live = await Approvals.RequestAsync(liveTenant, liveTask.Id, "in time", RiskLevel.Low, InAnHour);

        var result = await Approvals.ExpireOverdueAsync(batchSize: 2);
        Assert.Equal(new SweepResult(4, 3, false), result);
        foreach (var (tenant, task, approval) in overdue)
        {
            Assert.Equal(3, await db.ScalarAsync<short>("SELECT status FROM task_approvals WHERE id = $1", approval));
            var failed = await Tasks.GetAsync(tenant, task);
            Assert.Equal(AutoTaskStatus.Failed, failed.Status);
            Assert.StartsWith("approval of step overdue", failed.Error, StringComparison.Ordinal);
        }
        Assert.Equal(AutoTaskStatus.Cancelled, (await Tasks.GetAsync(cancelledTenant, cancelledTask.Id)).Status);
        Assert.Equal(ApprovalStatus.Pending, (await Approvals.GetAsync(liveTenant, live.Id)).Status);
        Assert.Equal(AutoTaskStatus.WaitingApproval, (await Tasks.GetAsync(liveTenant, liveTask.Id)).Status);
        Assert.Equal(new SweepResult(0, 0, false), await Approvals.ExpireOverdueAsync());
    }

    [Fact]
    public async Task Two_sweepers_at_once_never_process_an_approval_twice_and_a_held_lock_makes_one_skip()
    {
        await SweepAsync();
        var tenant = await Seed.TenantAsync(db);
        var bot = await Seed.BotAsync(db, tenant);
        const int count = 300;
        for (var i = 0; i < count; i++)
        {
            var task = await Tasks.CreateAsync(tenant, new NewTask(bot, $"t{i}"));
            await Seed.ForceStatusAsync(db, task.Id, AutoTaskStatus.Running);
            await Approvals.RequestAsync(tenant, task.Id, $"s{i}", RiskLevel.Low, InAnHour);
        }
        await db.ExecuteAsync("UPDATE task_approvals SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1", tenant);

        var sweeps = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => new ApprovalStore(db.DataSource).ExpireOverdueAsync(batchSize: 10))));
        Assert.Equal(count, sweeps.Sum(s => s.Expired));
        Assert.Equal(count, sweeps.Sum(s => s.TasksFailed));
        Assert.Equal(count, await db.ScalarAsync<long>("SELECT count(*) FROM task_approvals WHERE tenant_id = $1 AND status = 3", tenant));
        Assert.Equal(count, await db.ScalarAsync<long>("SELECT count(*) FROM auto_tasks WHERE tenant_id = $1 AND status = 6", tenant));

        var (lockedTenant, lockedTask) = await RunningTaskAsync();
        var waiting = await Approvals.RequestAsync(lockedTenant, lockedTask.Id, "held", RiskLevel.Low, InAnHour);
        await MakeOverdueAsync(waiting.Id);
        await using (var holder = await db.DataSource.OpenConnectionAsync())
        await using (var tx = await holder.BeginTransactionAsync())
        {
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", holder, tx))
            {
                take.Parameters.Add(new NpgsqlParameter { Value = ApprovalStore.SweepLockKey });
                await take.ExecuteNonQueryAsync();
            }
            Assert.Equal(new SweepResult(0, 0, true), await Approvals.ExpireOverdueAsync());
            Assert.Equal(ApprovalStatus.Expired, (await Approvals.GetAsync(lockedTenant, waiting.Id)).Status); // reads expired, not yet written
            Assert.Equal(0, await db.ScalarAsync<short>("SELECT status FROM task_approvals WHERE id = $1", waiting.Id));
        }
        Assert.Equal(new SweepResult(1, 1, false), await Approvals.ExpireOverdueAsync());
    }

    [Fact]
    public async Task Pending_and_all_lists_page_in_their_orders()
    {
        var (tenant, task) = await RunningTaskAsync();
        // Several approvals of one task at once cannot be made through the store (only a running task asks), so
        // they are inserted: pending ones with various expiry times, a decided one and an overdue one.
        var ids = new List<Guid>();
        foreach (var (status, minutes) in new (short, int)[] { (0, 50), (0, 10), (1, 5), (0, 30), (0, -1), (0, 20) })
        {
            var id = Uuid7.New();
            await db.ExecuteAsync("""
                INSERT INTO task_approvals (tenant_id, id, task_id, status, step, expires_at)
                VALUES ($1, $2, $3, $4, 'step', now() + make_interval(mins => $5))
                """, tenant, id, task.Id, status, minutes);
            ids.Add(id);
        }
        Assert.Equal(new[] { ids[1], ids[5], ids[3], ids[0] }, await PagesAsync(tenant, task.Id, true));
        Assert.Equal(ids.OrderBy(id => id.ToString(), StringComparer.Ordinal), await PagesAsync(tenant, task.Id, false));
        var all = (await Approvals.ListAsync(tenant, task.Id, false)).Items;
        Assert.Equal(ApprovalStatus.Expired, all.Single(a => a.Id == ids[4]).Status);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Approvals.ListAsync(tenant + 1_000_000, task.Id, true));
    }

    private async Task<List<Guid>> PagesAsync(long tenant, Guid task, bool pendingOnly)
    {
        var ids = new List<Guid>();
        string? after = null;
        do
        {
            var page = await Approvals.ListAsync(tenant, task, pendingOnly, after, 1);
            ids.AddRange(page.Items.Select(a => a.Id));
            after = page.Next;
        }
        while (after is not null);
        return ids;
    }

    private async Task SweepAsync() => await Approvals.ExpireOverdueAsync();

    private Task MakeOverdueAsync(Guid approvalId) =>
        db.ExecuteAsync("UPDATE task_approvals SET expires_at = now() - interval '1 second' WHERE id = $1", approvalId);

    private async Task<(long Tenant, AutoTask Task)> RunningTaskAsync()
    {
        var tenant = await Seed.TenantAsync(db);
        var bot = await Seed.BotAsync(db, tenant);
        var task = await Tasks.CreateAsync(tenant, new NewTask(bot, "needs a person", ExecutionMode: ExecutionMode.Supervised));
        await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Ready);
        return (tenant, await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Running));
    }
}
