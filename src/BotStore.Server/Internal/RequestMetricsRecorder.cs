using Prometheus;

namespace BotStore.Server.Internal;

/// <summary>Request counts per method, route and status, and latency histograms per method and route, since the process started.</summary>
internal sealed class RequestMetricsRecorder(MetricsRegistry metrics)
{
    private readonly Counter _requests = metrics.Factory.CreateCounter("botstore_http_requests_total",
        "HTTP requests by method, route template and status code.", ["method", "route", "status"]);

    private readonly Histogram _latency = metrics.Factory.CreateHistogram("botstore_http_request_duration_seconds",
        "HTTP request latency by method and route template.", ["method", "route"], new HistogramConfiguration { Buckets = MetricsRegistry.LatencyBuckets });

    public void Record(string method, string route, int status, TimeSpan elapsed)
    {
        _requests.WithLabels(method, route, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _latency.WithLabels(method, route).Observe(elapsed.TotalSeconds);
    }

    /// <summary>Requests and their summed latency since the process started, over every route (for the dashboard's charts).</summary>
    public (long Requests, double Seconds) Totals()
    {
        var requests = 0L;
        var seconds = 0.0;
        foreach (var labels in _latency.GetAllLabelValues())
        {
            var child = _latency.WithLabels(labels);
            requests += child.Count;
            seconds += child.Sum;
        }
        return (requests, seconds);
    }
}
