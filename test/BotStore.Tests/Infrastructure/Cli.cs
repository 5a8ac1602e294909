using System.Diagnostics;

namespace BotStore.Tests.Infrastructure;

/// <summary>Runs the real <c>botstore</c> CLI (the built BotStore.Cli.dll beside the tests) as a child process.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "BotStore.Cli.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("BOTSTORE_DATABASE_URL");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"botstore {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
