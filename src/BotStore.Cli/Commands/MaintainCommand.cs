using System.CommandLine;
using System.Globalization;
using BotStore.Cli.Infrastructure;
using BotStore.Maintenance;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore maintain run|history</c>: the seed's scheduled maintenance, by hand.</summary>
internal static class MaintainCommand
{
    public static Command Create() => new("maintain", "Run a maintenance task now, or show what maintenance did.")
    {
        Run(), History(),
    };

    private static Command Run()
    {
        var task = new Argument<string>("task") { Description = "reindex | analyze | cluster | vacuum" };
        task.AcceptOnlyFromAmong([.. Enum.GetValues<MaintenanceTask>().Select(MaintenanceRunner.TaskName)]);
        var table = new Option<string?>("--table") { Description = "only this table (reindex: or index; cluster: a partitioned table or one closed partition)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the plan, run nothing" };
        var wait = new Option<bool>("--wait") { Description = "wait while another instance runs maintenance, instead of giving up" };
        var budget = new Option<int>("--budget-minutes") { Description = "start no new step after this many minutes", DefaultValueFactory = _ => 120 };
        var threshold = new Option<double>("--threshold") { Description = "reindex: estimated bloat fraction that triggers a rebuild", DefaultValueFactory = _ => 0.3 };
        var minMb = new Option<int>("--min-mb") { Description = "reindex: leave indexes smaller than this alone", DefaultValueFactory = _ => 8 };
        var method = new Option<string>("--bloat-method") { Description = "reindex: auto (pgstatindex when installed) | pgstatindex | statistics", DefaultValueFactory = _ => "auto" };
        method.AcceptOnlyFromAmong("auto", "pgstatindex", "statistics");
        var command = new Command("run", "Run one maintenance task now: reindex bloated indexes, analyze, cluster closed partitions, or vacuum (analyze) a table.")
        {
            task, table, dryRun, wait, budget, threshold, minMb, method, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var runner = new MaintenanceRunner(target.DataSource, new MaintenanceOptions
            {
                TimeBudget = TimeSpan.FromMinutes(parseResult.GetValue(budget)),
                ReindexBloatThreshold = parseResult.GetValue(threshold),
                ReindexMinBytes = parseResult.GetValue(minMb) * 1024L * 1024,
                BloatMethod = Enum.Parse<IndexBloatMethod>(parseResult.GetValue(method)!, ignoreCase: true),
            });
            await runner.ValidateAsync(ct);
            var result = await runner.RunAsync(MaintenanceRunner.ParseTask(parseResult.GetValue(task)!), parseResult.GetValue(table),
                parseResult.GetValue(dryRun), parseResult.GetValue(wait), ct);
            if (!result.DryRun && result.RunId is null)
                throw new BotStoreConflictException($"{result.Detail}: try again later, or pass --wait");
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(result);
                return result.Outcome == MaintenanceOutcome.Failed ? ExitCodes.Failure : ExitCodes.Ok;
            }
            var steps = Output.Table("target", "statement", "reason", result.DryRun ? "plan" : "outcome", ">seconds");
            foreach (var s in result.Steps)
            {
                steps.Row(s.Target, s.Statement, s.Reason, result.DryRun ? "would run" : s.Error is null ? Name(s.Outcome) : $"{Name(s.Outcome)}: {s.Error}",
                    s.Seconds.ToString("0.0", CultureInfo.InvariantCulture));
            }
            if (result.Steps.Count > 0)
                Output.Print(steps);
            Output.Line($"{MaintenanceRunner.TaskName(result.Task)}: {result.Detail}" + (result.RunId is { } id ? $" (run {id}, {Name(result.Outcome)})" : ""));
            return result.Outcome == MaintenanceOutcome.Failed ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }

    private static Command History()
    {
        var task = new Option<string?>("--task") { Description = "only this task (reindex, analyze, cluster, vacuum, partitions_ensure, partitions_retain)" };
        var limit = new Option<int>("--limit") { Description = "how many runs", DefaultValueFactory = _ => 20 };
        var runsOnly = new Option<bool>("--runs-only") { Description = "leave out each run's steps" };
        var command = new Command("history", "Show the latest maintenance and partition runs (maintenance_runs), newest first, with their steps.")
        {
            task, limit, runsOnly, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var history = await new MaintenanceRunner(target.DataSource)
                .HistoryAsync(Math.Max(1, parseResult.GetValue(limit)), parseResult.GetValue(task), !parseResult.GetValue(runsOnly), ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(history);
                return ExitCodes.Ok;
            }
            var table = Output.Table(">run", "task", "target", "started", ">seconds", "outcome", "detail", "error", "host");
            foreach (var r in history)
            {
                table.Row(r.RunId is null ? r.Id.ToString(CultureInfo.InvariantCulture) : "", r.RunId is null ? r.Task : "  step", r.Target, r.StartedAt,
                    r.FinishedAt is { } f ? (f - r.StartedAt).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) : "", Name(r.Outcome), r.Detail, r.Error,
                    r.RunId is null ? r.Host : "");
            }
            Output.Print(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Name(MaintenanceOutcome outcome) => outcome.ToString().ToLowerInvariant();
}
