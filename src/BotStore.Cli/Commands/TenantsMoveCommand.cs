using System.CommandLine;
using System.Globalization;
using BotStore.Cli.Infrastructure;
using BotStore.Sharding.Moves;

namespace BotStore.Cli.Commands;

/// <summary>
/// <c>botstore tenants move TENANT --to SHARD</c>: moves a tenant to another shard online (logical replication, a
/// short write fence, verification, directory switch, clean-up), printing each step; <c>--resume</c> and
/// <c>--rollback</c> finish or undo a move that was interrupted.
/// </summary>
internal static class TenantsMoveCommand
{
    /// <summary>
    /// Makes the verb stop after a step and wait to be killed (tests kill it there, as an operator's Ctrl-C or a
    /// crash would): the value is a step name as the journal writes it, e.g. <c>copied</c>.
    /// </summary>
    public const string PauseVariable = "BOTSTORE_MOVE_PAUSE_AFTER";

    public static Command Create()
    {
        var tenantArg = new Argument<string>("tenant") { Description = "the tenant's id (or name)" };
        var to = new Option<string>("--to") { Description = "the shard to move the tenant to" };
        var resume = new Option<bool>("--resume") { Description = "finish the tenant's interrupted move" };
        var rollback = new Option<bool>("--rollback") { Description = "undo the tenant's interrupted move (before its directory switch)" };
        var batchSize = new Option<int>("--batch-size") { Description = "rows deleted per transaction from the source afterwards", DefaultValueFactory = _ => 10_000 };
        var move = new Command("move",
            "Move a tenant to another shard while it keeps working: logical replication of its rows, a write fence of a few seconds at most for it alone, " +
            "verification (row counts and checksums per table), directory switch, then the source copy deleted in batches. Kill it at any step and run it " +
            "again with --resume, or --rollback.")
        {
            tenantArg, to, resume, rollback, batchSize, CommonOptions.Json,
        };
        move.Runs(async (parseResult, ct) =>
        {
            var (target, resuming, rollingBack) = (parseResult.GetValue(to), parseResult.GetValue(resume), parseResult.GetValue(rollback));
            if (resuming && rollingBack)
                throw new BotStoreValidationException("give --resume or --rollback, not both");
            if (target is null && !resuming && !rollingBack)
                throw new BotStoreValidationException("give --to SHARD (or --resume or --rollback for an interrupted move)");
            if (target is not null && (resuming || rollingBack))
                throw new BotStoreValidationException("--resume and --rollback continue the recorded move: give them without --to");
            var size = parseResult.GetValue(batchSize);
            if (size < 1)
                throw new BotStoreValidationException($"--batch-size must be positive (got {size})");

            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            foreach (var shard in shards.Targets)
                await TenantsCommand.EnsureMigratedAsync(shard, ct);
            var tenantId = await TenantIdAsync(shards, parseResult.GetValue(tenantArg)!, ct);
            var json = parseResult.GetValue(CommonOptions.Json);
            var mover = new TenantMover(shards.Router.Directory,
                shards.Targets.Select(t => new MoveShard(t.ShardName, t.DataSource, MoveShard.ToConnInfo(t.GivenConnectionString))),
                new TenantMoverOptions { DeleteBatchSize = size, AfterStep = PauseHook() });
            // Progress goes to stdout as lines, or to stderr under --json (stdout then holds the one JSON document).
            var lines = json ? Console.Error : Console.Out;
            var progress = new Lines(p => lines.WriteLine($"[{Stamp()}] {p.Step.Name(),-11} {p.Message}"));
            var report = rollingBack ? await mover.RollbackAsync(tenantId, progress, ct)
                : resuming ? await mover.ResumeAsync(tenantId, progress, ct)
                : await mover.MoveAsync(tenantId, target!, progress, ct);
            if (json)
            {
                Output.Json(new
                {
                    tenant_id = report.TenantId, source = report.Source, target = report.Target,
                    outcome = report.Outcome == MoveStep.Done ? "moved" : "rolled_back",
                    fence_ms = report.FenceMilliseconds, copy_seconds = report.CopySeconds, catch_up_seconds = report.CatchUpSeconds,
                    rows_moved = report.RowsMoved, rows_deleted = report.RowsDeleted,
                    tables = report.Tables.Select(t => new
                    {
                        table = t.Table, source_rows = t.SourceRows, target_rows = t.TargetRows,
                        source_checksum = t.SourceChecksum.ToString(CultureInfo.InvariantCulture),
                        target_checksum = t.TargetChecksum.ToString(CultureInfo.InvariantCulture), matches = t.Matches,
                    }),
                });
            }
            else if (report.Outcome == MoveStep.Done)
            {
                Output.Line($"Moved tenant {report.TenantId} from '{report.Source}' to '{report.Target}': {report.RowsMoved:N0} rows in {report.Tables.Count} tables, " +
                            $"counts and checksums equal on both sides; writes fenced for {report.FenceMilliseconds:0} ms.");
            }
            else
            {
                Output.Line($"Rolled back the move of tenant {report.TenantId}: it stays on '{report.Source}'.");
            }
            return ExitCodes.Ok;
        });
        return move;
    }

    // A numeric argument is the id as it is (an interrupted move may leave the tenant refused on its source, so it
    // is not looked up); a name is found through the directory.
    private static async Task<long> TenantIdAsync(ShardTargets shards, string idOrName, CancellationToken ct)
    {
        if (long.TryParse(idOrName, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return id;
        var (tenant, _) = await shards.FindTenantAsync(idOrName, ct);
        return tenant.Id;
    }

    private static Func<MoveStep, CancellationToken, Task>? PauseHook()
    {
        var pauseAfter = Environment.GetEnvironmentVariable(PauseVariable);
        if (string.IsNullOrEmpty(pauseAfter))
            return null;
        return async (step, ct) =>
        {
            if (!string.Equals(step.Name(), pauseAfter, StringComparison.Ordinal))
                return;
            await Console.Error.WriteLineAsync($"botstore: paused after {pauseAfter} ({PauseVariable})");
            await Task.Delay(Timeout.Infinite, ct);
        };
    }

    private static string Stamp() => DateTime.UtcNow.ToString("HH:mm:ss.f", CultureInfo.InvariantCulture);

    private sealed class Lines(Action<MoveProgress> write) : IProgress<MoveProgress>
    {
        public void Report(MoveProgress value) => write(value);
    }
}
