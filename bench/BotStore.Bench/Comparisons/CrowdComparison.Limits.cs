using System.Globalization;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// The machine's limits a crowd needs, checked before anything starts: a crowd that runs out of file descriptors or
/// local ports half-way fails with errors that look like PgBouncer's or the library's, which is the figure measured.
/// </summary>
internal sealed partial class CrowdComparison
{
    // What else this process and PgBouncer keep open (assemblies, logs, the bench's own connections, listen sockets).
    private const int OwnDescriptors = 256;
    private const int BouncerDescriptors = 32;

    /// <summary>
    /// Checked by <c>bench crowd</c> before it creates anything, and again by the comparison itself.
    /// PgBouncer 1.18 needs max_client_conn plus its server pool within its open-file limit, which it inherits from this
    /// process (the .NET runtime raises its own soft limit to the hard one at start-up); this process needs a socket
    /// per worker. Every worker's connection to PgBouncer takes a local port of 127.0.0.1.
    /// </summary>
    public static void CheckLimits(IReadOnlyList<int> crowds) => CheckLimits(crowds.Max(), MaxClientConn(crowds), SeedPoolSize);

    private static void CheckLimits(int crowd, int maxClientConn, int poolSize)
    {
        if (OpenFilesLimit() is var (soft, hard))
        {
            var need = Math.Max(crowd + OwnDescriptors, maxClientConn + poolSize + BouncerDescriptors);
            if (soft < need)
                throw new BotStoreConfigurationException(string.Create(CultureInfo.InvariantCulture,
                    $"bench crowd: a crowd of {crowd:N0} needs an open-file limit of {need:N0} (PgBouncer: max_client_conn {maxClientConn:N0} + pool {poolSize} + {BouncerDescriptors}; " +
                    $"this process: a socket per worker + {OwnDescriptors}) and the limit is {soft:N0} (hard {hard}): raise it (ulimit -n) or run a smaller --crowd"));
        }
        if (LocalPorts() is { } ports && ports < crowd + OwnDescriptors)
            throw new BotStoreConfigurationException(string.Create(CultureInfo.InvariantCulture,
                $"bench crowd: a crowd of {crowd:N0} needs {crowd + OwnDescriptors:N0} local ports and net.ipv4.ip_local_port_range holds {ports:N0}: widen it or run a smaller --crowd"));
    }

    // "Max open files  <soft>  <hard>  files" in /proc/self/limits; null where there is no /proc.
    private static (long Soft, string Hard)? OpenFilesLimit()
    {
        const string limits = "/proc/self/limits";
        if (!File.Exists(limits))
            return null;
        var line = File.ReadLines(limits).FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var parts = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: >= 2 })
            return null;
        var soft = parts[0] == "unlimited" ? long.MaxValue : long.Parse(parts[0], CultureInfo.InvariantCulture);
        return (soft, parts[1]);
    }

    private static int? LocalPorts()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (!File.Exists(range))
            return null;
        var parts = File.ReadAllText(range).Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) - int.Parse(parts[0], CultureInfo.InvariantCulture) + 1 : null;
    }
}
