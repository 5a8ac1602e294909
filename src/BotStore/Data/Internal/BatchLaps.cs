using System.Diagnostics;

namespace BotStore.Data.Internal;

/// <summary>
/// Times the steps of bulk batches for <c>botstore bench ingest-steps</c>: per step, the wall time and the CPU time
/// this process spent (the client's share, which a busy machine stretches in wall time). Stores pass none in
/// production, and then nothing is timed.
/// </summary>
internal sealed class BatchLaps
{
    private readonly Stopwatch _wall = new();
    private TimeSpan _cpu;

    /// <summary>Per step, in the order first seen: the wall and CPU milliseconds of each batch.</summary>
    public Dictionary<string, (List<double> Wall, List<double> Cpu)> Steps { get; } = [];

    /// <summary>Starts timing a batch's first step.</summary>
    public void Start()
    {
        _cpu = Environment.CpuUsage.TotalTime;
        _wall.Restart();
    }

    /// <summary>Ends <paramref name="step"/> (timed since <see cref="Start"/> or the previous lap) and starts the next.</summary>
    public void Lap(string step)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        if (!Steps.TryGetValue(step, out var times))
            Steps[step] = times = ([], []);
        times.Wall.Add(_wall.Elapsed.TotalMilliseconds);
        times.Cpu.Add((cpu - _cpu).TotalMilliseconds);
        _cpu = cpu;
        _wall.Restart();
    }
}
