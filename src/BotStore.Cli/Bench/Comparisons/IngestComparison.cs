using System.Diagnostics;
using System.Globalization;
using System.Text;
using BotStore.Cli.Infrastructure;
using BotStore.Scale.Internal;

namespace BotStore.Cli.Bench.Comparisons;

/// <summary>
/// Bulk ingest of messages: loadgen's binary COPY path against psql's \copy of the same rows from CSV, into the
/// same indexed, partitioned table. The library's bulk ingest (COPY into staging, INSERT ... SELECT under
/// row-level security) gets its own comparison when it lands.
/// </summary>
internal sealed class IngestComparison : IComparison
{
    private const string Table = "bench_ingest";

    public string Name => "ingest";

    public string Description =>
        "N generated messages into bench_ingest, a partitioned copy of message_history with its indexes (primary key, session, unread, BRIN; " +
        "no foreign key on either side): BotStore's loadgen binary COPY (rows generated as they are sent) against psql \\copy of the same rows " +
        "from a CSV file written beforehand. Truncated and checkpointed before every run, the two alternating. Ratio = loadgen COPY / psql; " +
        "target ≥ 1.0x. This is NOT yet the library's bulk ingest (COPY into staging, INSERT ... SELECT under row-level security), which comes with its own comparison.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var shape = BenchOptions.LoadShape(context.Options.IngestRows, 9001, new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero));
        var plan = new DataPlan(shape, 0);
        var conversations = new ConversationGenerator(plan, new DirectoryGenerator(plan));
        IEnumerable<MessageRow> Rows() => conversations.MessagesOfDays(0, plan.Days);

        await CreateTableAsync(context, plan, ct);
        var csv = Path.Combine(Path.GetTempPath(), $"botstore-bench-ingest-{Environment.ProcessId}.csv");
        try
        {
            BenchContext.Say($"ingest: writing {shape.Messages:N0} rows to {csv}");
            await WriteCsvAsync(csv, Rows(), ct);
            var csvBytes = new FileInfo(csv).Length;
            var psqlStart = (await context.Tools.RunAsync("psql", ["-X", "-q", "-c", "SELECT 1"], Path.GetTempPath(), ct)).Elapsed;
            var (botstore, psql) = (new List<double>(), new List<double>());
            for (var run = 0; run < context.Options.Runs; run++)
            {
                BenchContext.Say($"ingest: run {run + 1}/{context.Options.Runs}");
                foreach (var usePsql in run % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    await context.ExecuteAsync($"TRUNCATE {Table}", ct);
                    await CheckpointAsync(context, ct);
                    var seconds = usePsql ? await PsqlAsync(context, csv, ct) : await CopyAsync(context, Rows(), ct);
                    var count = await context.ScalarAsync<long>($"SELECT count(*) FROM {Table}", ct);
                    if (count != shape.Messages)
                        throw new BotStoreException($"ingest wrote {count} rows, not {shape.Messages}");
                    (usePsql ? psql : botstore).Add(shape.Messages / seconds);
                }
            }
            return
            [
                new Figure(Name, $"ingest {Counts.Format(shape.Messages)} messages", "rows/s", "loadgen COPY", new Sample(botstore), "psql \\copy", new Sample(psql),
                    new Target(1.0, Better.Higher),
                    $"CSV {csvBytes / 1048576.0:0} MB; psql start-up and connection alone {psqlStart.TotalMilliseconds:0} ms (inside psql's time)"),
            ];
        }
        finally
        {
            File.Delete(csv);
            await context.ExecuteAsync($"DROP TABLE IF EXISTS {Table}", ct);
        }
    }

    private static async Task CreateTableAsync(BenchContext context, DataPlan plan, CancellationToken ct)
    {
        await context.ExecuteAsync($"DROP TABLE IF EXISTS {Table}", ct);
        await context.ExecuteAsync(
            $"CREATE TABLE {Table} (LIKE message_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)", ct);
        await context.ExecuteAsync($"CREATE INDEX ON {Table} (session_id, message_index)", ct);
        await context.ExecuteAsync($"CREATE INDEX ON {Table} (user_id, created_at) WHERE is_read = false", ct);
        await context.ExecuteAsync($"CREATE INDEX ON {Table} USING BRIN (created_at)", ct);
        await context.ExecuteAsync($"CREATE TABLE {Table}_default PARTITION OF {Table} DEFAULT", ct);
        var month = new DateTime(plan.Start.Year, plan.Start.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        for (; month < plan.Options.Until.UtcDateTime; month = month.AddMonths(1))
        {
            await context.ExecuteAsync(string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE {Table}_{month:yyyy_MM} PARTITION OF {Table} FOR VALUES FROM ('{month:yyyy-MM-dd}+00') TO ('{month.AddMonths(1):yyyy-MM-dd}+00')"), ct);
        }
    }

    private static async Task<double> CopyAsync(BenchContext context, IEnumerable<MessageRow> rows, CancellationToken ct)
    {
        await using var conn = await context.DataSource.OpenConnectionAsync(ct);
        var clock = Stopwatch.StartNew();
        await Copy.Messages.WriteAsync(conn, rows, ct, target: Table);
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> PsqlAsync(BenchContext context, string csv, CancellationToken ct)
    {
        var command = $"\\copy {Table} ({Copy.Messages.Columns}) FROM '{csv}' WITH (FORMAT csv)";
        return (await context.Tools.RunAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], Path.GetTempPath(), ct)).Elapsed.TotalSeconds;
    }

    private static async Task CheckpointAsync(BenchContext context, CancellationToken ct)
    {
        try
        {
            await context.ExecuteAsync("CHECKPOINT", ct);
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
        {
            // Without pg_checkpoint the runs still alternate; only the WAL state between them varies more.
        }
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
