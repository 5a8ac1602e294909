using System.CommandLine;
using BotStore.Tooling;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.LoadGeneration;
using Spectre.Console;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore loadgen</c>: fills a BotStore database with a production-like data set.</summary>
internal static class LoadgenCommand
{
    public static Command Create()
    {
        var tenants = CountOption.Create("--tenants", "tenants, with a Zipf-like spread of users", 100);
        var users = CountOption.Create("--users", "users across all tenants", 10_000);
        var messages = CountOption.Create("--messages", "messages in all", 1_000_000);
        var months = new Option<int>("--months") { Description = "months of history before --until (default 3)", DefaultValueFactory = _ => 3 };
        var seed = new Option<long>("--seed") { Description = "seed of every random choice: the same seed gives the same data (default 42)", DefaultValueFactory = _ => 42 };
        var until = new Option<DateOnly?>("--until") { Description = "end of the history, a UTC date (default today); part of what defines the data" };
        var batch = CountOption.Create("--batch", "messages per transaction, the unit an interruption loses", 100_000);
        var command = new Command("loadgen", "Generate a production-like data set into the database (binary COPY; interrupt and rerun to resume).")
        {
            tenants, users, messages, months, seed, until, batch, CommonOptions.Json,
        };
        command.Runs(async (parseResult, ct) =>
        {
            var options = new LoadOptions
            {
                Tenants = Int(parseResult.GetValue(tenants), "--tenants"),
                Users = Int(parseResult.GetValue(users), "--users"),
                Messages = parseResult.GetValue(messages),
                Months = parseResult.GetValue(months),
                Seed = parseResult.GetValue(seed),
                BatchMessages = Int(parseResult.GetValue(batch), "--batch"),
            };
            if (parseResult.GetValue(until) is { } date)
                options = options with { Until = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) };
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var json = parseResult.GetValue(CommonOptions.Json);
            if (!json)
                Output.Line($"Loading {options.Describe()} seed={options.Seed} into {target.Description}");
            LoadResult result;
            try
            {
                result = json
                    ? await new LoadGenerator(target.DataSource).RunAsync(options, null, ct)
                    : await WithProgressBarAsync(progress => new LoadGenerator(target.DataSource).RunAsync(options, progress, ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("botstore: the committed batches are kept; run the same command again to resume");
                throw;
            }
            Print(result, json);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int Int(long value, string name) => value <= int.MaxValue
        ? (int)value
        : throw new BotStoreValidationException($"{name}: at most {int.MaxValue}, not {value}");

    private static async Task<LoadResult> WithProgressBarAsync(Func<IProgress<LoadProgress>, Task<LoadResult>> load)
    {
        LoadResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                long? first = null;
                result = await load(new Reporter(p =>
                {
                    first ??= p.MessagesDone;
                    var rate = (p.MessagesDone - first.Value) / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                    task.MaxValue = Math.Max(1, p.MessagesTotal);
                    task.Value = p.MessagesDone;
                    task.Description = p.Phase == "directory"
                        ? "tenants, bots, users, memories"
                        : $"messages {Counts.Format(p.MessagesDone)}/{Counts.Format(p.MessagesTotal)} · day {p.DaysDone}/{p.DaysTotal} · {Counts.Format(rate)}/s";
                }));
                task.Value = task.MaxValue;
            });
        return result!;
    }

    private static void Print(LoadResult result, bool json)
    {
        if (json)
        {
            Output.Json(result);
            return;
        }
        var messages = result.Tables.First(t => t.Table == "message_history").RowsLoaded;
        Output.Line(result.AlreadyComplete
            ? $"Already loaded ({result.Parameters}); nothing to do."
            : $"{(result.Resumed ? "Resumed and finished" : "Loaded")} {result.Parameters} in {result.Elapsed.TotalSeconds:0.0} s" +
              (result.Resumed ? "" : $" ({Counts.Format(messages / Math.Max(result.Elapsed.TotalSeconds, 0.001))} messages/s)"));
        var table = Output.Table("table", ">rows loaded", ">size now");
        foreach (var t in result.Tables)
            table.Row(t.Table, t.RowsLoaded, Output.Bytes(t.TotalBytes));
        table.Row("total", result.Tables.Sum(t => t.RowsLoaded), Output.Bytes(result.Tables.Sum(t => t.TotalBytes)));
        Output.Print(table);
    }

    private sealed class Reporter(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
