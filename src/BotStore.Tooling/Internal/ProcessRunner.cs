using System.Diagnostics;

namespace BotStore.Tooling.Internal;

/// <summary>Runs a helper program (initdb, pg_ctl, chown) and reports its output; as the <c>postgres</c> user when asked.</summary>
internal static class ProcessRunner
{
    /// <summary>Whether this process runs as root (initdb refuses to).</summary>
    // Environment.UserName resolves the effective uid through getpwuid, not $USER.
    public static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    public sealed record Result(int ExitCode, string Output);

    /// <summary>Runs <paramref name="file"/>; when <paramref name="asUser"/> is set and we are root, through <c>runuser</c>.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? asUser = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // postgres may not be allowed into our working folder (e.g. /root).
            WorkingDirectory = "/",
        };
        if (asUser is not null && IsRoot)
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(asUser);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        else
        {
            psi.FileName = file;
        }
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C.UTF-8";

        using var process = Process.Start(psi) ?? throw new BotStoreConfigurationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new Result(process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    /// <summary>Runs and throws a <see cref="BotStoreConfigurationException"/> with the program's own last line when it fails.</summary>
    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> args, string what, string? asUser = null, CancellationToken ct = default)
    {
        var result = await RunAsync(file, args, asUser, ct);
        if (result.ExitCode != 0)
        {
            var lastLine = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit code {result.ExitCode}";
            throw new BotStoreConfigurationException($"{what} failed: {lastLine.Trim()}");
        }
        return result.Output;
    }
}
