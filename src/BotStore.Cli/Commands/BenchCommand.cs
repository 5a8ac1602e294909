using System.CommandLine;
using System.Globalization;
using BotStore.Tooling;
using BotStore.Bench;
using BotStore.Data;
using BotStore.Cli.Infrastructure;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore bench &lt;all|comparison&gt;</c>: BotStore's claims measured beside the tools a database engineer trusts.</summary>
internal static class BenchCommand
{
    private static readonly Option<long> Messages = CountOption.Create("--messages", "messages in the data set (0: 10M, or 100K with --quick)", 0);
    private static readonly Option<bool> Quick = new("--quick") { Description = "the quick variant (under 5 minutes): small data, 2 runs of 1 s" };
    private static readonly Option<int> Runs = new("--runs") { Description = "runs behind each median (default 5, 2 with --quick)" };
    private static readonly Option<double> Seconds = new("--seconds") { Description = "length of each throughput run (default 10, 1 with --quick)" };
    private static readonly Option<long> IngestRows = CountOption.Create("--ingest-rows", "rows per ingest run (0: a tenth of --messages, at least 200K)", 0);
    private static readonly Option<string> Clients = new("--clients") { Description = "client counts of the throughput comparisons (default 8,64)", DefaultValueFactory = _ => "8,64" };
    private static readonly Option<string> Out = new("--out") { Description = "folder of the report and chart (default bench/results)", DefaultValueFactory = _ => Path.Combine("bench", "results") };
    private static readonly Option<string> Scratch = new("--scratch-db") { Description = "scratch database created on the target server (default botstore_bench)", DefaultValueFactory = _ => "botstore_bench" };
    private static readonly Option<bool> Keep = new("--keep") { Description = "keep the scratch database; the next run with the same sizes reuses its data" };
    private static readonly Option<string?> CrowdOption = new("--crowd") { Description = "workers of bench crowd, connected at once (default 2000, 100 with --quick; e.g. 2000,10000)" };
    private static readonly Option<bool> SplitCores = new("--split-cores")
    {
        Description = "the server (on this machine) on half of the cores, the bench with its pgbench and PgBouncer on the other half, as when clients run on machines of their own; the cores are given back after the run",
    };
    private static readonly Option<string?> Remark = new("--note") { Description = "a remark for the report (e.g. the machine was busy)" };
    private static readonly Option<string?> Skip = new("--skip") { Description = "comparisons to leave out, comma-separated (e.g. convert, whose 10M run takes half an hour on its own)" };

    private static Command WithSuiteOptions(Command command, Option[] options)
    {
        foreach (var option in options)
            command.Options.Add(option);
        return command;
    }

