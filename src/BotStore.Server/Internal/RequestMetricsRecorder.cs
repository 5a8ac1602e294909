using System.Collections.Concurrent;

namespace BotStore.Server.Internal;

/// <summary>Request counts per method, route and status, and latency histograms per method and route, since the process started.</summary>
internal sealed class RequestMetricsRecorder
{
    /// <summary>Latency bucket bounds in seconds (Prometheus' defaults).</summary>
    public static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<(string Method, string Route, int Status), long> _counts = new();
    private readonly ConcurrentDictionary<(string Method, string Route), Histogram> _latency = new();

    public void Record(string method, string route, int status, TimeSpan elapsed)
    {
        _counts.AddOrUpdate((method, route, status), 1, (_, n) => n + 1);
        _latency.GetOrAdd((method, route), _ => new Histogram()).Observe(elapsed.TotalSeconds);
    }

    public void WriteTo(PrometheusWriter w)
    {
        w.Family("botstore_http_requests_total", "counter", "HTTP requests by method, route template and status code.");
        foreach (var ((method, route, status), n) in _counts.OrderBy(c => c.Key.Route).ThenBy(c => c.Key.Method).ThenBy(c => c.Key.Status))
            w.Sample("botstore_http_requests_total", n, ("method", method), ("route", route), ("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        w.Family("botstore_http_request_duration_seconds", "histogram", "HTTP request latency by method and route template.");
        foreach (var ((method, route), h) in _latency.OrderBy(l => l.Key.Route).ThenBy(l => l.Key.Method))
        {
            var (counts, sum, total) = h.Snapshot();
            var cumulative = 0L;
            for (var i = 0; i < Buckets.Length; i++)
            {
                cumulative += counts[i];
                w.Sample("botstore_http_request_duration_seconds_bucket", cumulative, ("method", method), ("route", route),
                    ("le", Buckets[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            }
            w.Sample("botstore_http_request_duration_seconds_bucket", total, ("method", method), ("route", route), ("le", "+Inf"));
            w.Sample("botstore_http_request_duration_seconds_sum", sum, ("method", method), ("route", route));
            w.Sample("botstore_http_request_duration_seconds_count", total, ("method", method), ("route", route));
        }
    }

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length];
        private double _sum;
        private long _total;

        public void Observe(double seconds)
        {
            var i = Array.FindIndex(Buckets, b => seconds <= b);
            lock (this)
            {
                if (i >= 0)
                    _counts[i]++;
                _sum += seconds;
                _total++;
            }
        }

        public (long[] Counts, double Sum, long Total) Snapshot()
        {
            lock (this)
                return ((long[])_counts.Clone(), _sum, _total);
        }
    }
}
