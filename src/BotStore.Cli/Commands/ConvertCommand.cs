using System.CommandLine;
using System.Globalization;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.Conversion;
using Spectre.Console;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore convert plan|apply|verify|finish|rollback</c>: text enum columns to SMALLINT, online, on any PostgreSQL 15 database.</summary>
internal static class ConvertCommand
{
    private static readonly Option<string?> Table = new("--table") { Description = "the table (name or schema.name)" };
    private static readonly Option<string[]> Column = new("--column") { Description = "only this column (repeatable); default every column whose values map onto a domain", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string[]> Map = new("--map") { Description = "table.column=domain or table.column=value:number,... (repeatable)", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string[]> MapUnknown = new("--map-unknown") { Description = "table.column=value:number,... for values outside the column's domain (repeatable)", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<long> BatchSize = CountOption.Create("--batch-size", "rows per backfill transaction", 5_000);
    private static readonly Option<int> PauseMs = new("--pause-ms") { Description = "pause after each backfill batch, in milliseconds (default 10)", DefaultValueFactory = _ => 10 };
    private static readonly Option<int> LockTimeoutMs = new("--lock-timeout-ms") { Description = "longest wait for a lock before a locking step gives up and retries with backoff (default 2000)", DefaultValueFactory = _ => 2000 };
    private static readonly Option<int> LockAttempts = new("--lock-attempts") { Description = "attempts of each locking step (default 20)", DefaultValueFactory = _ => 20 };
    private static readonly Option<int> MaxLagSeconds = new("--max-replication-lag-s") { Description = "the backfill waits while a replica replays further behind (default 10)", DefaultValueFactory = _ => 10 };

    public static Command Create()
    {
        var plan = new Command("plan", "Show what converting would do: columns, values, unmapped values, dependents and how each is rebuilt, saving and estimated time. Changes nothing.")
        {
            Table, Column, Map, MapUnknown, BatchSize, PauseMs, CommonOptions.Json,
        };
        plan.Runs(async (parseResult, ct) =>
        {
            var options = Options(parseResult, needTable: false);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var result = await new EnumConverter(target.DataSource).PlanAsync(options, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(result);
            else
                Print(result);
            return ExitCodes.Ok;
        });

        var apply = new Command("apply", "Convert a table's text enum columns to SMALLINT online (or resume the conversion under way); stops after the swap, before finish.")
        {
            Table, Column, Map, MapUnknown, BatchSize, PauseMs, LockTimeoutMs, LockAttempts, MaxLagSeconds, CommonOptions.Json,
        };
        apply.Runs(async (parseResult, ct) =>
        {
            var options = Options(parseResult, needTable: true);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var converter = new EnumConverter(target.DataSource);
            var json = parseResult.GetValue(CommonOptions.Json);
            ConversionResult result;
            try
            {
                result = !json && AnsiConsole.Profile.Capabilities.Interactive
                    ? await WithProgressBarAsync(progress => converter.ApplyAsync(options, progress, ct))
                    : await converter.ApplyAsync(options, json ? null : new PlainProgress(), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("botstore: the conversion's state is kept; run apply again to resume, or rollback");
                throw;
            }
            if (json)
            {
                Output.Json(result);
                return ExitCodes.Ok;
            }
            Output.Line($"{result.Table}: {string.Join(", ", result.Columns)} {(result.Resumed ? "resumed and " : "")}converted to SMALLINT (step {result.Step}) in {result.Elapsed.TotalSeconds:0.#} s; " +
                $"{result.RowsBackfilled} row(s) backfilled; longest lock wait of other sessions {result.LongestLockWait.TotalMilliseconds:0} ms; {result.LockRetries} lock retry(ies).");
            Output.Line($"Applications must now write numbers to {string.Join(", ", result.Columns)}. The text columns are kept in step until 'botstore convert finish --table {result.Table}' drops them ('rollback' undoes everything until then).");
            return ExitCodes.Ok;
        });

        var verify = new Command("verify", "Compare every row's number with its text, until finish drops the text column.") { Table, CommonOptions.Json };
        verify.Runs(async (parseResult, ct) =>
        {
            var table = RequiredTable(parseResult);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var result = await new EnumConverter(target.DataSource).VerifyAsync(table, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(result);
            else
                Output.Line($"{result.Table} (step {result.Step}): {result.Rows} row(s), {result.Mismatches} mismatch(es){(result.FirstMismatch is null ? "" : $", e.g. {result.FirstMismatch}")}.");
            return result.Mismatches == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });

        var finish = new Command("finish", "Drop the text columns of a swapped conversion (no rollback after this).") { Table, LockTimeoutMs, LockAttempts };
        finish.Runs(async (parseResult, ct) =>
        {
            var table = RequiredTable(parseResult);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            await new EnumConverter(target.DataSource).FinishAsync(table, Options(parseResult, needTable: true), ct);
            Output.Line($"{table}: text columns dropped; the conversion is finished. VACUUM FULL or pg_repack gives their space back (updates reuse it gradually).");
            return ExitCodes.Ok;
        });

        var rollback = new Command("rollback", "Undo a conversion that has not finished, at whatever step it stopped.") { Table, LockTimeoutMs, LockAttempts };
        rollback.Runs(async (parseResult, ct) =>
        {
            var table = RequiredTable(parseResult);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var step = await new EnumConverter(target.DataSource).RollbackAsync(table, Options(parseResult, needTable: true), ct);
            Output.Line($"{table}: conversion rolled back from step '{step}'; the table is as it was.");
            return ExitCodes.Ok;
        });

        return new Command("convert", "Convert text enum columns to SMALLINT online, on any PostgreSQL 15 database.") { plan, apply, verify, finish, rollback };
    }

    private static string RequiredTable(ParseResult parseResult) =>
        parseResult.GetValue(Table) ?? throw new BotStoreValidationException("name the table (--table)");

    private static ConversionOptions Options(ParseResult parseResult, bool needTable)
    {
        var table = parseResult.GetValue(Table);
        if (needTable && table is null)
            throw new BotStoreValidationException("name the table (--table)");
        // Each verb has only some of the options; the others keep the library's defaults (read from a verb without
        // them, an option gives its type's default: a batch size or lock timeout of 0, which the checks refuse).
        var defaults = new ConversionOptions();
        T Or<T>(Option<T> option, T fallback) => parseResult.GetResult(option) is null ? fallback : parseResult.GetValue(option)!;
        var batch = Or(BatchSize, defaults.BatchSize);
        return defaults with
        {
            Table = table,
            Columns = parseResult.GetValue(Column) ?? [],
            Maps = (parseResult.GetValue(Map) ?? []).Select(ColumnMap.Parse).ToArray(),
            MapUnknown = (parseResult.GetValue(MapUnknown) ?? []).Select(ColumnMap.ParseList).ToArray(),
            BatchSize = batch is > 0 and <= int.MaxValue ? (int)batch : throw new BotStoreValidationException($"--batch-size must be from 1 to {int.MaxValue} (got {batch})"),
            Pause = TimeSpan.FromMilliseconds(Or(PauseMs, (int)defaults.Pause.TotalMilliseconds)),
            LockTimeout = TimeSpan.FromMilliseconds(Or(LockTimeoutMs, (int)defaults.LockTimeout.TotalMilliseconds)),
            LockAttempts = Or(LockAttempts, defaults.LockAttempts),
            MaxReplicationLag = TimeSpan.FromSeconds(Or(MaxLagSeconds, (int)defaults.MaxReplicationLag.TotalSeconds)),
        };
    }

    private static void Print(ConversionPlan plan)
    {
        if (plan.Tables.Count == 0)
            Output.Line("No text column maps onto an enum domain.");
        foreach (var t in plan.Tables)
        {
            Output.Line($"{t.Table}: {t.Rows} row(s), key ({string.Join(", ", t.Key)}), {t.Partitions} partition(s){(t.InProgress is null ? "" : $"; a conversion is under way at step '{t.InProgress}'")}");
            Output.Line($"  saving {(t.SavingPerRow is { } s ? $"{F(s)} B/row, {Output.Bytes((long)t.SavingForTable!.Value)} now" : "not measured")} (heap, as 'audit storage' measures it); estimated backfill {t.EstimatedDuration.TotalSeconds:0} s (rough)");
            var columns = Output.Table("column", "type", "domain", "values (rows → number)", "unmapped", "default", ">saving/row");
            foreach (var c in t.Columns)
            {
                columns.Row(c.Column, c.Type, c.Domain ?? "(explicit)",
                    string.Join(", ", c.Values.Take(10).Select(v => $"{v.Value ?? "NULL"} ({v.Rows} → {(v.Number?.ToString(CultureInfo.InvariantCulture) ?? "?")})")) + (c.Values.Count > 10 ? ", …" : ""),
                    string.Join(", ", c.Unmapped), c.Default is null ? "" : $"{c.Default} → {c.NewDefault?.ToString(CultureInfo.InvariantCulture) ?? "?"}",
                    c.SavingPerRow is { } cs ? F(cs) : "-");
            }
            Output.Print(columns);
            if (t.Dependents.Count > 0)
            {
                var deps = Output.Table("dependent", "name", "now", "becomes");
                foreach (var d in t.Dependents)
                    deps.Row(d.Kind, d.Name, d.Definition, d.Problem ?? d.Rewritten ?? "");
                Output.Print(deps);
            }
            Output.Line(t.Problems.Count == 0 ? "  apply can run." : "  apply cannot run:");
            foreach (var p in t.Problems)
                Output.Line($"  - {p}");
            Output.Line("");
        }
        if (plan.EnumLikeWithoutDomain.Count > 0)
            Output.Line($"Enum-like text columns that map onto no domain (convert them with --map table.column=value:number,...): {string.Join(", ", plan.EnumLikeWithoutDomain)}");
    }

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static async Task<ConversionResult> WithProgressBarAsync(Func<IProgress<ConversionProgress>, Task<ConversionResult>> apply)
    {
        ConversionResult result = null!;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("convert", maxValue: 1);
                result = await apply(new Reporter(p =>
                {
                    bar.Description = Markup.Escape(p.Partition is null ? $"{p.Step} {p.Table}" : $"{p.Step} {p.Partition}");
                    if (p.TotalRows > 0)
                    {
                        bar.MaxValue = p.TotalRows;
                        bar.Value = p.Rows;
                    }
                }));
                bar.Value = bar.MaxValue;
            });
        return result;
    }

    /// <summary>Without a terminal: a line per step, and per tenth of the backfill.</summary>
    private sealed class PlainProgress : IProgress<ConversionProgress>
    {
        private string? _step;
        private long _tenth = -1;

        public void Report(ConversionProgress value)
        {
            if (value.Step != _step)
            {
                _step = value.Step;
                Output.Line($"{value.Table}: {value.Step}");
            }
            var tenth = value.TotalRows > 0 ? value.Rows * 10 / value.TotalRows : 0;
            if (value.Step == "backfill" && tenth != _tenth)
            {
                _tenth = tenth;
                Output.Line($"  {value.Rows} of ~{value.TotalRows} row(s){(value.Partition is null ? "" : $" ({value.Partition})")}");
            }
        }
    }

    // Progress<T> would post reports to the thread pool out of order; the display wants them as they happen.
    private sealed class Reporter(Action<ConversionProgress> report) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => report(value);
    }
}
