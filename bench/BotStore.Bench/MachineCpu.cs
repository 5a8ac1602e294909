using System.Diagnostics;
using System.Globalization;

namespace BotStore.Bench;

/// <summary>
/// CPU time spent while a side ran: by the whole machine (server backends, PgBouncer, pgbench or this process: on a
/// machine of two cores they all share it) from /proc/stat, and by this process. Divided by the side's operations it
/// says where a side's throughput went, which a ratio of throughputs alone cannot. Linux only (null elsewhere).
/// </summary>
internal sealed record MachineCpu(double MachineSeconds, double ProcessSeconds)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: /proc/stat counts in it on every Linux architecture

    /// <summary>Runs <paramref name="run"/> and the CPU spent meanwhile (set-up and connections included).</summary>
    public static async Task<(T Result, MachineCpu? Cpu)> MeasureAsync<T>(Func<Task<T>> run)
    {
        var (busy, process) = (BusyTicks(), Process.GetCurrentProcess().TotalProcessorTime);
        var result = await run();
        var after = BusyTicks();
        return (result, busy is null || after is null ? null
            : new MachineCpu((after.Value - busy.Value) / TicksPerSecond, (Process.GetCurrentProcess().TotalProcessorTime - process).TotalSeconds));
    }

    // user + nice + system + irq + softirq of the "cpu" line: idle, iowait and steal (another guest's) left out.
    private static long? BusyTicks()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/stat"))
            return null;
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new[] { 1, 2, 3, 6, 7 }.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
    }
}
