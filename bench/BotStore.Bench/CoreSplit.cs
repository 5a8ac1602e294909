using System.Globalization;
using System.Net;
using BotStore.Tooling.Internal;
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
internal sealed class CoreSplit(int postmaster, string serverWas, string clientWas, string serverCpus, string clientCpus) : IAsyncDisposable
{
    public string ServerCpus { get; } = serverCpus;

    public string ClientCpus { get; } = clientCpus;

    public static async Task<CoreSplit> ApplyAsync(NpgsqlDataSource server, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
            throw new BotStoreValidationException("--split-cores: Linux only (it pins processes with taskset)");
        var clientWas = CpusAllowed(Environment.ProcessId)!;
        var cpus = Expand(clientWas);
        if (cpus.Count < 2)
            throw new BotStoreValidationException($"--split-cores: this process may use one core (CPU {clientWas}); splitting needs two or more");
        await using var cmd = server.CreateCommand("SELECT pg_backend_pid(), host(inet_server_addr())");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (backend, address) = (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        // A unix socket gives no address; a TCP connection must be to this machine's loopback.
        if (address is not null && !IPAddress.IsLoopback(IPAddress.Parse(address)))
            throw new BotStoreValidationException($"--split-cores: the server must run on this machine, and it answers at {address}");
        if (ProcessName(backend) != "postgres")
            throw new BotStoreValidationException($"--split-cores: the server must run on this machine, and its backend {backend} is no postgres process here");
        var postmaster = ParentOf(backend);
        var serverWas = CpusAllowed(postmaster)!;
        var half = cpus.Count / 2;
        var (serverCpus, clientCpus) = (string.Join(',', cpus.Take(half)), string.Join(',', cpus.Skip(half)));
        // The postmaster first: a server this user may not pin fails there, before anything has moved.
        await PinServerAsync(postmaster, serverCpus, ct);
        try
        {
            await TasksetAsync(Environment.ProcessId, clientCpus, ct);
        }
        catch
        {
            await PinServerAsync(postmaster, serverWas, CancellationToken.None);
            throw;
        }
        return new CoreSplit(postmaster, serverWas, clientWas, serverCpus, clientCpus);
    }

    public async ValueTask DisposeAsync()
    {
        await PinServerAsync(postmaster, serverWas, CancellationToken.None);
        await TasksetAsync(Environment.ProcessId, clientWas, CancellationToken.None);
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
        var result = await ProcessRunner.RunAsync("taskset", ["-a", "-p", "-c", cpus, pid.ToString(CultureInfo.InvariantCulture)], ct: ct);
        if (result.ExitCode != 0)
            throw new BotStoreException($"--split-cores: taskset could not pin process {pid} to CPUs {cpus}: {result.Output}");
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
