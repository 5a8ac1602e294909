using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BotStore.Server.Internal;

/// <summary>
/// Npgsql's own pool and command metrics (its "Npgsql" meter: connections idle and in use per pool, the pool's
/// maximum, pending requests, timeouts, operation durations), listened to in-process and exported as
/// <c>npgsql_*</c> families. Counters and histograms accumulate from when this listener started; gauges are read
/// at each scrape.
/// </summary>
internal sealed class NpgsqlPoolMetrics : IDisposable
{
    private const string MeterName = "Npgsql";
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();
    private readonly Lock _collect = new();

    public NpgsqlPoolMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public void WriteTo(PrometheusWriter w)
    {
        lock (_collect)
        {
            // Observable instruments report their current values now, replacing the previous ones.
            foreach (var s in _series.Where(s => s.Key.Instrument.IsObservable))
                s.Value.Reset();
            _listener.RecordObservableInstruments();
        }
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name))
        {
            var instrument = group.Key;
            var name = PrometheusWriter.Name("npgsql", instrument.Name);
            var histogram = IsHistogram(instrument);
            var counter = !histogram && instrument.GetType().Name.StartsWith(instrument.IsObservable ? "ObservableCounter" : "Counter", StringComparison.Ordinal);
            w.Family(name, histogram ? "summary" : counter ? "counter" : "gauge",
                $"{instrument.Description ?? instrument.Name}{(instrument.Unit is { Length: > 0 } u ? $" ({u})" : "")}; Npgsql meter '{instrument.Name}'.");
            foreach (var ((_, _), series) in group.OrderBy(g => g.Key.Labels))
            {
                var (sum, count) = series.Read();
                if (histogram)
                {
                    w.Sample(name + "_sum", sum, series.Labels);
                    w.Sample(name + "_count", count, series.Labels);
                }
                else
                    w.Sample(name, sum, series.Labels);
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new (string Name, string? Value)[tags.Length];
        for (var i = 0; i < tags.Length; i++)
            labels[i] = (PrometheusWriter.Name(tags[i].Key), tags[i].Value?.ToString());
        Array.Sort(labels, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var key = string.Join(',', labels.Select(l => $"{l.Name}={l.Value}"));
        _series.GetOrAdd((instrument, key), _ => new Series(labels)).Add(value);
    }

    private static bool IsHistogram(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(Histogram<>);

    private sealed class Series((string Name, string? Value)[] labels)
    {
        private double _sum;
        private long _count;

        public (string Name, string? Value)[] Labels { get; } = labels;

        public void Add(double value)
        {
            lock (this)
            {
                _sum += value;
                _count++;
            }
        }

        public void Reset()
        {
            lock (this)
            {
                _sum = 0;
                _count = 0;
            }
        }

        public (double Sum, long Count) Read()
        {
            lock (this)
                return (_sum, _count);
        }
    }
}
