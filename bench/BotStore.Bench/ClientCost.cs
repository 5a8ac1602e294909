using System.Diagnostics;
using System.Globalization;

namespace BotStore.Bench;

/// <summary>
/// What the bench process itself spent while a side ran in it, summed over its runs: CPU time against wall time (on a
/// machine of two cores, the client's CPU is taken from the server's), and its garbage collections. A side run in
/// process slows down with the process's heap, which a side run by another program (psql, pgbench) never sees.
/// </summary>
internal sealed class ClientCost
{
    private TimeSpan _cpu, _wall, _pauses;
    private int _gen2;

    public IDisposable Measure() => new Window(this);

    /// <summary>
    /// A full, blocking, compacting collection before a timed run starts, as BenchmarkDotNet does before each
    /// iteration: the garbage of what the bench did before (a data-set load of millions of rows, the previous side)
    /// is then not collected during the run, on the client's share of the two cores. Without it an ingest run held
    /// 2 GB of input and a gen-2 collection paused the library's side for 890 ms.
    /// </summary>
    public static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CPU {_cpu.TotalSeconds:0.0} s in {_wall.TotalSeconds:0.0} s of wall time, {_gen2} gen-2 GCs, {_pauses.TotalMilliseconds:0} ms of GC pauses, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0} MB after");

    private sealed class Window : IDisposable
    {
        private readonly ClientCost _cost;
        private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime, _pauses = GC.GetTotalPauseDuration();
        private readonly int _gen2 = GC.CollectionCount(2);
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public Window(ClientCost cost) => _cost = cost;

        public void Dispose()
        {
            _cost._cpu += Process.GetCurrentProcess().TotalProcessorTime - _cpu;
            _cost._wall += _clock.Elapsed;
            _cost._pauses += GC.GetTotalPauseDuration() - _pauses;
            _cost._gen2 += GC.CollectionCount(2) - _gen2;
        }
    }
}
