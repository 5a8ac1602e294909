using System.Diagnostics;
using System.Globalization;
using System.Text;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tooling;
using BotStore.Tooling.LoadGeneration.Internal;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// The events half of <c>bench ingest</c>: the same number of analytics events (loadgen's names, channels and
/// properties, for the comparison's tenant, bot, user and sessions, a millisecond apart) by the library's
/// <see cref="AnalyticsStore.IngestAsync(long, IAsyncEnumerable{NewEvent}, int, CancellationToken)"/> against psql's
/// \copy of the same rows into analytics_events.
/// </summary>
internal sealed partial class IngestComparison
{
    private static async Task<Figure> EventsAsync(BenchContext context, DataPlan plan, long count, long tenant, int sessions, DateTimeOffset start,
        CancellationToken ct)
    {
        var rows = EventRows(plan, count, tenant, sessions, start).ToList();
        var csv = Path.Combine(Path.GetTempPath(), $"botstore-bench-ingest-events-{Environment.ProcessId}.csv");
        try
        {
            BenchContext.Say($"ingest: writing {count:N0} events to {csv}");
            await WriteEventsCsvAsync(csv, rows, ct);
            var store = new AnalyticsStore(context.DataSource);
            var events = rows.Select(r => new NewEvent(r.Name, (ChannelType)r.Channel)
            {
                Id = r.Id, BotId = r.BotId, UserId = r.UserId, SessionId = r.SessionId,
                Properties = r.Properties is null ? null : JsonElementOf(r.Properties),
            }).ToList();
            var sides = new Func<Task<double>>[]
            {
                async () => (await context.Tools.RunAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    $"\\copy analytics_events ({Copy.Events.Columns}) FROM '{csv}' WITH (FORMAT csv)"], Path.GetTempPath(), ct)).Elapsed.TotalSeconds,
                async () =>
                {
                    var clock = Stopwatch.StartNew();
                    await store.IngestAsync(tenant, Stream(events), ct: ct);
                    return clock.Elapsed.TotalSeconds;
                },
            };
            var rates = sides.Select(_ => new List<double>()).ToArray();
            for (var run = 0; run < context.Options.Runs; run++)
            {
                BenchContext.Say($"ingest: events run {run + 1}/{context.Options.Runs}");
                for (var k = 0; k < sides.Length; k++)
                {
                    var side = (k + run) % sides.Length;
                    await ResetEventsAsync(context, tenant, ct);
                    ClientCost.Settle();
                    var seconds = await sides[side]();
                    var stored = await context.ScalarAsync<long>("SELECT count(*) FROM analytics_events WHERE tenant_id = $1", ct, false, tenant);
                    if (stored != count)
                        throw new BotStoreException($"ingest wrote {stored} events, not {count}");
                    rates[side].Add(count / seconds);
                }
            }
            return new Figure("ingest", $"ingest {Counts.Format(count)} events", "rows/s", "library IngestAsync", new Sample(rates[1]), "psql \\copy",
                new Sample(rates[0]), new Target(1.0, Better.Higher), $"events CSV {new FileInfo(csv).Length / 1048576.0:0} MB");
        }
        finally
        {
            File.Delete(csv);
            await ResetEventsAsync(context, tenant, ct);
        }
    }

    // loadgen's events (as many as asked, its sessions' events over and over), remapped as the messages are.
    private static IEnumerable<EventRow> EventRows(DataPlan plan, long count, long tenant, int sessions, DateTimeOffset start)
    {
        var k = 0L;
        while (true)
        {
            var generator = new ConversationGenerator(plan, new DirectoryGenerator(plan));
            for (var day = 0; day < plan.Days; day++)
            {
                foreach (var session in generator.Sessions(day))
                {
                    var events = new List<EventRow>();
                    foreach (var _ in generator.Messages(session, events))
                    {
                    }
                    foreach (var e in events)
                    {
                        if (k == count)
                            yield break;
                        var at = start.AddMilliseconds(k);
                        yield return e with
                        {
                            TenantId = tenant, CreatedAt = at, Id = Uuid7.At(at), BotId = Bot, UserId = User,
                            SessionId = new Guid($"00000000-0000-7000-8000-{k % sessions + 1:x12}"),
                        };
                        k++;
                    }
                }
            }
        }
    }

    private static async Task ResetEventsAsync(BenchContext context, long tenant, CancellationToken ct)
    {
        await context.ExecuteAsync("DELETE FROM analytics_events WHERE tenant_id = $1", ct, tenant);
        await context.ExecuteAsync("VACUUM analytics_events", ct);
        await context.CheckpointAsync(ct);
    }

    private static async IAsyncEnumerable<NewEvent> Stream(IReadOnlyList<NewEvent> events)
    {
        foreach (var e in events)
            yield return e;
        await Task.CompletedTask;
    }

    private static async Task WriteEventsCsvAsync(string path, IEnumerable<EventRow> rows, CancellationToken ct)
    {
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var line = new StringBuilder();
        foreach (var r in rows)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{r.TenantId},{r.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}+00,{r.Id},{r.BotId},{r.UserId},{r.SessionId},{r.Channel},");
            Quoted(line, r.Name);
            line.Append(',');
            if (r.Properties is not null)
                Quoted(line, r.Properties);
            await writer.WriteLineAsync(line, ct);
        }
    }
}
