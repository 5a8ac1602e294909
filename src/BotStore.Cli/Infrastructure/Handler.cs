using System.CommandLine;

namespace BotStore.Cli.Infrastructure;

/// <summary>Wraps a verb's action: BotStore errors become one line on stderr and a non-zero exit code.</summary>
internal static class Handler
{
    public static void Runs(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (ParseResult parseResult, CancellationToken ct) =>
        {
            try
            {
                return await action(parseResult, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("botstore: interrupted");
                return ExitCodes.Interrupted;
            }
            catch (Exception ex) when (ex is BotStoreException || PostgresErrors.Translate(ex) is not null)
            {
                var error = ex as BotStoreException ?? PostgresErrors.Translate(ex)!;
                await Console.Error.WriteLineAsync($"botstore: {OneLine(error.Message)}");
                return ExitCodes.Failure;
            }
            catch (Exception ex)
            {
                await Console.Error.WriteLineAsync($"botstore: unexpected {ex.GetType().Name}: {OneLine(ex.Message)}");
                if (Environment.GetEnvironmentVariable("BOTSTORE_DEBUG") == "1")
                    await Console.Error.WriteLineAsync(ex.ToString());
                return ExitCodes.Unexpected;
            }
        });

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
