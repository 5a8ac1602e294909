using System.Diagnostics;
using System.Text;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// <c>botstore serve</c> as a child process on a free port, for tests about the process itself (its cluster's life
/// cycle, restarts, signals). <see cref="StartAsync"/> returns once <c>/readyz</c> answers 200.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>The API's address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The process id (the launcher execs dotnet, so it is the server itself).</summary>
    public int Pid => _process.Id;

    /// <summary>What the process printed so far (stdout and stderr).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Runs the built CLI's <c>serve</c> with <paramref name="args"/> (e.g. --data-dir, --pg-port) and <paramref name="env"/>.</summary>
    public static Task<ServeProcess> StartAsync(IEnumerable<string> args, IDictionary<string, string>? env = null) =>
        StartAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BotStore.Cli.dll"), "serve", .. args], null, env);

    /// <summary>Runs <c>./botstore serve</c> in a checkout.</summary>
    public static Task<ServeProcess> StartInCheckoutAsync(string checkout, IEnumerable<string> args) =>
        StartAsync(Path.Combine(checkout, "botstore"), ["serve", .. args], checkout, null);

    private static async Task<ServeProcess> StartAsync(string program, IEnumerable<string> args, string? workingDirectory, IDictionary<string, string>? env)
    {
        var url = new Uri($"http://127.0.0.1:{TestCluster.FreePort()}");
        var psi = Cli.StartInfo(program, [.. args, "--urls", url.ToString().TrimEnd('/')], workingDirectory, env);
        var serve = new ServeProcess(Process.Start(psi)!, url);
        serve._process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        try
        {
            // Generous: on a shared 2-core machine a first start (initdb, migrations) can take minutes.
            await serve.WaitReadyAsync(TimeSpan.FromMinutes(6));
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <c>/readyz</c> answers 200; throws with the process's output if it exits or never does.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"serve exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening, but the database did not answer in time.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"serve was not ready within {timeout}:\n{Output}");
    }

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await _process.WaitForExitAsync(cts.Token);
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
