using System.Diagnostics.Metrics;
using Prometheus;

namespace BotStore.Server.Internal;

/// <summary>
/// This host's prometheus-net registry, behind <c>/metrics</c>: its own (not the process-wide default), so two hosts
/// in one process never share series. Npgsql's meter ("Npgsql": pool connections by state, the pool's maximum,
/// pending requests, timeouts, and the histogram of command durations) is published into it by prometheus-net's
/// meter adapter, with the same latency buckets as the request histogram.
/// </summary>
internal sealed class MetricsRegistry : IDisposable
{
    /// <summary>Latency bucket bounds in seconds (Prometheus' defaults), for requests and database operations alike.</summary>
    public static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly IDisposable _npgsql;

    public MetricsRegistry()
    {
        Registry = Metrics.NewCustomRegistry();
        Factory = Metrics.WithCustomRegistry(Registry);
        _npgsql = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Factory, // the default is the process-wide factory, whatever Registry says
            InstrumentFilterPredicate = Published,
            ResolveHistogramBuckets = _ => LatencyBuckets,
        });
    }

    /// <summary>
    /// Npgsql's instruments, less the three it updates on every socket read, every flush and every command start and
    /// end (bytes read, bytes written, commands executing). The adapter looks each measurement's labels up and leases
    /// the series under a lock, for every measurement of every data source in the process: with them, the adapter
    /// had 7% of the CPU samples of a process reading history pages (perf, 2026-12-03). The duration histogram still
    /// counts every command and the failed counter every failure.
    /// </summary>
    private static bool Published(Instrument instrument) =>
        instrument.Meter.Name == "Npgsql" && instrument.Name is not (
            "db.client.operation.npgsql.bytes_read" or "db.client.operation.npgsql.bytes_written" or "db.client.operation.npgsql.executing");

    /// <summary>The registry <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Creates BotStore's own families in <see cref="Registry"/>.</summary>
    public IMetricFactory Factory { get; }

    public void Dispose() => _npgsql.Dispose();
}
