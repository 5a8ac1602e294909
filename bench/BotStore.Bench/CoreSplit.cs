using System.Diagnostics;
using System.Globalization;
using System.Net;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// <c>--split-cores</c>: the server (its postmaster and every process it started) on the first half of the cores this
/// process may use, this process and what it starts (pgbench, psql, PgBouncer) on the other half, until disposed,
/// when both get their cores back. Production runs its clients on other machines; on one machine of two cores every
/// microsecond a client spends is taken from the server, which charges the .NET sides' client cost to the server's
/// throughput twice over. Both sides of every comparison run under the same split, so ratios stay side by side.
/// Linux only, and only for a server on this machine that this user (or root) may pin: <c>taskset</c> does it.
/// </summary>
internal sealed class CoreSplit : IAsyncDisposable
{
    private readonly int _postmaster;
    private readonly string _serverWas;
    private readonly string _clientWas;

    private CoreSplit(int postmaster, string serverWas, string clientWas, string serverCpus, string clientCpus)
    {
        _postmaster = postmaster;
        _serverWas = serverWas;
        _clientWas = clientWas;
        ServerCpus = serverCpus;
        ClientCpus = clientCpus;
    }

    public string ServerCpus { get; }

    public string ClientCpus { get; }

    public static async Task<CoreSplit> ApplyAsync(NpgsqlDataSource server, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
            throw new BotStoreValidationException("--split-cores: Linux only (it pins processes with taskset)");
        var clientWas = CpusAllowed(Environment.ProcessId)!;
        var cpus = Expand(clientWas);
        if (cpus.Count < 2)
            throw new BotStoreValidationException($"--split-cores: this process may use {cpus.Count} core (CPUs {clientWas}); splitting needs two or more");
        await using var cmd = server.CreateCommand("SELECT pg_backend_pid(), host(inet_server_addr())");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (backend, address) = (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        // A unix socket gives no address; a TCP connection must be to this machine's loopback.
        if ((address is not null && !IPAddress.IsLoopback(IPAddress.Parse(address))) || ProcessName(backend) != "postgres")
            throw new BotStoreValidationException($"--split-cores: the server is not on this machine (connected to {address ?? "a unix socket"}, backend {backend} is not a postgres process here)");
        var postmaster = ParentOf(backend);
        var serverWas = CpusAllowed(postmaster)!;
        var half = cpus.Count / 2;
        var (serverCpus, clientCpus) = (string.Join(',', cpus.Take(half)), string.Join(',', cpus.Skip(half)));
        var split = new CoreSplit(postmaster, serverWas, clientWas, serverCpus, clientCpus);
        await PinServerAsync(postmaster, serverCpus, ct);
        await TasksetAsync(Environment.ProcessId, clientCpus, ct);
        return split;
    }

    public async ValueTask DisposeAsync()
    {
        await PinServerAsync(_postmaster, _serverWas, CancellationToken.None);
        await TasksetAsync(Environment.ProcessId, _clientWas, CancellationToken.None);
    }

    // The postmaster and the processes it started so far; a backend it forks later inherits its cores.
    private static async Task PinServerAsync(int postmaster, string cpus, CancellationToken ct)
    {
        await TasksetAsync(postmaster, cpus, ct);
        foreach (var child in ChildrenOf(postmaster))
        {
            try
            {
                await TasksetAsync(child, cpus, ct);
            }
            catch (BotStoreException) when (!Directory.Exists($"/proc/{child}"))
            {
                // It ended meanwhile (a backend whose client disconnected).
            }
        }
    }

    // -a: every thread of the process (Linux keeps cores per thread; threads started later inherit their creator's).
    private static async Task TasksetAsync(int pid, string cpus, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("taskset", ["-a", "-p", "-c", cpus, pid.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi) ?? throw new BotStoreException("--split-cores: could not start taskset");
        var error = await process.StandardError.ReadToEndAsync(ct);
        await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
            throw new BotStoreException($"--split-cores: taskset could not pin process {pid} to CPUs {cpus}: {error.Trim()}");
    }

    // Null once the process has ended (it may, between listing /proc and reading it).
    private static string? Status(int pid, string field)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..].Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? ProcessName(int pid) => Status(pid, "Name");

    private static string? CpusAllowed(int pid) => Status(pid, "Cpus_allowed_list");

    private static int ParentOf(int pid) => int.Parse(Status(pid, "PPid")!, CultureInfo.InvariantCulture);

    private static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Status(pid, "PPid") == parent.ToString(CultureInfo.InvariantCulture))
            .ToList();

    // "0-3,6" → 0, 1, 2, 3, 6 (the kernel's list format).
    private static List<int> Expand(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries).SelectMany(part =>
        {
            var ends = part.Split('-').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return Enumerable.Range(ends[0], ends[^1] - ends[0] + 1);
        }).ToList();
}
