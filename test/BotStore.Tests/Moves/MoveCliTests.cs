using System.Diagnostics;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Moves;

/// <summary><c>botstore tenants move</c> as a process: killed (SIGKILL) at a step then resumed or rolled back, and bad input.</summary>
public sealed class MoveCliTests
{
    private static string[] Shards(MoveShards shards) => ["--shard", $"a={shards.A.ConnectionString}", "--shard", $"b={shards.B.ConnectionString}"];

    [Theory]
    [InlineData("copied", false)]
    [InlineData("fencing", true)]
    public async Task A_move_killed_at_a_step_is_refused_again_then_resumed_or_rolled_back(string step, bool rollback)
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 30);
        var rows = await shards.RowsAsync("a", c.TenantId);
        var id = c.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await RunUntilPausedThenKillAsync(["tenants", "move", id, "--to", "b", .. Shards(shards)], step);

        var again = await Infrastructure.Cli.RunAsync(["tenants", "move", id, "--to", "b", .. Shards(shards)]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("--resume or --rollback", Assert.Single(again.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var finish = await Infrastructure.Cli.RunAsync(["tenants", "move", id, rollback ? "--rollback" : "--resume", .. Shards(shards)]);
        Assert.True(finish.ExitCode == 0, finish.Stderr);
        var (on, off) = rollback ? ("a", "b") : ("b", "a");
        Assert.Contains(rollback ? "Rolled back" : "writes fenced for", finish.Stdout, StringComparison.Ordinal);
        Assert.Equal(on, await shards.Directory.FindAsync(c.TenantId));
        Assert.Equal(rows, await shards.RowsAsync(on, c.TenantId));
        Assert.Equal(0, await shards.RowsAsync(off, c.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(c.TenantId));
    }

    [Fact]
    public async Task Bad_input_is_one_line_a_non_zero_exit_and_changes_nothing()
    {
        await using var shards = await MoveShards.CreateAsync();
        var c = await shards.CreateTenantAsync(messages: 2);
        var id = c.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var cases = new (string[] Args, string Says)[]
        {
            (["tenants", "move", id, "--to", "a"], $"tenant {id} is already on shard 'a'"),
            (["tenants", "move", id, "--to", "north"], "unknown shard 'north' (shards: a, b)"),
            (["tenants", "move", "987654321", "--to", "b"], "tenant 987654321 is not in the tenant directory"),
            (["tenants", "move", "nobody", "--to", "b"], "no tenant has the id or name 'nobody'"),
            (["tenants", "move", id], "give --to SHARD"),
            (["tenants", "move", id, "--resume", "--rollback"], "not both"),
            (["tenants", "move", id, "--resume"], "has no interrupted move to resume"),
            (["tenants", "move", id, "--rollback"], "has no interrupted move to roll back"),
        };
        foreach (var (args, says) in cases)
        {
            var result = await Infrastructure.Cli.RunAsync([.. args, .. Shards(shards)]);
            Assert.True(result.ExitCode != 0, $"{string.Join(' ', args)} exited 0");
            Assert.Contains(says, Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }
        Assert.Equal("a", await shards.Directory.FindAsync(c.TenantId));
        Assert.Equal(0, await shards.A.ScalarAsync<long>("SELECT count(*) FROM tenant_moves"));
        Assert.Equal(0, await shards.RowsAsync("b", c.TenantId));
        Assert.Equal(0, await shards.LeftoversAsync(c.TenantId));
    }

    // Runs the verb with the pause hook, waits for it to say it paused, and kills it with SIGKILL: no clean-up runs.
    private static async Task RunUntilPausedThenKillAsync(string[] args, string step)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "BotStore.Cli.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("BOTSTORE_DATABASE_URL");
        psi.Environment["BOTSTORE_MOVE_PAUSE_AFTER"] = step;
        using var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string? line;
        while ((line = await process.StandardError.ReadLineAsync(timeout.Token)) is not null && !line.Contains("paused after", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(timeout.Token);
    }
}
