using BotStore.Data;
using BotStore.Data.Internal;
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
    public static async Task RunAsync(NpgsqlDataSource dataSource, int total, int batchSize, int sessions, CancellationToken ct)
    {
        await new MigrationRunner(dataSource).MigrateAsync(ct);
        var bench = await IngestBench.CreateAsync(dataSource, batchSize, sessions);
        var direct = (await DirectCopy.RightsAsync(dataSource)).Copy;
        Console.WriteLine($"| {total:N0} rows in batches of {batchSize:N0} ({sessions:N0} sessions, in turn) | ms per batch (median) | rows/s | client CPU ms per batch (median) |");
        Console.WriteLine("|---|---:|---:|---:|");
        await bench.RunAsync("messages: BulkAppendAsync (direct COPY when the login role may COPY under RLS, else temp table + INSERT ... SELECT)", total, bench.BulkAppendAsync);
        if (direct)
            await bench.RunDirectStepsAsync("messages", total, bench.Messages, MessageStore.TimedBatchAsync);
        await bench.RunStepsAsync("messages", total, MessageStore.IncomingTable, bench.Messages);
        await bench.RunAsync("messages: plain multi-row INSERT ... VALUES (indexes numbered by the client, no checks)", total, bench.MultiRowInsertAsync);
        await bench.RunAsync("messages: one AppendAsync per message, one client", Math.Min(total, 5_000), bench.SingleAppendsAsync);
        await bench.RunAsync("events: IngestAsync (direct COPY when the login role may, else temp table + INSERT ... SELECT)", total, bench.IngestEventsAsync);
        if (direct)
            await bench.RunDirectStepsAsync("events", total, bench.Events, AnalyticsStore.TimedBatchAsync);
        await bench.RunStepsAsync("events", total, AnalyticsStore.IncomingTable, bench.Events);
        await bench.RunAsync("events: plain multi-row INSERT ... VALUES", total, bench.MultiRowEventsAsync);
    }
}
