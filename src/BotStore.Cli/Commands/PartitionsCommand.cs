using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Maintenance;
using BotStore.Partitions;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore partitions status|ensure|retain|set</c>: the monthly partition lifecycle.</summary>
internal static class PartitionsCommand
{
    private static readonly Option<string?> Table = new("--table") { Description = "only this partitioned table (default: every table in partitioned_tables)" };
    private static readonly Option<int?> Premake = new("--premake") { Description = "months to keep ready beyond the current one (overrides partitioned_tables)" };
    private static readonly Option<int?> Retention = new("--retention") { Description = "whole months to keep before the current one; 0 = keep everything (overrides partitioned_tables)" };

    public static Command Create()
    {
        var command = new Command("partitions", "Manage monthly partitions: runway ahead, rows stranded in default partitions, retention.")
        {
            Status(), Ensure(), Retain(), Set(),
        };
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Show each partitioned table's partitions, ranges, rows, size, default-partition rows and months of runway.")
        {
            Table, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var status = await new PartitionManager(target.DataSource).StatusAsync(parseResult.GetValue(Table), ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(status);
                return ExitCodes.Ok;
            }
            var summary = Output.Table("table", ">partitions", "oldest", "covered until", ">runway (months)", ">premake", ">retention", ">default rows", ">size");
            foreach (var s in status)
            {
                summary.Row(s.Table, s.MonthlyPartitions, s.OldestFrom, s.CoveredUntil, s.RunwayMonths, s.Policy.PremakeMonths,
                    s.Policy.RetentionMonths?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "off", s.DefaultRows, Output.Bytes(s.TotalBytes));
            }
            Output.Print(summary);
            var detail = Output.Table("table", "partition", "from", "to", ">rows (est.)", ">size");
            foreach (var p in status.SelectMany(s => s.Partitions))
                detail.Row(p.Parent, p.Name, p.IsDefault ? "DEFAULT" : p.From, p.To, p.EstimatedRows, Output.Bytes(p.TotalBytes));
            Output.Print(detail);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Ensure()
    {
        var command = new Command("ensure",
            "Create the current month's partition and the premake window's, and a partition for every month with rows in a default partition (moving them out).")
        {
            Table, Premake, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var manager = await ManagerAsync(parseResult, target, new PartitionTableOptions { PremakeMonths = parseResult.GetValue(Premake) }, false, ct);
            var result = await manager.EnsureAsync(parseResult.GetValue(Table), wait: true, ct: ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(result);
                return result.Failures.Count > 0 ? ExitCodes.Failure : ExitCodes.Ok;
            }
            if (result.Created.Count == 0)
                Output.Line("Nothing to create: every month with rows and the premake window has its partition.");
            else
            {
                var table = Output.Table("table", "partition", "month", ">rows moved from default");
                foreach (var c in result.Created)
                    table.Row(c.Table, c.Partition, c.Month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), c.RowsMoved);
                Output.Print(table);
            }
            foreach (var f in result.Failures)
                Console.Error.WriteLine($"botstore: could not create {f.Target}: {f.Error}");
            Output.Line("Default partitions: " + string.Join(", ", result.DefaultRows.Select(d => $"{d.Key} {d.Value} rows")));
            return result.Failures.Count > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Retain()
    {
        var keepDetached = new Option<bool>("--keep-detached") { Description = "detach old partitions and keep them as plain tables (<name>_archive) instead of dropping them" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the plan, change nothing" };
        var lockTimeout = new Option<int>("--lock-timeout-ms") { Description = "longest wait for the parent's lock per attempt", DefaultValueFactory = _ => 1000 };
        var command = new Command("retain", "Detach and drop (or keep) partitions that end on or before their table's retention horizon.")
        {
            Table, Retention, keepDetached, dryRun, lockTimeout, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var manager = await ManagerAsync(parseResult, target, new PartitionTableOptions { RetentionMonths = parseResult.GetValue(Retention) },
                parseResult.GetValue(keepDetached), ct, TimeSpan.FromMilliseconds(Math.Max(1, parseResult.GetValue(lockTimeout))));
            var result = await manager.RetainAsync(parseResult.GetValue(Table), parseResult.GetValue(dryRun), wait: true, ct: ct);
            var failed = result.Partitions.Any(p => p.Outcome == MaintenanceOutcome.Failed);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(result);
                return failed ? ExitCodes.Failure : ExitCodes.Ok;
            }
            if (result.Partitions.Count == 0)
            {
                Output.Line("Nothing past its retention horizon.");
                return ExitCodes.Ok;
            }
            var table = Output.Table("table", "partition", "from", "to", "horizon", ">rows (est.)", ">size", "action", result.DryRun ? "plan" : "outcome");
            foreach (var p in result.Partitions)
            {
                table.Row(p.Table, p.Partition, p.From, p.To, p.Horizon.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), p.EstimatedRows,
                    Output.Bytes(p.TotalBytes), p.KeptAs is null ? p.Action : $"detach, kept as {p.KeptAs}",
                    result.DryRun ? "would run" : p.Error is null ? p.Outcome.ToString().ToLowerInvariant() : $"failed: {p.Error}");
            }
            Output.Print(table);
            if (result.DryRun)
                Output.Line("Dry run: nothing was changed.");
            return failed ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Set()
    {
        var table = new Option<string>("--table") { Description = "the partitioned table", Required = true };
        var command = new Command("set", "Store a table's premake window and retention in partitioned_tables.")
        {
            table, Premake, Retention, CommonOptions.Json,
        };
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var policy = await new PartitionManager(target.DataSource).SetPolicyAsync(parseResult.GetValue(table)!, parseResult.GetValue(Premake),
                parseResult.GetValue(Retention), ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(policy);
            else
                Output.Line($"{policy.Table}: premake {policy.PremakeMonths} months, retention {(policy.RetentionMonths is { } r ? $"{r} months" : "off")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A manager whose overrides apply to <c>--table</c>, or to every table; validated before anything runs.</summary>
    private static async Task<PartitionManager> ManagerAsync(ParseResult parseResult, DatabaseTarget target, PartitionTableOptions overrides,
        bool keepDetached, CancellationToken ct, TimeSpan? lockTimeout = null)
    {
        var only = parseResult.GetValue(Table);
        var tables = new Dictionary<string, PartitionTableOptions>();
        if (overrides.PremakeMonths is not null || overrides.RetentionMonths is not null)
        {
            foreach (var policy in await new PartitionManager(target.DataSource).PoliciesAsync(only, ct))
                tables[policy.Table] = overrides;
        }
        var options = new PartitionOptions { Tables = tables, KeepDetached = keepDetached };
        if (lockTimeout is { } timeout)
            options = options with { LockTimeout = timeout };
        var manager = new PartitionManager(target.DataSource, options);
        await manager.ValidateAsync(ct);
        return manager;
    }
}
