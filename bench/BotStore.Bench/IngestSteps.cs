using BotStore.Data;
using BotStore.Schema;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// <c>botstore bench ingest-steps</c>: what bulk ingest costs step by step (create the temporary table, COPY, lock
/// the sessions, insert), against a multi-row INSERT and single appends, as one markdown table. Works in the database
/// it is given (migrated first, a tenant of its own added), unlike the suite's comparisons, which use a scratch one.
/// </summary>
internal static class IngestSteps
{
    public static async Task RunAsync(NpgsqlDataSource dataSource, int total, int batchSize, CancellationToken ct)
    {
        await new MigrationRunner(dataSource).MigrateAsync(ct);
        var bench = await IngestBench.CreateAsync(dataSource, batchSize);
        Console.WriteLine($"| {total:N0} rows in batches of {batchSize:N0} (100 sessions) | ms per batch (median) | rows/s |");
        Console.WriteLine("|---|---:|---:|");
        await bench.RunAsync("messages: BulkAppendAsync (direct COPY when the login role may COPY under RLS, else temp table + INSERT ... SELECT)", total, bench.BulkAppendAsync);
        await bench.RunStepsAsync("messages", total, MessageStore.CreateIncomingSql, MessageStore.CopyIncomingSql, bench.WriteMessageAsync, bench.Messages,
            [MessageStore.LockIncomingSessionsSql, MessageStore.BulkInsertSql]);
        await bench.RunAsync("messages: plain multi-row INSERT ... VALUES (indexes numbered by the client, no checks)", total, bench.MultiRowInsertAsync);
        await bench.RunAsync("messages: one AppendAsync per message, one client", Math.Min(total, 3 * batchSize), bench.SingleAppendsAsync);
        await bench.RunAsync("events: IngestAsync (direct COPY when the login role may, else temp table + INSERT ... SELECT)", total, bench.IngestEventsAsync);
        await bench.RunStepsAsync("events", total, AnalyticsStore.CreateIncomingSql, AnalyticsStore.CopyIncomingSql, bench.WriteEventAsync, bench.Events,
            [AnalyticsStore.InsertSql]);
        await bench.RunAsync("events: plain multi-row INSERT ... VALUES", total, bench.MultiRowEventsAsync);
    }
}
