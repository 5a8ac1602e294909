using BotStore.Sharding.Moves;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Moves;

/// <summary>A move stopped at every step (as a kill stops it: nothing after the step runs), then resumed or rolled back.</summary>
public sealed class MoveResumeTests
{
    private sealed class Killed() : Exception("killed here");

    public static TheoryData<MoveStep> Steps =>
        [MoveStep.Started, MoveStep.Published, MoveStep.Subscribed, MoveStep.Copied, MoveStep.CaughtUp, MoveStep.Fencing, MoveStep.Fenced, MoveStep.Switched, MoveStep.Cleaned];

    private static TenantMoverOptions KilledAt(MoveStep step) => new()
    {
        DeleteBatchSize = 50,
        AfterStep = (at, _) => at == step ? throw new Killed() : Task.CompletedTask,
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_move_killed_at_a_step_is_served_from_one_shard_and_resumes_without_loss(MoveStep step)
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 60);
        await Assert.ThrowsAsync<Killed>(() => shards.Mover(KilledAt(step)).MoveAsync(c.TenantId, "b"));

        // Exactly one shard serves: the one the directory names does not refuse the tenant, the other refuses it or the
        // directory does not send it there. Between the fence and the switch (Fenced) the source refuses and nobody serves.
        var placed = await shards.Directory.FindAsync(c.TenantId);
        var fencedOnA = await shards.A.ScalarAsync<long>("SELECT count(*) FROM tenant_fence WHERE tenant_id = $1", c.TenantId);
        Assert.Equal(step >= MoveStep.Switched ? "b" : "a", placed);
        Assert.Equal(step >= MoveStep.Fenced ? 1 : 0, fencedOnA);

        // A write the source acknowledged while the move was stopped is not lost.
        Guid? lateWrite = placed == "a" && fencedOnA == 0 ? await SampleRows.InsertMessageAsync(shards.A, c, DateTimeOffset.UtcNow, 1000) : null;
        var rows = await shards.RowsAsync(placed!, c.TenantId);

        var report = await shards.Mover().ResumeAsync(c.TenantId);

        Assert.Equal(MoveStep.Done, report.Outcome);
        Assert.All(report.Tables, t => Assert.True(t.Matches, t.Table));
        Assert.Equal(rows, await shards.RowsAsync("b", c.TenantId));
        Assert.Equal(0, await shards.RowsAsync("a", c.TenantId));
        if (lateWrite is { } id)
            Assert.Equal(1, await shards.B.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1 AND id = $2", c.TenantId, id));
        Assert.Equal("b", await shards.Directory.FindAsync(c.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(c.TenantId));
        Assert.NotNull(report.FenceMilliseconds);
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_move_killed_before_its_switch_rolls_back_to_the_source_with_every_row(MoveStep step)
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 40);
        var rows = await shards.RowsAsync("a", c.TenantId);
        await Assert.ThrowsAsync<Killed>(() => shards.Mover(KilledAt(step)).MoveAsync(c.TenantId, "b"));

        if (step >= MoveStep.Switched)
        {
            var refused = await Assert.ThrowsAsync<BotStoreConflictException>(() => shards.Mover().RollbackAsync(c.TenantId));
            Assert.Contains("--resume", refused.Message, StringComparison.Ordinal);
            await shards.Mover().ResumeAsync(c.TenantId);
            return;
        }
        var report = await shards.Mover().RollbackAsync(c.TenantId);

        Assert.Equal(MoveStep.RolledBack, report.Outcome);
        Assert.Equal("a", await shards.Directory.FindAsync(c.TenantId));
        Assert.Equal(rows, await shards.RowsAsync("a", c.TenantId));
        Assert.Equal(0, await shards.RowsAsync("b", c.TenantId));
        Assert.Equal(0, await shards.A.ScalarAsync<long>("SELECT count(*) FROM tenant_fence WHERE tenant_id = $1", c.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(c.TenantId));
        Assert.Equal("rolled_back", await shards.A.ScalarAsync<string>("SELECT outcome FROM tenant_moves WHERE tenant_id = $1", c.TenantId));
        // And the tenant can be moved again.
        Assert.Equal(MoveStep.Done, (await shards.Mover().MoveAsync(c.TenantId, "b")).Outcome);
    }
}
