using BotStore.Sharding.Moves;
using BotStore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BotStore.Tests.Moves;

/// <summary>Tenant moves between two databases: the rows, the verification, the clean-up, and bad input.</summary>
public sealed class TenantMoveTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_move_copies_every_row_switches_the_directory_fences_the_source_and_cleans_up()
    {
        await using var shards = await MoveShards.CreateAsync();
        var moved = await shards.CreateTenantAsync(messages: 120);
        var stays = await shards.CreateTenantAsync(messages: 10);
        var before = await shards.RowsAsync("a", moved.TenantId);
        var staysBefore = await shards.RowsAsync("a", stays.TenantId);
        var lines = new List<MoveProgress>();

        var report = await shards.Mover().MoveAsync(moved.TenantId, "b", new Lines(lines));
        foreach (var line in lines)
            output.WriteLine($"{line.Step}: {line.Message}");

        Assert.Equal(MoveStep.Done, report.Outcome);
        Assert.Equal(12, report.Tables.Count);
        Assert.All(report.Tables, t => Assert.True(t.Matches, t.Table));
        Assert.Equal(120, report.Tables.Single(t => t.Table == "message_history").TargetRows);
        Assert.Equal(before, report.RowsMoved);
        Assert.Equal(before, await shards.RowsAsync("b", moved.TenantId));
        Assert.Equal(0, await shards.RowsAsync("a", moved.TenantId));
        Assert.Equal(staysBefore, await shards.RowsAsync("a", stays.TenantId));
        Assert.Equal(10, await shards.A.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", stays.TenantId));
        Assert.Equal(0, await shards.B.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", stays.TenantId));
        Assert.Equal("b", await shards.Directory.FindAsync(moved.TenantId));
        Assert.Equal("b", await shards.A.ScalarAsync<string>("SELECT moved_to FROM tenant_fence WHERE tenant_id = $1", moved.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(moved.TenantId));
        Assert.NotNull(report.FenceMilliseconds);
        Assert.Equal("moved", await shards.A.ScalarAsync<string>("SELECT outcome FROM tenant_moves WHERE tenant_id = $1", moved.TenantId));
        Assert.Contains(lines, l => l.Step == MoveStep.Switched && l.Message.Contains("fenced for", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tenant_moved_back_is_served_by_its_first_shard_again()
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 20);
        var rows = await shards.RowsAsync("a", c.TenantId);

        await shards.Mover().MoveAsync(c.TenantId, "b");
        var back = await shards.Mover().MoveAsync(c.TenantId, "a");

        Assert.All(back.Tables, t => Assert.True(t.Matches, t.Table));
        Assert.Equal(rows, await shards.RowsAsync("a", c.TenantId));
        Assert.Equal(0, await shards.RowsAsync("b", c.TenantId));
        Assert.Equal(0, await shards.A.ScalarAsync<long>("SELECT count(*) FROM tenant_fence WHERE tenant_id = $1", c.TenantId));
        Assert.Equal("a", await shards.B.ScalarAsync<string>("SELECT moved_to FROM tenant_fence WHERE tenant_id = $1", c.TenantId));
        Assert.Equal("a", await shards.Directory.FindAsync(c.TenantId));
    }

    [Fact]
    public async Task Bad_moves_are_refused_with_one_line_and_change_nothing()
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 3);
        var mover = shards.Mover();

        var same = await Assert.ThrowsAsync<BotStoreValidationException>(() => mover.MoveAsync(c.TenantId, "a"));
        Assert.Equal($"tenant {c.TenantId} is already on shard 'a'", same.Message);
        var unknownShard = await Assert.ThrowsAsync<BotStoreValidationException>(() => mover.MoveAsync(c.TenantId, "c"));
        Assert.Equal("unknown shard 'c' (shards: a, b)", unknownShard.Message);
        var unknownTenant = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => mover.MoveAsync(999_999_999, "b"));
        Assert.Equal("tenant 999999999 is not in the tenant directory", unknownTenant.Message);

        // A second move while one runs: the first holds the run lock for as long as it works.
        var inFence = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = shards.Mover(new TenantMoverOptions
        {
            AfterStep = async (step, _) =>
            {
                if (step != MoveStep.Copied)
                    return;
                inFence.SetResult();
                await release.Task;
            },
        }).MoveAsync(c.TenantId, "b");
        await inFence.Task;
        var second = await Assert.ThrowsAsync<BotStoreConflictException>(() => mover.MoveAsync(c.TenantId, "b"));
        Assert.Equal($"another move of tenant {c.TenantId} is running", second.Message);
        release.SetResult();
        await first;

        Assert.Equal(1, await shards.A.ScalarAsync<long>("SELECT count(*) FROM tenant_moves WHERE tenant_id = $1", c.TenantId));
        Assert.Equal("b", await shards.Directory.FindAsync(c.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(c.TenantId));
    }

    private sealed class Lines(List<MoveProgress> lines) : IProgress<MoveProgress>
    {
        public void Report(MoveProgress value)
        {
            lock (lines)
                lines.Add(value);
        }
    }
}
