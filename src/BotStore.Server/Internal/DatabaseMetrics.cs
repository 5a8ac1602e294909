using BotStore.Maintenance;
using BotStore.Monitoring;

namespace BotStore.Server.Internal;

/// <summary>
/// The database side of <c>/metrics</c>: table and index sizes, partition runway and default-partition rows, and the
/// last outcome of each maintenance task. Read at most once per <see cref="CacheFor"/> however often Prometheus
/// scrapes, so many instances and scrapers add no noticeable load.
/// </summary>
internal sealed class DatabaseMetrics(DatabaseReports reports, MaintenanceRunner maintenance)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (DateTimeOffset At, string Text)? _cached;

    public async Task<string> RenderAsync(CancellationToken ct)
    {
        if (_cached is { } fresh && DateTimeOffset.UtcNow - fresh.At < CacheFor)
            return fresh.Text;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_cached is { } again && DateTimeOffset.UtcNow - again.At < CacheFor)
                return again.Text;
            var w = new PrometheusWriter();
            try
            {
                await WriteAsync(w, ct);
                w.Family("botstore_database_up", "gauge", "1 when the last read of database metrics succeeded.").Sample("botstore_database_up", 1);
            }
            catch (BotStoreException)
            {
                // Metrics must still answer while the database is away; the gauge says so.
                w = new PrometheusWriter();
                w.Family("botstore_database_up", "gauge", "1 when the last read of database metrics succeeded.").Sample("botstore_database_up", 0);
            }
            _cached = (DateTimeOffset.UtcNow, w.ToString());
            return _cached.Value.Text;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task WriteAsync(PrometheusWriter w, CancellationToken ct)
    {
        var tables = await reports.TablesAsync(ct);
        (string, string?)[] Table(TableReport t) => [("table", t.Name), ("kind", t.Kind)];
        Family(w, "botstore_table_total_bytes", "gauge", "Table size with indexes and TOAST; a partitioned table sums its partitions.", tables, t => t.TotalBytes, Table);
        Family(w, "botstore_table_heap_bytes", "gauge", "Table heap size (main fork).", tables, t => t.HeapBytes, Table);
        Family(w, "botstore_table_index_bytes", "gauge", "Size of a table's indexes.", tables, t => t.IndexBytes, Table);
        Family(w, "botstore_table_rows_estimate", "gauge", "Planner estimate of a table's rows.", tables, t => t.EstimatedRows, Table);
        Family(w, "botstore_table_bloat_bytes", "gauge", "Estimated heap bloat (statistics estimate).", tables.Where(t => t.BloatBytes is not null),
            t => t.BloatBytes!.Value, Table);

        var indexes = await reports.IndexesAsync(ct);
        (string, string?)[] Index(IndexReport i) => [("index", i.Name), ("table", i.Table)];
        Family(w, "botstore_index_bytes", "gauge", "Index size; a partitioned index sums its partitions' copies.", indexes, i => i.Bytes, Index);
        Family(w, "botstore_index_scans_total", "counter", "Index scans since statistics were reset.", indexes, i => i.Scans, Index);

        var partitions = await reports.PartitionsAsync(ct);
        (string, string?)[] Parent(PartitionRunwayReport p) => [("table", p.Table)];
        Family(w, "botstore_partition_runway_months", "gauge", "Months with a partition from the current one on (0: this month writes to the default partition).",
            partitions, p => p.RunwayMonths, Parent);
        Family(w, "botstore_partition_default_rows", "gauge", "Rows in the default partition (should be 0).", partitions, p => p.DefaultRows, Parent);
        Family(w, "botstore_partitions", "gauge", "Monthly partitions of a table.", partitions, p => p.Partitions, Parent);

        var runs = await maintenance.LastRunsAsync(ct);
        (string, string?)[] Task(MaintenanceRunRecord r) => [("task", r.Task)];
        Family(w, "botstore_maintenance_last_success", "gauge", "1 when the task's last finished run succeeded, else 0.", runs,
            r => r.Outcome == MaintenanceOutcome.Succeeded ? 1 : 0, Task);
        Family(w, "botstore_maintenance_last_outcome", "gauge", "The outcome of the task's last finished run (the series with value 1).", runs,
            _ => 1, r => [("task", r.Task), ("outcome", r.Outcome.ToString().ToLowerInvariant())]);
        Family(w, "botstore_maintenance_last_run_timestamp_seconds", "gauge", "When the task's last finished run ended (Unix time).", runs,
            r => (r.FinishedAt ?? r.StartedAt).ToUnixTimeMilliseconds() / 1000.0, Task);
        Family(w, "botstore_maintenance_last_run_duration_seconds", "gauge", "How long the task's last finished run took.", runs,
            r => ((r.FinishedAt ?? r.StartedAt) - r.StartedAt).TotalSeconds, Task);
    }

    private static void Family<T>(PrometheusWriter w, string name, string type, string help, IEnumerable<T> rows, Func<T, double> value,
        Func<T, (string, string?)[]> labels)
    {
        w.Family(name, type, help);
        foreach (var row in rows)
            w.Sample(name, value(row), labels(row));
    }
}