    /// <summary>The suite without the comparisons <c>--skip</c> names; an unknown name is refused before anything runs.</summary>
    private static IReadOnlyList<IComparison> Selected(string? skip)
    {
        var names = (skip ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!BenchSuite.All.Any(c => c.Name == name))
                throw new BotStoreValidationException($"--skip: no comparison is named '{name}' (there are {string.Join(", ", BenchSuite.All.Select(c => c.Name))})");
        }
        var selected = BenchSuite.All.Where(c => !names.Contains(c.Name)).ToArray();
        return selected.Length > 0 ? selected : throw new BotStoreValidationException("--skip leaves no comparison to run");
    }

    public static Command Create()
    {
        var bench = new Command("bench", "Run the benchmark suite (or one comparison) on a scratch database and write bench/results/<date>-<host>.md and a PNG chart of the ratios.");
        // The suite's options belong to the suite's verbs only (not to move or pgbench-scripts, whose help they cluttered).
        Option[] suite = [Messages, Quick, Runs, Seconds, IngestRows, Clients, CrowdOption, SplitCores, Out, Scratch, Keep, Remark];
        var all = new Command("all", "Every comparison, in one run.") { Skip };
        all.Runs((parseResult, ct) => RunAsync(parseResult, Selected(parseResult.GetValue(Skip)), ct));
        bench.Subcommands.Add(WithSuiteOptions(all, suite));
        foreach (var comparison in BenchSuite.All.Concat(BenchSuite.Separate))
        {
            var one = new Command(comparison.Name, comparison.Description);
            one.Runs((parseResult, ct) => RunAsync(parseResult, [comparison], ct));
            bench.Subcommands.Add(WithSuiteOptions(one, suite));
        }
        bench.Subcommands.Add(IngestStepsCommand());
        bench.Subcommands.Add(PgBenchScriptsCommand());
        bench.Subcommands.Add(MoveCommand());
        return bench;
    }

    // The two tools that used to be a second entry point (bench/BotStore.Bench's own Main): verbs of the one harness.
    private static Command IngestStepsCommand()
    {
        var batch = new Option<int>("--batch") { Description = "rows per batch", DefaultValueFactory = _ => MessageStore.DefaultBulkBatchSize };
        var sessions = new Option<int>("--sessions") { Description = "sessions the rows visit in turn (a batch touches min(batch, sessions) of them)", DefaultValueFactory = _ => 100 };
        var command = new Command("ingest-steps",
            "Bulk ingest step by step (temp table, COPY, lock, insert) against a multi-row INSERT and single appends, in the database itself (migrated first): a markdown table on stdout. Rows: --ingest-rows (default 50K).")
        {
            batch,
            sessions,
            IngestRows,
        };
        command.Runs(async (parseResult, ct) =>
        {
            var rows = parseResult.GetValue(IngestRows) is > 0 and var r ? r : 50_000;
            if (rows > int.MaxValue || parseResult.GetValue(batch) < 1 || parseResult.GetValue(sessions) < 1)
                throw new BotStoreValidationException($"--ingest-rows, --batch and --sessions must be positive, --ingest-rows at most {int.MaxValue}");
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            await IngestSteps.RunAsync(target.DataSource, (int)rows, parseResult.GetValue(batch), parseResult.GetValue(sessions), ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command MoveCommand()
    {
        var source = new Argument<string>("source") { Description = "URL of the database the tenant starts on (wal_level = logical)" };
        var target = new Argument<string>("target") { Description = "URL of the database it moves to" };
        var messages = CountOption.Create("--move-messages", "messages of the moved tenant", 1_000_000);
        var command = new Command("move",
            "A tenant move under load: a tenant with --move-messages messages on SOURCE, one client appending to it throughout, moved to TARGET: the copy's rows/s beside the same rows loaded by COPY, the catch-up time and the fence.")
        {
            source, target, messages,
        };
        command.Runs(async (parseResult, ct) =>
        {
            var count = parseResult.GetValue(messages);
            if (count is < 1 or > int.MaxValue)
                throw new BotStoreValidationException($"--move-messages must be between 1 and {int.MaxValue:N0}");
            await MoveBench.RunAsync(parseResult.GetValue(source)!, parseResult.GetValue(target)!, (int)count);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command PgBenchScriptsCommand()
    {
        var folder = new Argument<string>("folder") { Description = "where to write append.sql and history.sql" };
        var tenant = new Option<long>("--tenant") { Description = "the tenant id the scripts run as", Required = true };
        var command = new Command("pgbench-scripts", "Write pgbench scripts that run the stores' own append and history SQL (used by bench/api.sh).")
        {
            folder, tenant,
        };
        command.Runs((parseResult, _) =>
        {
            PgBenchScripts.Write(parseResult.GetValue(folder)!, parseResult.GetValue(tenant));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, IReadOnlyList<IComparison> comparisons, CancellationToken ct)
    {
        var options = ReadOptions(parseResult);
        // Before the scratch database: a crowd the machine cannot hold stops here with one line.
        if (comparisons.Any(c => c is Bench.Comparisons.CrowdComparison))
            Bench.Comparisons.CrowdComparison.CheckLimits(options.Crowd);
        await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
        BenchContext.Say($"target {target.Description}; scratch database {options.ScratchDatabase}; {Counts.Format(options.Messages)} messages, {options.Runs} runs");
        BenchReport report;
        // Before the scratch database: a server that cannot be pinned stops here with one line.
        await using var split = options.SplitCores ? await CoreSplit.ApplyAsync(target.DataSource, ct) : null;
        await using (var context = await BenchContext.CreateAsync(options, target.DataSource, target.ConnectionString, ct))
        {
            if (split is not null)
                context.Note($"--split-cores: the server on CPU {split.ServerCpus}, the bench with its pgbench, psql and PgBouncer on CPU {split.ClientCpus}, for the whole run (loads and the scratch database's set-up included)");
            report = await BenchSuite.RunAsync(context, comparisons, parseResult.GetValue(Remark), ct);
        }

        Directory.CreateDirectory(options.OutputDirectory);
        // One comparison's report is named after it, so it does not replace the day's full report (bench all).
        var only = comparisons.Count == 1 ? $"-{comparisons[0].Name}" : "";
        var stem = Path.Combine(options.OutputDirectory, $"{report.Started:yyyy-MM-dd}-{Environment.MachineName}{only}");
        var chartProblem = await GnuplotChart.WriteAsync(Path.GetFullPath(stem + ".png"), report.Figures,
            $"BotStore bench {report.Started:yyyy-MM-dd} {Environment.MachineName}{(options.Quick ? " (quick)" : "")}: ratios of medians", ct);
        await File.WriteAllTextAsync(stem + ".md", MarkdownReport.Render(report, chartProblem is null ? Path.GetFileName(stem + ".png") : null), ct);

        var table = Output.Table("comparison", "metric", ">measured", ">against", ">ratio", "target", "met");
        foreach (var f in report.Figures)
        {
            table.Row(f.Comparison, f.Metric, MarkdownReport.Cell(f.Label, f.Value, f.Unit),
                f.Reference is null ? "" : MarkdownReport.Cell(f.ReferenceLabel!, f.Reference, f.Unit),
                f.Ratio is { } r ? MarkdownReport.Ratio(r) : "", f.Target?.ToString() ?? "", f.Met switch { true => "yes", false => "NO", null => "" });
        }
        Output.Print(table);
        Output.Line($"Report: {stem}.md" + (chartProblem is null ? $", chart: {stem}.png" : $" (no chart: {chartProblem})"));
        foreach (var (name, error) in report.Failures)
            await Console.Error.WriteLineAsync($"botstore: bench {name} failed: {error}");
        return report.Failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static BenchOptions ReadOptions(ParseResult parseResult)
    {
        var quick = parseResult.GetValue(Quick);
        var messages = parseResult.GetValue(Messages) is > 0 and var m ? m : quick ? BenchOptions.QuickMessages : BenchOptions.FullMessages;
        var runs = parseResult.GetValue(Runs) is > 0 and var r ? r : quick ? 2 : 5;
        var seconds = parseResult.GetValue(Seconds) is > 0 and var s ? s : quick ? 1 : 10;
        var ingest = parseResult.GetValue(IngestRows) is > 0 and var i ? i : Math.Max(200_000, messages / 10);
        var clients = new List<int>();
        foreach (var part in parseResult.GetValue(Clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c is < 1 or > 1000)
                throw new BotStoreValidationException($"--clients: '{part}' is not a client count between 1 and 1000");
            clients.Add(c);
        }
        if (clients.Count == 0)
            throw new BotStoreValidationException("--clients: give at least one client count, e.g. 8,64");
        var crowd = ParseCounts(parseResult.GetValue(CrowdOption) ?? (quick ? "100" : "2000"), "--crowd", 100_000);
        if (messages < 1000)
            throw new BotStoreValidationException($"--messages: at least 1000 (the flatness comparison measures at a tenth), not {messages}");
        return new BenchOptions(messages, quick, runs, seconds, ingest, clients, parseResult.GetValue(Out)!, parseResult.GetValue(Scratch)!, parseResult.GetValue(Keep))
        {
            Crowd = crowd,
            SplitCores = parseResult.GetValue(SplitCores),
        };
    }

    private static List<int> ParseCounts(string text, string option, int max)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c < 1 || c > max)
                throw new BotStoreValidationException($"{option}: '{part}' is not a count between 1 and {max:N0}");
            counts.Add(c);
        }
        return counts.Count > 0 ? counts : throw new BotStoreValidationException($"{option}: give at least one count");
    }
}
