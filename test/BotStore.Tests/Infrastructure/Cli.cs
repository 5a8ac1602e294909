using System.Diagnostics;

namespace BotStore.Tests.Infrastructure;

/// <summary>Runs the real <c>botstore</c> CLI (the built BotStore.Cli.dll beside the tests) as a child process.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null) =>
        RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BotStore.Cli.dll"), .. args], null, env, timeout);

    /// <summary>Runs the <c>./botstore</c> launcher of a checkout, in that checkout, as a person would.</summary>
    public static Task<Result> RunLauncherAsync(string checkout, IEnumerable<string> args, TimeSpan? timeout = null) =>
        RunAsync(Path.Combine(checkout, "botstore"), args, checkout, null, timeout);

    /// <summary>
    /// How a test starts the CLI (a verb, or <c>serve</c> in <see cref="ServeProcess"/>): output redirected, and none
    /// of the caller's BOTSTORE_DATABASE_URL/BOTSTORE_DATA_DIR, so only the arguments and <paramref name="env"/> decide.
    /// </summary>
    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> args, string? workingDirectory, IDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("BOTSTORE_DATABASE_URL");
        psi.Environment.Remove("BOTSTORE_DATA_DIR");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return psi;
    }

    private static async Task<Result> RunAsync(string program, IEnumerable<string> args, string? workingDirectory, IDictionary<string, string>? env, TimeSpan? timeout)
    {
        using var process = Process.Start(StartInfo(program, args, workingDirectory, env))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
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
