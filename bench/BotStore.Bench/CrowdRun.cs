using System.Collections.Concurrent;
using System.Diagnostics;
using BotStore.Data;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// One run of a crowd of connected bot workers: how long the crowd took to connect, the calls it made (throughput and
/// latencies, as a <see cref="LoadRun"/>), every error, and how many of its connections were still open at the end.
/// </summary>
internal sealed record CrowdRun(int Clients, TimeSpan ConnectTime, long? ListenOverflows, LoadRun Load, long Errors, IReadOnlyList<string> FirstErrors, int? OpenAtEnd)
{
    private const int ErrorsKept = 5;

    /// <summary>
    /// <paramref name="clients"/> workers on <paramref name="dataSource"/> (a pool sized to the crowd, with as many
    /// connections kept when idle, so none is closed during the run): first the crowd connects, every connection
    /// opened at once and held until all are open (timed: the connect time); then each worker, one conversation of
    /// <paramref name="sessions"/> each (shared when there are fewer sessions than workers), appends a message and reads
    /// the latest page of its history through <paramref name="store"/>, back to back, for <paramref name="duration"/>
    /// after one untimed warm-up call of each kind. Every failed call or connection is counted, never thrown: a worker
    /// goes on after an error (after a pause, so a refused connection does not spin). <paramref name="openConnections"/>
    /// counts connections to the crowd's port: the count at the end of the run, less the count before the crowd connected.
    /// </summary>
    public static async Task<CrowdRun> RunAsync(NpgsqlDataSource dataSource, MessageStore store, IReadOnlyList<BenchSession> sessions, int clients,
        TimeSpan duration, Func<int?> openConnections, CancellationToken ct)
    {
        var errors = new ConcurrentQueue<string>();
        long errorCount = 0;
        void Fail(Exception ex)
        {
            if (Interlocked.Increment(ref errorCount) <= ErrorsKept)
                errors.Enqueue($"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
        }

        var before = openConnections();
        var overflows = ListenOverflowCount();
        var connecting = Stopwatch.StartNew();
        var connections = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            try
            {
                return await dataSource.OpenConnectionAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Fail(ex);
                return null;
            }
        }));
        var connectTime = connecting.Elapsed;
        overflows = ListenOverflowCount() - overflows;
        // Back to the pool, which keeps them open (its minimum is the crowd): the library's calls take them from there.
        foreach (var connection in connections)
        {
            if (connection is not null)
                await connection.DisposeAsync();
        }

        var ready = 0;
        var start = new TaskCompletionSource<Stopwatch>(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            BenchSession[] own = [sessions[i % sessions.Count]];
            Func<Task>? append = null, history = null;
            try
            {
                append = await ConversationClients.StoreAppend(store, own, i);
                history = await ConversationClients.StoreHistory(store, own, i);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Fail(ex);
            }
            if (Interlocked.Increment(ref ready) == clients)
                start.SetResult(Stopwatch.StartNew());
            var clock = await start.Task;
            var latencies = new List<double>();
            if (append is null || history is null)
                return latencies;
            var started = clock.Elapsed;
            for (var call = 0; started < duration && !ct.IsCancellationRequested; call++)
            {
                try
                {
                    await (call % 2 == 0 ? append() : history());
                    var done = clock.Elapsed;
                    latencies.Add((done - started).TotalMicroseconds);
                    started = done;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Fail(ex);
                    await Task.Delay(100, ct);
                    started = clock.Elapsed;
                }
            }
            return latencies;
        }, ct)).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToArray();
        var elapsed = (await start.Task).Elapsed;
        var open = openConnections() - before;
        return new CrowdRun(clients, connectTime, overflows, new LoadRun(all.Length / elapsed.TotalSeconds, all), errorCount, errors.ToArray(), open);
    }

    /// <summary>
    /// Established TCP connections from this machine to <paramref name="port"/> (the crowd's sockets, from /proc/net/tcp
    /// and tcp6), or null where there is no /proc.
    /// </summary>
    public static int? EstablishedTo(int port)
    {
        string[] tables = ["/proc/net/tcp", "/proc/net/tcp6"];
        if (!File.Exists(tables[0]))
            return null;
        var remote = $":{port:X4}";
        // Columns: sl local_address rem_address st ...; st 01 is ESTABLISHED.
        return tables.Where(File.Exists).SelectMany(t => File.ReadLines(t).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(c => c.Length > 3 && c[2].EndsWith(remote, StringComparison.Ordinal) && c[3] == "01");
    }

    /// <summary>
    /// The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows in
    /// /proc/net/netstat; for the whole machine), or null where there is none: a crowd connecting at once can overflow
    /// PgBouncer's listen_backlog (128 by default), and each dropped connection retries a second or more later.
    /// </summary>
    public static long? ListenOverflowCount()
    {
        const string netstat = "/proc/net/netstat";
        if (!File.Exists(netstat))
            return null;
        var lines = File.ReadAllLines(netstat);
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            var names = lines[i].Split(' ');
            var values = lines[i + 1].Split(' ');
            var at = Array.IndexOf(names, "ListenOverflows");
            if (names[0] == "TcpExt:" && at > 0 && at < values.Length)
                return long.Parse(values[at], System.Globalization.CultureInfo.InvariantCulture);
        }
        return null;
    }
}
