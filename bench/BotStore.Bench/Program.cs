// Benchmarks that need BotStore's internals (not tests: they print figures, they assert nothing).
//   ingest <database> [messages] [batch]      what bulk ingest costs step by step, against a multi-row INSERT
//   pgbench-scripts <folder> <tenant-id>      pgbench scripts running the stores' own append and history SQL
//   move <source> <target> [messages]         a tenant move under load: copy rows/s, catch-up, fence (1M: the figure)
using System.Globalization;
using BotStore;
using BotStore.Bench;
using BotStore.Data;
using BotStore.Schema;

switch (args)
{
    case ["ingest", var database, ..]:
    {
        var total = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50_000;
        var batchSize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5_000;
        await using var dataSource = ConnectionSettings.Default.CreateDataSource(database, "botstore-bench");
        await new MigrationRunner(dataSource).MigrateAsync();
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
        return 0;
    }
    case ["pgbench-scripts", var folder, var tenant]:
        PgBenchScripts.Write(folder, long.Parse(tenant, CultureInfo.InvariantCulture));
        return 0;
    case ["move", var sourceUrl, var targetUrl, ..]:
        await MoveBench.RunAsync(sourceUrl, targetUrl, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1_000_000);
        return 0;
    default:
        Console.Error.WriteLine("usage: BotStore.Bench ingest <database> [messages=50000] [batch=5000] | pgbench-scripts <folder> <tenant-id> | move <source> <target> [messages=1000000]");
        return 2;
}
