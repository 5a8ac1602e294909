using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace BotStore.Bench;

/// <summary>One throughput run: operations per second and the latency of each operation.</summary>
internal sealed record LoadRun(double Throughput, double[] LatencyMicros)
{
    public double P50 => Percentile(0.50);

    public double P99 => Percentile(0.99);

    private double Percentile(double p)
    {
        if (LatencyMicros.Length == 0)
            return 0;
        var sorted = LatencyMicros.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
    }

    /// <summary>
    /// <paramref name="clients"/> connections, each running <paramref name="operation"/> back to back for the
    /// duration, as pgbench does: connections are opened first and not timed ("without initial connection time").
    /// </summary>
    public static async Task<LoadRun> NpgsqlAsync(NpgsqlDataSource dataSource, int clients, TimeSpan duration,
        Func<int, NpgsqlConnection, Func<Task>> operation, CancellationToken ct)
    {
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < clients; i++)
                connections.Add(await dataSource.OpenConnectionAsync(ct));
            return await ClientsAsync(clients, duration, i => Task.FromResult(operation(i, connections[i])), ct);
        }
        finally
        {
            foreach (var conn in connections)
                await conn.DisposeAsync();
        }
    }

    /// <summary>
    /// <paramref name="clients"/> concurrent tasks, each running the operation its <paramref name="setUp"/> returns
    /// back to back for the duration. Every client's set-up (connections, a warm-up call) finishes before the clock
    /// starts, as pgbench's connections do.
    /// </summary>
    public static async Task<LoadRun> ClientsAsync(int clients, TimeSpan duration, Func<int, Task<Func<Task>>> setUp, CancellationToken ct,
        NpgsqlDataSource? pool = null)
    {
        if (pool is not null)
            await OpenOneByOneAsync(pool, clients, ct);
        var operations = await Task.WhenAll(Enumerable.Range(0, clients).Select(setUp));
        ClientCost.Settle();
        var clock = Stopwatch.StartNew();
        var workers = operations.Select(run => Task.Run(async () =>
        {
            var latencies = new List<double>();
            var started = clock.Elapsed;
            while (started < duration && !ct.IsCancellationRequested)
            {
                await run();
                var done = clock.Elapsed;
                latencies.Add((done - started).TotalMicroseconds);
                started = done;
            }
            return latencies;
        }, ct)).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToArray();
        return new LoadRun(all.Length / clock.Elapsed.TotalSeconds, all);
    }

    /// <summary>
    /// Opens <paramref name="count"/> of the pool's connections one after another and gives them back idle, so that
    /// the clients' first calls find them open, as pgbench's connections (opened in turn by each of its threads) and
    /// <see cref="NpgsqlAsync"/>'s are. Opened by 64 cold first calls at once instead, on two cores, each new backend
    /// also planning its first statements (100 ms and more of catalog reads each under that load), they outlasted the
    /// seed's 5 s connect timeout on a quiet machine (bench all --messages 10M, 2026-12-02: append and pooled failed).
    /// </summary>
    private static async Task OpenOneByOneAsync(NpgsqlDataSource pool, int count, CancellationToken ct)
    {
        var held = new List<NpgsqlConnection>(count);
        try
        {
            for (var i = 0; i < count; i++)
                held.Add(await pool.OpenConnectionAsync(ct));
        }
        finally
        {
            foreach (var conn in held)
                await conn.DisposeAsync();
        }
    }

    /// <summary>
    /// pgbench with one script per file (picked uniformly), the same clients and duration; throughput from its own
    /// report, latencies from its per-transaction log. <paramref name="mode"/> is its -M: extended (parsed and
    /// planned at every execution, like Npgsql's unprepared commands) or prepared (parsed once per connection, and
    /// planned once when PostgreSQL keeps a generic plan: the best PostgreSQL itself does with that SQL).
    /// </summary>
    public static async Task<LoadRun> PgbenchAsync(PgTools tools, IReadOnlyList<string> scripts, int clients, TimeSpan duration, CancellationToken ct,
        string mode = "extended")
    {
        // On a loaded machine many clients' connection set-up can use up a short run, leaving no transaction to
        // count: run again for longer rather than report nothing.
        for (var attempt = 1; ; attempt++)
        {
            var (run, output) = await PgbenchOnceAsync(tools, scripts, clients, duration, mode, ct);
            if (run is not null)
                return run;
            if (attempt == 4)
            {
                var error = output.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("FATAL", StringComparison.Ordinal));
                throw new BotStoreException($"pgbench completed no transaction in four runs of up to {duration.TotalSeconds:0} s with {clients} clients{(error is null ? "" : ": " + error.Trim())}");
            }
            duration *= 2;
        }
    }

    // How long pgbench took to open this many connections last time (its "initial connection time").
    private static readonly ConcurrentDictionary<int, double> ConnectSeconds = new();

    /// <summary>
    /// Seconds added to pgbench's -T for its connections: its clock starts before them (each a SCRAM exchange) and its
    /// rate excludes them, so they would eat into the measured run. Half as much again as the same number took last
    /// time, whole seconds, or none when that was under a quarter of the run (8 connections open in about 0.13 s: the
    /// rate is the same over a run up to a quarter shorter, and a whole second more doubled every pgbench side of
    /// --quick's 1 s runs); 1 + clients / 16 before any run, since on a loaded 2-core machine 64 connections once took more than
    /// 6 s to open. A fixed 6 s at 64 clients was most of bench all --quick's time (four pgbench sides of 1 s, 3 runs).
    /// </summary>
    private static int ConnectAllowance(int clients, TimeSpan duration) =>
        !ConnectSeconds.TryGetValue(clients, out var seconds) ? 1 + clients / 16
        : seconds < duration.TotalSeconds / 4 ? 0
        : Math.Max(1, (int)Math.Ceiling(1.5 * seconds));

    private static async Task<(LoadRun? Run, string Output)> PgbenchOnceAsync(PgTools tools, IReadOnlyList<string> scripts, int clients, TimeSpan duration,
        string mode, CancellationToken ct)
    {
        ClientCost.Settle(); // the bench process shares the cores with pgbench too
        var dir = Directory.CreateTempSubdirectory("botstore-pgbench-");
        try
        {
            var args = new List<string>
            {
                "-n", "-M", mode, "-c", clients.ToString(CultureInfo.InvariantCulture),
                "-j", Math.Min(clients, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture),
                "-T", (Math.Max(1, (int)Math.Round(duration.TotalSeconds)) + ConnectAllowance(clients, duration)).ToString(CultureInfo.InvariantCulture),
                "-l", "--log-prefix", Path.Combine(dir.FullName, "log"),
            };
            for (var i = 0; i < scripts.Count; i++)
            {
                var file = Path.Combine(dir.FullName, $"s{i}.sql");
                await File.WriteAllTextAsync(file, scripts[i] + "\n", ct);
                args.Add("-f");
                args.Add(file + "@1");
            }
            var result = await tools.RunAsync("pgbench", args, dir.FullName, ct);
            var connect = Regex.Match(result.Output, @"initial connection time = ([0-9.]+) ms");
            if (connect.Success)
                ConnectSeconds[clients] = double.Parse(connect.Groups[1].Value, CultureInfo.InvariantCulture) / 1000;
            var tps = Regex.Match(result.Output, @"tps = ([0-9.]+) \(without initial connection time\)");
            if (!tps.Success && Regex.IsMatch(result.Output, @"actually processed: 0\b|\(NaN%\)"))
                return (null, result.Output);
            if (!tps.Success)
                throw new BotStoreException($"pgbench printed no throughput: {result.Output.Split('\n').LastOrDefault(l => l.Length > 0)}");
            // Log lines: client_id transaction_no latency_us script_no epoch epoch_us.
            var latencies = new List<double>();
            foreach (var log in dir.EnumerateFiles("log.*"))
            {
                foreach (var line in await File.ReadAllLinesAsync(log.FullName, ct))
                {
                    var parts = line.Split(' ');
                    if (parts.Length >= 3 && double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var us))
                        latencies.Add(us);
                }
            }
            return (new LoadRun(double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture), latencies.ToArray()), result.Output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
