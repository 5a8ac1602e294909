using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Tasks;

public sealed class TaskStateTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private static readonly AutoTaskStatus[] All = Enum.GetValues<AutoTaskStatus>();

    private static readonly HashSet<(AutoTaskStatus, AutoTaskStatus)> Legal =
    [
        (AutoTaskStatus.Pending, AutoTaskStatus.Ready), (AutoTaskStatus.Pending, AutoTaskStatus.Cancelled),
        (AutoTaskStatus.Ready, AutoTaskStatus.Running), (AutoTaskStatus.Ready, AutoTaskStatus.Cancelled),
        (AutoTaskStatus.Running, AutoTaskStatus.Paused), (AutoTaskStatus.Running, AutoTaskStatus.WaitingApproval),
        (AutoTaskStatus.Running, AutoTaskStatus.Completed), (AutoTaskStatus.Running, AutoTaskStatus.Failed),
        (AutoTaskStatus.Running, AutoTaskStatus.Cancelled),
        (AutoTaskStatus.Paused, AutoTaskStatus.Running), (AutoTaskStatus.Paused, AutoTaskStatus.Cancelled),
        (AutoTaskStatus.WaitingApproval, AutoTaskStatus.Running), (AutoTaskStatus.WaitingApproval, AutoTaskStatus.Failed),
        (AutoTaskStatus.WaitingApproval, AutoTaskStatus.Cancelled),
        (AutoTaskStatus.Failed, AutoTaskStatus.Ready),
    ];

    private TaskStore Tasks => new(db.DataSource);

    [Fact]
    public async Task Every_legal_move_succeeds_and_every_illegal_one_is_refused_naming_the_current_state()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        var pairs = 0;
        foreach (var from in All)
        {
            foreach (var to in All)
            {
                var task = await Tasks.CreateAsync(tenant, new NewTask(bot, $"{from}->{to}"));
                await Seed.ForceStatusAsync(db, task.Id, from);
                pairs++;
                if (Legal.Contains((from, to)))
                {
                    var moved = await Tasks.TransitionAsync(tenant, task.Id, to);
                    Assert.Equal(to, moved.Status);
                    Assert.Equal(to, (await Tasks.GetAsync(tenant, task.Id)).Status);
                }
                else
                {
                    var refused = await Assert.ThrowsAsync<BotStoreConflictException>(() => Tasks.TransitionAsync(tenant, task.Id, to));
                    Assert.Contains($"is {EnumCatalog.NameOf(from)} and cannot move to {EnumCatalog.NameOf(to)}", refused.Message, StringComparison.Ordinal);
                    Assert.Equal(from, (await Tasks.GetAsync(tenant, task.Id)).Status);
                }
                Assert.Equal(Legal.Contains((from, to)), TaskStateMachine.CanMove(from, to));
            }
        }
        Assert.Equal(64, pairs);
    }

    [Fact]
    public async Task Completed_and_cancelled_are_final()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        foreach (var final in new[] { AutoTaskStatus.Completed, AutoTaskStatus.Cancelled })
        {
            Assert.True(TaskStateMachine.IsFinal(final));
            var task = await Tasks.CreateAsync(tenant, new NewTask(bot, "final"));
            await Seed.ForceStatusAsync(db, task.Id, final);
            foreach (var to in All)
            {
                var refused = await Assert.ThrowsAsync<BotStoreConflictException>(() => Tasks.TransitionAsync(tenant, task.Id, to));
                Assert.Contains($"({EnumCatalog.NameOf(final)} is final)", refused.Message, StringComparison.Ordinal);
            }
        }
        Assert.Equal([AutoTaskStatus.Completed, AutoTaskStatus.Cancelled], All.Where(TaskStateMachine.IsFinal));
    }

    [Fact]
    public async Task Timestamps_and_progress_follow_the_life_cycle_and_a_retry_clears_finished_at()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        var task = await Tasks.CreateAsync(tenant, new NewTask(bot, "life"));
        Assert.Equal(AutoTaskStatus.Pending, task.Status);
        Assert.Null(task.StartedAt);
        await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Ready);
        var running = await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Running);
        Assert.NotNull(running.StartedAt);
        Assert.Null(running.FinishedAt);
        Assert.Equal(30, (await Tasks.UpdateProgressAsync(tenant, task.Id, 30)).Progress);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Tasks.UpdateProgressAsync(tenant, task.Id, 101));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Tasks.UpdateProgressAsync(tenant, task.Id, -1));

        var failed = await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Failed, error: "disk full");
        Assert.NotNull(failed.FinishedAt);
        Assert.Equal("disk full", failed.Error);
        var finishedProgress = await Assert.ThrowsAsync<BotStoreConflictException>(() => Tasks.UpdateProgressAsync(tenant, task.Id, 50));
        Assert.Contains("is failed", finishedProgress.Message, StringComparison.Ordinal);

        var retried = await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Ready);
        Assert.Null(retried.FinishedAt);
        await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Running);
        var again = await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Paused);
        Assert.Equal(running.StartedAt, again.StartedAt); // the first start is kept
        await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Running);
        var done = await Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Completed);
        Assert.Equal(100, done.Progress);
        Assert.NotNull(done.FinishedAt);
        Assert.True(done.FinishedAt >= done.StartedAt);
    }

    [Fact]
    public async Task Of_two_racing_moves_from_the_same_state_exactly_one_wins()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        for (var i = 0; i < 40; i++)
        {
            var task = await Tasks.CreateAsync(tenant, new NewTask(bot, $"race {i}"));
            await Seed.ForceStatusAsync(db, task.Id, AutoTaskStatus.Running);
            // Alternate between two different targets (completed vs failed, each final for the other) and the same
            // target twice with an explicit expected state (a strict compare-and-set).
            Func<Task<AutoTask>>[] moves = i % 2 == 0
                ? [() => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Completed), () => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Failed)]
                : [() => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Paused, AutoTaskStatus.Running),
                   () => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Paused, AutoTaskStatus.Running)];
            var results = await Task.WhenAll(moves.Select(m => Task.Run(async () =>
            {
                try
                {
                    return (Won: (AutoTask?)await m(), Error: (Exception?)null);
                }
                catch (BotStoreConflictException ex)
                {
                    return (Won: null, Error: ex);
                }
            })));
            var winners = results.Where(r => r.Won is not null).ToList();
            Assert.Single(winners);
            Assert.Equal(winners[0].Won!.Status, (await Tasks.GetAsync(tenant, task.Id)).Status);
            var loser = results.Single(r => r.Error is not null).Error!;
            Assert.Contains($"is {EnumCatalog.NameOf(winners[0].Won!.Status)}", loser.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_move_under_way_is_finished_when_its_caller_gives_up_and_one_not_yet_sent_changes_nothing()
    {
        // Every single-statement write runs this way (Rows.UntilSent); a task move stands for them here.
        var (tenant, bot) = await TenantWithBotAsync();
        var task = await Tasks.CreateAsync(tenant, new NewTask(bot, "moved while its caller gives up"));
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Ready, ct: gone.Token));
        Assert.Equal(AutoTaskStatus.Pending, (await Tasks.GetAsync(tenant, task.Id)).Status);

        // The task row held elsewhere keeps the move waiting inside the server while its caller gives up.
        var moved = await BlockedWrite.CancelWhileWaitingAsync(db, "SELECT 1 FROM auto_tasks WHERE id = $1 FOR UPDATE", task.Id,
            "UPDATE auto_tasks", token => Tasks.TransitionAsync(tenant, task.Id, AutoTaskStatus.Ready, ct: token));
        Assert.Equal(AutoTaskStatus.Ready, moved.Status);
        Assert.Equal(AutoTaskStatus.Ready, (await Tasks.GetAsync(tenant, task.Id)).Status);
    }

    [Fact]
    public async Task Unknown_tasks_and_other_tenants_tasks_are_not_found()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        var (other, _) = await TenantWithBotAsync();
        var task = await Tasks.CreateAsync(tenant, new NewTask(bot, "mine"));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.GetAsync(other, task.Id));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.TransitionAsync(other, task.Id, AutoTaskStatus.Ready));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.UpdateProgressAsync(other, task.Id, 5));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.TransitionAsync(tenant, Uuid7.New(), AutoTaskStatus.Ready));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.CreateAsync(other, new NewTask(bot, "their bot")));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Tasks.ListAsync(other, botId: bot));
        Assert.Equal(AutoTaskStatus.Pending, (await Tasks.GetAsync(tenant, task.Id)).Status);
    }

    [Fact]
    public async Task Active_list_orders_by_status_priority_and_id_descending_and_pages_without_gaps()
    {
        var (tenant, bot) = await TenantWithBotAsync();
        var otherBot = await Seed.BotAsync(db, tenant);
        var created = new List<AutoTask>();
        foreach (var status in All)
        {
            foreach (var priority in new[] { TaskPriority.Low, TaskPriority.Critical, TaskPriority.Normal })
            {
                var task = await Tasks.CreateAsync(tenant, new NewTask(created.Count % 3 == 0 ? otherBot : bot, $"{status} {priority}", Priority: priority));
                await Seed.ForceStatusAsync(db, task.Id, status);
                created.Add(task with { Status = status });
            }
        }
        var expected = created.Where(t => TaskStateMachine.IsActive(t.Status))
            .OrderByDescending(t => t.Status).ThenByDescending(t => t.Priority).ThenByDescending(t => t.Id.ToString(), StringComparer.Ordinal).Select(t => t.Id).ToList();
        Assert.Equal(expected, await AllPagesAsync(tenant, true, null, 4));
        Assert.Equal(expected.Where(id => created.Single(t => t.Id == id).BotId == bot), await AllPagesAsync(tenant, true, bot, 2));
        Assert.Equal(created.Select(t => t.Id).OrderByDescending(id => id.ToString(), StringComparer.Ordinal), await AllPagesAsync(tenant, false, null, 5));
        var tenantOther = await Seed.TenantAsync(db);
        Assert.Empty((await Tasks.ListAsync(tenantOther)).Items);
    }

    private async Task<List<Guid>> AllPagesAsync(long tenant, bool active, Guid? bot, int limit)
    {
        var ids = new List<Guid>();
        string? after = null;
        do
        {
            var page = await Tasks.ListAsync(tenant, active, bot, after, limit);
            Assert.True(page.Items.Count <= limit);
            ids.AddRange(page.Items.Select(t => t.Id));
            after = page.Next;
        }
        while (after is not null);
        return ids;
    }

    private async Task<(long Tenant, Guid Bot)> TenantWithBotAsync()
    {
        var tenant = await Seed.TenantAsync(db);
        return (tenant, await Seed.BotAsync(db, tenant));
    }
}
