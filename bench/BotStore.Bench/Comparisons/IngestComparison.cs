using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tooling;
using BotStore.Tooling.LoadGeneration.Internal;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// Bulk ingest of messages into message_history itself (partitioned, every index and foreign key): the library's
/// <see cref="MessageStore.BulkAppendAsync(long, IAsyncEnumerable{NewMessage}, int, CancellationToken)"/> (the
/// path of the API's batch endpoint) against psql's \copy of the same rows from CSV; loadgen's binary COPY of the
/// same rows beside them, for reference.
/// </summary>
internal sealed partial class IngestComparison : IComparison
{
    private const int MessagesPerSession = 50;
    private static readonly Guid Bot = new("00000000-0000-7000-8000-0000000b0001");
    private static readonly Guid User = new("00000000-0000-7000-8000-0000000b0002");

    public string Name => "ingest";

    public string Description =>
        "N generated messages (loadgen's content, roles and types) into message_history itself (monthly partitions, primary key, session, " +
        $"unread and BRIN indexes, foreign key to user_sessions), for a tenant of its own with {MessagesPerSession} messages per session, " +
        "timestamps in the last hours. BotStore = the library's MessageStore.BulkAppendAsync (the API's batch path: per batch of " +
        $"{MessageStore.DefaultBulkBatchSize}, one transaction: as botstore_app under row-level security, lock the batch's sessions and probe which ids are " +
        "stored; in the library, skip those, number the rest from the locked counters and check every rule; binary COPY of the formed rows straight " +
        "into message_history (the bench's login role may COPY under row-level security, and set session_replication_role: the foreign key " +
        "to the session is checked once per session by the batch's lock, not once per row as psql's COPY checks it); one UPDATE of the counters as botstore_app; the NewMessage objects, metadata parsed, built beforehand). psql = \\copy of the same rows, their " +
        "indexes and user ids written out, from a CSV file written beforehand (start-up and connection inside its time). loadgen COPY = " +
        "binary COPY of the same rows straight into message_history (reference, no target; its rows generated beforehand). Every side's input " +
        "is ready before its clock starts, as psql's file is. The tenant's messages are deleted, its sessions " +
        "reset, the tables vacuumed and checkpointed before every run, the sides' order turning. Ratio = side / psql; target ≥ 1.0x for the library. " +
        "Events: as many analytics events (loadgen's names, channels and properties, a millisecond apart, over the same sessions) by the library's " +
        "AnalyticsStore.IngestAsync (per batch: probe as botstore_app which ids are stored, binary COPY of the new ones straight into analytics_events) " +
        "against psql \\copy of the same rows from CSV into analytics_events; the tenant's events deleted, the table vacuumed and checkpointed before every run.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var shape = BenchOptions.LoadShape(context.Options.IngestRows, 9001, new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero));
        var plan = new DataPlan(shape, 0);
        var sessions = (int)Math.Max(1, (shape.Messages + MessagesPerSession - 1) / MessagesPerSession);
        // Whole milliseconds: created_at must equal the UUIDv7's time.
        var start = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds());
        var tenant = await CreateTenantAsync(context, sessions, start, ct);
        IEnumerable<MessageRow> Rows() => Remap(new ConversationGenerator(plan, new DirectoryGenerator(plan)).MessagesOfDays(0, plan.Days)
            .Take((int)shape.Messages), tenant, sessions, start);

        var csv = Path.Combine(Path.GetTempPath(), $"botstore-bench-ingest-{Environment.ProcessId}.csv");
        try
        {
            BenchContext.Say($"ingest: writing {shape.Messages:N0} rows to {csv}");
            await WriteCsvAsync(csv, Rows(), ct);
            var csvBytes = new FileInfo(csv).Length;
            var psqlStart = (await context.Tools.RunAsync("psql", ["-X", "-q", "-c", "SELECT 1"], Path.GetTempPath(), ct)).Elapsed;
            var store = new MessageStore(context.DataSource);
            var rows = Rows().ToList();
            var messages = Messages(rows);
            var libraryCost = new ClientCost();
            var sides = new Func<Task<double>>[]
            {
                () => PsqlAsync(context, csv, ct),
                () => LibraryAsync(store, tenant, messages, libraryCost, ct),
                () => CopyAsync(context, rows, ct),
            };
            var rates = sides.Select(_ => new List<double>()).ToArray();
            for (var run = 0; run < context.Options.Runs; run++)
            {
                BenchContext.Say($"ingest: run {run + 1}/{context.Options.Runs}");
                for (var k = 0; k < sides.Length; k++)
                {
                    var side = (k + run) % sides.Length;
                    await ResetAsync(context, tenant, ct);
                    ClientCost.Settle();
                    var seconds = await sides[side]();
                    var count = await context.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", ct, false, tenant);
                    if (count != shape.Messages)
                        throw new BotStoreException($"ingest wrote {count} rows, not {shape.Messages}");
                    rates[side].Add(shape.Messages / seconds);
                }
            }
            var what = $"ingest {Counts.Format(shape.Messages)} messages";
            await ResetAsync(context, tenant, ct);
            var events = await EventsAsync(context, plan, shape.Messages, tenant, sessions, start, ct);
            return
            [
                new Figure(Name, what, "rows/s", "library BulkAppendAsync", new Sample(rates[1]), "psql \\copy", new Sample(rates[0]),
                    new Target(1.0, Better.Higher),
                    $"CSV {csvBytes / 1048576.0:0} MB; psql start-up and connection alone {psqlStart.TotalMilliseconds:0} ms (inside psql's time); " +
                    $"the bench process during the library's runs (its CPU is taken from the machine's two cores): {libraryCost}"),
                new Figure(Name, what, "rows/s", "loadgen COPY (reference)", new Sample(rates[2]), "psql \\copy", new Sample(rates[0]),
                    Note: "binary COPY straight into message_history: no id, index or time-bound checks, session counters untouched"),
                events,
            ];
        }
        finally
        {
            File.Delete(csv);
            await ResetAsync(context, tenant, ct);
        }
    }

    // A tenant of the comparison's own, one bot, one user and its sessions, all started just before the first message.
    private static async Task<long> CreateTenantAsync(BenchContext context, int sessions, DateTimeOffset start, CancellationToken ct)
    {
        var (tenant, _) = await new TenantStore(context.DataSource).CreateAsync($"bench-ingest-{Guid.NewGuid():N}", ct);
        await context.ScalarAsync<int>("SELECT count(*)::int FROM botstore_premake_partitions(($1 AT TIME ZONE 'UTC')::date)", ct, false, start);
        await context.ExecuteAsync("INSERT INTO bots (tenant_id, id, llm_provider, name) VALUES ($1, $2, 1, 'bench-ingest')", ct, tenant.Id, Bot);
        await context.ExecuteAsync("INSERT INTO users (tenant_id, id, external_id) VALUES ($1, $2, 'bench-ingest')", ct, tenant.Id, User);
        await context.ExecuteAsync("""
            INSERT INTO user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, channel)
            SELECT $1, $2, $2, ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, $3, $4, 0 FROM generate_series(1, $5) n
            """, ct, tenant.Id, start.AddMinutes(-1), User, Bot, sessions);
        return tenant.Id;
    }

    // Session k of message k mod the session count, a millisecond apart: every session's messages in time and index order.
    private static IEnumerable<MessageRow> Remap(IEnumerable<MessageRow> rows, long tenant, int sessions, DateTimeOffset start)
    {
        var k = 0;
        foreach (var r in rows)
        {
            var at = start.AddMilliseconds(k);
            var session = new Guid($"00000000-0000-7000-8000-{k % sessions + 1:x12}");
            yield return r with
            {
                TenantId = tenant, CreatedAt = at, Id = Uuid7.At(at), SessionId = session, UserId = User,
                MessageIndex = k / sessions, IsRead = r.Role == (short)MessageRole.User,
            };
            k++;
        }
    }

    private static async Task ResetAsync(BenchContext context, long tenant, CancellationToken ct)
    {
        await context.ExecuteAsync("DELETE FROM message_history WHERE tenant_id = $1", ct, tenant);
        await context.ExecuteAsync("UPDATE user_sessions SET message_count = 0, last_activity_at = created_at WHERE tenant_id = $1", ct, tenant);
        await context.ExecuteAsync("VACUUM message_history, user_sessions", ct);
        await context.CheckpointAsync(ct);
    }

    private static async Task<double> LibraryAsync(MessageStore store, long tenant, IReadOnlyList<NewMessage> messages, ClientCost cost, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using (cost.Measure())
            await store.BulkAppendAsync(tenant, Stream(messages), ct: ct);
        return clock.Elapsed.TotalSeconds;
    }

    // As the API hands them over: a stream the library cuts into batches.
    private static async IAsyncEnumerable<NewMessage> Stream(IReadOnlyList<NewMessage> messages)
    {
        foreach (var m in messages)
            yield return m;
        await Task.CompletedTask;
    }

    // The library numbers the messages itself: the rows' indexes are what it gives them.
    private static List<NewMessage> Messages(IEnumerable<MessageRow> rows) => rows.Select(r => new NewMessage(r.SessionId, (MessageRole)r.Role, r.Content)
    {
        Id = r.Id,
        MessageType = (MessageType)r.MessageType,
        Metadata = r.Metadata is null ? null : JsonElementOf(r.Metadata),
    }).ToList();

    private static JsonElement JsonElementOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static async Task<double> CopyAsync(BenchContext context, IEnumerable<MessageRow> rows, CancellationToken ct)
    {
        await using var conn = await context.DataSource.OpenConnectionAsync(ct);
        var clock = Stopwatch.StartNew();
        await Copy.Messages.WriteAsync(conn, rows, ct);
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> PsqlAsync(BenchContext context, string csv, CancellationToken ct)
    {
        var command = $"\\copy message_history ({Copy.Messages.Columns}) FROM '{csv}' WITH (FORMAT csv)";
        return (await context.Tools.RunAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], Path.GetTempPath(), ct)).Elapsed.TotalSeconds;
    }

    private static async Task WriteCsvAsync(string path, IEnumerable<MessageRow> rows, CancellationToken ct)
    {
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var line = new StringBuilder();
        foreach (var r in rows)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{r.TenantId},{r.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}+00,{r.Id},{r.SessionId},{r.UserId},");
            line.Append(CultureInfo.InvariantCulture, $"{r.MessageIndex},{r.Role},{r.MessageType},{(r.IsRead ? 't' : 'f')},");
            Quoted(line, r.Content);
            line.Append(',');
            if (r.Metadata is not null)
                Quoted(line, r.Metadata);
            await writer.WriteLineAsync(line, ct);
        }
    }

    private static void Quoted(StringBuilder line, string value) => line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
}
