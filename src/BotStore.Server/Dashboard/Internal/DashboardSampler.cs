using BotStore.Monitoring;
using BotStore.Server.Internal;
using BotStore.Server.Operations;
using BotStore.Sharding;
using Microsoft.Extensions.Logging;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>One sample: the database's counters and the server's own request totals at one moment.</summary>
internal sealed record Sample(DateTimeOffset At, int ServerConnections, long CommittedTransactions, long DatabaseBytes,
    long Requests, double RequestSeconds);

/// <summary>
/// Samples the database (<see cref="DatabaseReports.StatisticsAsync"/> of every shard, summed) and this server's request totals every
/// <see cref="DashboardOptions.SampleInterval"/> into a ring of the last <see cref="DashboardOptions.SampleHistory"/>,
/// so the dashboard's charts work without Prometheus. Memory only: a restart starts the charts afresh. A sample that
/// misses a shard is skipped (a gap in the charts), so a shard that is away never shows as a drop in the sums.
/// </summary>
internal sealed partial class DashboardSampler(OperationsShards shards, RequestMetricsRecorder requests, DashboardOptions options,
    TimeProvider clock, ILogger<DashboardSampler> logger)
{
    private readonly Queue<Sample> _ring = new();
    private readonly Lock _lock = new();

    /// <summary>The samples, oldest first.</summary>
    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_lock)
                return _ring.ToList();
        }
    }

    /// <summary>Takes one sample; a job of the operations scheduler (<see cref="InstanceJob"/>) runs it every <see cref="DashboardOptions.SampleInterval"/>.</summary>
    public async Task SampleOnceAsync(CancellationToken ct)
    {
        try
        {
            var answers = await shards.EachAsync((shard, t) => shard.Reports.StatisticsAsync(t), ct);
            if (answers.FirstOrDefault(a => a.Error is not null) is { } failed)
                throw shards.Several ? ShardRouter.ShardError(failed.Shard, failed.Error!) : failed.Error!;
            var all = answers.Select(a => a.Value!).ToList();
            var s = (ServerConnections: all.Sum(x => x.ServerConnections), CommittedTransactions: all.Sum(x => x.CommittedTransactions),
                DatabaseBytes: all.Sum(x => x.DatabaseBytes));
            var (count, seconds) = requests.Totals();
            var capacity = Math.Max(2, (int)(options.SampleHistory / options.SampleInterval));
            lock (_lock)
            {
                _ring.Enqueue(new Sample(clock.GetUtcNow(), s.ServerConnections, s.CommittedTransactions, s.DatabaseBytes, count, seconds));
                while (_ring.Count > capacity)
                    _ring.Dequeue();
            }
        }
        catch (BotStoreException ex)
        {
            // The database is away: the chart shows a gap, the server keeps running.
            LogSampleFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "dashboard sample skipped: {Reason}")]
    private static partial void LogSampleFailed(ILogger logger, string reason);
}
