using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Monitoring;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore explain "&lt;sql&gt;"</c>: EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back.</summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("sql") { Description = "one SQL statement (SELECT, INSERT, UPDATE, DELETE, ...); quote it" };
        var command = new Command("explain", "Run one statement under EXPLAIN (ANALYZE, BUFFERS) inside a transaction that is rolled back: it is measured, and changes nothing.")
        {
            sql, CommonOptions.Json,
        };
        command.Runs(async (parseResult, ct) =>
        {
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var plan = await ExplainAnalyze.RunAsync(target.DataSource, parseResult.GetValue(sql)!, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { plan, rolled_back = true });
            else
            {
                foreach (var line in plan)
                    Output.Line(line);
                Output.Line("(rolled back: nothing was changed)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
