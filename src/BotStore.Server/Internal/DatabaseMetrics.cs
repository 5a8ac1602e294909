using BotStore.Maintenance;
using BotStore.Monitoring;
using BotStore.Server.Operations;
using Prometheus;

namespace BotStore.Server.Internal;

/// <summary>
/// The database side of <c>/metrics</c>: table and index sizes, partition runway and default-partition rows, and the
/// last outcome of each maintenance task, as prometheus-net gauges refreshed before a scrape. Every series has a
/// <c>shard</c> label: every shard is read in parallel, and one that does not answer has <c>botstore_database_up</c> 0
/// and no other series (no stale size stays), while the others are still published. Read at most once per
/// <see cref="CacheFor"/> however often Prometheus scrapes, so many instances and scrapers add no noticeable load.
/// </summary>
internal sealed class DatabaseMetrics
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);

    private readonly OperationsShards _shards;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Gauge _up;
    private readonly List<Family> _families = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    private readonly Family _tableTotal, _tableHeap, _tableIndex, _tableRows, _tableBloat, _index, _indexScans,
        _runway, _defaultRows, _partitions, _lastSuccess, _lastOutcome, _lastRunAt, _lastRunDuration;

    public DatabaseMetrics(OperationsShards shards, MetricsRegistry metrics)
    {
        _shards = shards;
        var f = metrics.Factory;
        _up = f.CreateGauge("botstore_database_up", "1 when the last read of the shard's database metrics succeeded.", ["shard"]);
        _tableTotal = Gauge("botstore_table_total_bytes", "Table size with indexes and TOAST; a partitioned table sums its partitions.", "table", "kind");
        _tableHeap = Gauge("botstore_table_heap_bytes", "Table heap size (main fork).", "table", "kind");
        _tableIndex = Gauge("botstore_table_index_bytes", "Size of a table's indexes.", "table", "kind");
        _tableRows = Gauge("botstore_table_rows_estimate", "Planner estimate of a table's rows.", "table", "kind");
        _tableBloat = Gauge("botstore_table_bloat_bytes", "Estimated heap bloat (statistics estimate).", "table", "kind");
        _index = Gauge("botstore_index_bytes", "Index size; a partitioned index sums its partitions' copies.", "index", "table");
        _indexScans = new Family(f.CreateCounter("botstore_index_scans_total", "Index scans since statistics were reset.", ["shard", "index", "table"]), _families);
        _runway = Gauge("botstore_partition_runway_months", "Months with a partition from the current one on (0: this month writes to the default partition).", "table");
        _defaultRows = Gauge("botstore_partition_default_rows", "Rows in the default partition (should be 0).", "table");
        _partitions = Gauge("botstore_partitions", "Monthly partitions of a table.", "table");
        _lastSuccess = Gauge("botstore_maintenance_last_success", "1 when the task's last finished run succeeded, else 0.", "task");
        _lastOutcome = Gauge("botstore_maintenance_last_outcome", "The outcome of the task's last finished run (the series with value 1).", "task", "outcome");
        _lastRunAt = Gauge("botstore_maintenance_last_run_timestamp_seconds", "When the task's last finished run ended (Unix time).", "task");
        _lastRunDuration = Gauge("botstore_maintenance_last_run_duration_seconds", "How long the task's last finished run took.", "task");
        metrics.Registry.AddBeforeCollectCallback(RefreshAsync);

        Family Gauge(string name, string help, params string[] labels) => new(f.CreateGauge(name, help, ["shard", .. labels]), _families);
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        if (DateTimeOffset.UtcNow - _readAt < CacheFor)
            return;
        await _refresh.WaitAsync(ct);
        try
        {
            if (DateTimeOffset.UtcNow - _readAt < CacheFor)
                return;
            await ReadAsync(ct);
            _readAt = DateTimeOffset.UtcNow;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        var answers = await _shards.EachAsync(async (s, t) => (Tables: await s.Reports.TablesAsync(t), Indexes: await s.Reports.IndexesAsync(t),
            Partitions: await s.Reports.PartitionsAsync(t), Runs: await s.Maintenance.LastRunsAsync(t)), ct);
        foreach (var answer in answers)
            _up.WithLabels(answer.Shard.Name).Set(answer.Error is null ? 1 : 0);
        // Metrics must still answer while a shard is away: its gauge says so, and none of its series stays.
        var read = answers.Where(a => a.Error is null).Select(a => (Shard: a.Shard.Name, a.Value.Tables, a.Value.Indexes, a.Value.Partitions, a.Value.Runs)).ToList();

        IEnumerable<(string[], double)> Each<T>(Func<(string Shard, IReadOnlyList<TableReport> Tables, IReadOnlyList<IndexReport> Indexes,
            IReadOnlyList<PartitionRunwayReport> Partitions, IReadOnlyList<MaintenanceRunRecord> Runs), IEnumerable<T>> rows, Func<T, string[]> labels, Func<T, double> value) =>
            read.SelectMany(r => rows(r).Select(row => ((string[])[r.Shard, .. labels(row)], value(row))));

        string[] Table(TableReport t) => [t.Name, t.Kind];
        _tableTotal.Publish(Each(r => r.Tables, Table, t => t.TotalBytes));
        _tableHeap.Publish(Each(r => r.Tables, Table, t => t.HeapBytes));
        _tableIndex.Publish(Each(r => r.Tables, Table, t => t.IndexBytes));
        _tableRows.Publish(Each(r => r.Tables, Table, t => t.EstimatedRows));
        _tableBloat.Publish(Each(r => r.Tables.Where(t => t.BloatBytes is not null), Table, t => t.BloatBytes!.Value));
        _index.Publish(Each(r => r.Indexes, i => [i.Name, i.Table], i => i.Bytes));
        _indexScans.Publish(Each(r => r.Indexes, i => [i.Name, i.Table], i => i.Scans));
        _runway.Publish(Each(r => r.Partitions, p => [p.Table], p => p.RunwayMonths));
        _defaultRows.Publish(Each(r => r.Partitions, p => [p.Table], p => p.DefaultRows));
        _partitions.Publish(Each(r => r.Partitions, p => [p.Table], p => p.Partitions));
        _lastSuccess.Publish(Each(r => r.Runs, r => [r.Task], r => r.Outcome == MaintenanceOutcome.Succeeded ? 1.0 : 0.0));
        _lastOutcome.Publish(Each(r => r.Runs, r => [r.Task, r.Outcome.ToString().ToLowerInvariant()], _ => 1.0));
        _lastRunAt.Publish(Each(r => r.Runs, r => [r.Task], r => (r.FinishedAt ?? r.StartedAt).ToUnixTimeMilliseconds() / 1000.0));
        _lastRunDuration.Publish(Each(r => r.Runs, r => [r.Task], r => ((r.FinishedAt ?? r.StartedAt) - r.StartedAt).TotalSeconds));
    }

    /// <summary>
    /// One family read from the database: each refresh sets the series it read and removes the ones it no longer
    /// reads (a dropped partition's table, a renamed index), so a scrape shows the database as it is now.
    /// </summary>
    private sealed class Family
    {
        private readonly Gauge? _gauge;
        private readonly Counter? _counter;

        public Family(Gauge gauge, List<Family> all)
        {
            _gauge = gauge;
            all.Add(this);
        }

        public Family(Counter counter, List<Family> all)
        {
            // PostgreSQL's statistics counters are read, not counted here: a counter's value can only be raised to them.
            _counter = counter;
            all.Add(this);
        }

        public void Publish(IEnumerable<(string[] Labels, double Value)> series)
        {
            var seen = new HashSet<string>();
            foreach (var (labels, value) in series)
            {
                seen.Add(string.Join('\0', labels));
                if (_gauge is not null)
                    _gauge.WithLabels(labels).Set(value);
                else
                {
                    // A reset of PostgreSQL's statistics is a counter reset: the series starts again from its new value.
                    if (value < _counter!.WithLabels(labels).Value)
                        _counter.RemoveLabelled(labels);
                    _counter.WithLabels(labels).IncTo(value);
                }
            }
            IEnumerable<string[]> existing = _gauge is not null ? _gauge.GetAllLabelValues() : _counter!.GetAllLabelValues();
            foreach (var gone in existing.Where(l => !seen.Contains(string.Join('\0', l))).ToList())
            {
                if (_gauge is not null)
                    _gauge.RemoveLabelled(gone);
                else
                    _counter!.RemoveLabelled(gone);
            }
        }
    }
}
