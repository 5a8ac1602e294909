using System.Diagnostics;
using System.Globalization;
using System.Text;
using BotStore;
using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Enums;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Bench;

/// <summary>Bulk ingest, step by step, against a multi-row INSERT and single appends.</summary>
internal sealed class IngestBench(NpgsqlDataSource dataSource, long tenantId, Guid userId, Guid[] sessions, int batchSize)
{
    private static readonly string Content = new('x', 120);
    private readonly MessageStore _messages = new(dataSource);
    private readonly AnalyticsStore _events = new(dataSource);

    /// <summary>A tenant of its own with <paramref name="sessionCount"/> sessions, which the rows visit in turn.</summary>
    public static async Task<IngestBench> CreateAsync(NpgsqlDataSource dataSource, int batchSize, int sessionCount)
    {
        var (tenant, _) = await new TenantStore(dataSource).CreateAsync($"bench-{Guid.NewGuid():N}"[..20]);
        var bot = await new BotRegistry(dataSource).CreateAsync(tenant.Id, "bench", LlmProvider.Anthropic);
        var user = await new UserStore(dataSource).CreateAsync(tenant.Id, "bench-user");
        var sessions = Enumerable.Range(0, sessionCount).Select(_ => Uuid7.New()).ToArray();
        await using (var insert = dataSource.CreateCommand("""
            INSERT INTO user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, channel)
            SELECT $1, now(), now(), s, $3, $4, 0 FROM unnest($2::uuid[]) s
            """))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = tenant.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = sessions });
            insert.Parameters.Add(new NpgsqlParameter { Value = user.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = bot.Id });
            await insert.ExecuteNonQueryAsync();
        }
        return new IngestBench(dataSource, tenant.Id, user.Id, sessions, batchSize);
    }

    public List<NewMessage> Messages(int count) =>
        Enumerable.Range(0, count).Select(i => new NewMessage(sessions[i % sessions.Length], i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, Content) { Id = Uuid7.New() }).ToList();

    public List<NewEvent> Events(int count) =>
        Enumerable.Range(0, count).Select(i => new NewEvent("message_sent", ChannelType.Web) { Id = Uuid7.New(), SessionId = sessions[i % sessions.Length], UserId = userId }).ToList();

    public Task BulkAppendAsync(int count) => _messages.BulkAppendAsync(tenantId, Messages(count));

    public Task IngestEventsAsync(int count) => _events.IngestAsync(tenantId, Events(count));

    public async Task SingleAppendsAsync(int count)
    {
        foreach (var m in Messages(count))
            await _messages.AppendAsync(tenantId, m);
    }

    /// <summary>Runs <paramref name="batch"/> over the rows in batches and prints the median batch time and the rate.</summary>
    public async Task RunAsync(string name, int rows, Func<int, Task> batch)
    {
        await batch(Math.Min(batchSize, 500)); // warm-up
        var times = new List<double>();
        var all = Stopwatch.StartNew();
        for (var done = 0; done < rows; done += batchSize)
        {
            var one = Stopwatch.StartNew();
            await batch(Math.Min(batchSize, rows - done));
            times.Add(one.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Median(times):F1} | {rows / all.Elapsed.TotalSeconds:N0} | |"));
    }

    /// <summary>
    /// The direct-COPY path taken apart (<paramref name="timed"/> runs one batch with its steps timed): each step's
    /// median wall time per batch and the client's CPU time in it.
    /// </summary>
    public async Task RunDirectStepsAsync<T>(string name, int rows, Func<int, List<T>> make,
        Func<NpgsqlDataSource, long, List<T>, BatchLaps, CancellationToken, Task<int>> timed)
    {
        await timed(dataSource, tenantId, make(Math.Min(batchSize, 500)), new BatchLaps(), CancellationToken.None); // warm-up
        var laps = new BatchLaps();
        var wall = TimeSpan.Zero;
        for (var done = 0; done < rows; done += batchSize)
        {
            var batch = make(Math.Min(batchSize, rows - done));
            var one = Stopwatch.StartNew();
            await timed(dataSource, tenantId, batch, laps, CancellationToken.None);
            wall += one.Elapsed;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name}: direct COPY, steps timed | {wall.TotalMilliseconds / Math.Ceiling(rows / (double)batchSize):F1} | {rows / wall.TotalSeconds:N0} | |"));
        foreach (var (step, times) in laps.Steps)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name}, direct step: {step} | {Median(times.Wall):F1} | | {Median(times.Cpu):F1} |"));
    }

    /// <summary>The COPY path taken apart: each step's median time per batch.</summary>
    public async Task RunStepsAsync<T>(string name, int rows, BulkCopy.TempTable<T> table, Func<int, List<T>> make)
    {
        var steps = new Dictionary<string, List<double>> { ["scope + CREATE TEMP TABLE"] = [], ["binary COPY into it"] = [], ["INSERT ... SELECT (messages: after locking the sessions)"] = [], ["COMMIT"] = [] };
        for (var done = 0; done < rows; done += batchSize)
        {
            var batch = make(Math.Min(batchSize, rows - done));
            await using var conn = await dataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            var clock = Stopwatch.StartNew();
            await using (var b = TenantScope.Batch(conn, tenantId).Add(table.CreateSql))
                await b.ExecuteNonQueryAsync();
            Lap(steps["scope + CREATE TEMP TABLE"], clock);
            await BulkCopy.CopyAsync(conn, table.CopySql, batch, table.Write, CancellationToken.None);
            Lap(steps["binary COPY into it"], clock);
            var moving = TenantScope.Batch(conn, tenantId);
            foreach (var sql in table.MoveSql)
                moving.Add(sql, tenantId);
            await using (moving)
                await moving.ExecuteNonQueryAsync();
            Lap(steps["INSERT ... SELECT (messages: after locking the sessions)"], clock);
            await tx.CommitAsync();
            Lap(steps["COMMIT"], clock);
        }
        foreach (var (step, times) in steps)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name}, step: {step} | {Median(times):F1} | | |"));
    }

    /// <summary>The multi-row INSERT a client would otherwise send: lock the sessions, number the rows itself, insert, bump the counters.</summary>
    public async Task MultiRowInsertAsync(int count)
    {
        var batch = Messages(count);
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await TenantScope.ApplyAsync(conn, tenantId, default);
        var next = new Dictionary<Guid, int>();
        await using (var lockCmd = new NpgsqlCommand("SELECT id, message_count FROM user_sessions WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id FOR NO KEY UPDATE", conn))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            lockCmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.SessionId).Distinct().ToArray() });
            await using var reader = await lockCmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                next[reader.GetGuid(0)] = reader.GetInt32(1);
        }
        // At most 5,000 rows a statement: a statement takes at most 65,535 parameters.
        foreach (var chunk in batch.Chunk(5_000))
        {
            var sql = new StringBuilder("INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content) VALUES ");
            await using var insert = new NpgsqlCommand { Connection = conn };
            insert.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = userId });
            insert.Parameters.Add(new NpgsqlParameter { Value = Content });
            for (var i = 0; i < chunk.Length; i++)
            {
                var m = chunk[i];
                var p = insert.Parameters.Count;
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"($1,${p + 1},${p + 2},${p + 3},$2,${p + 4},${p + 5},0,${p + 5}=1,$3)");
                insert.Parameters.Add(new NpgsqlParameter { Value = Uuid7.Timestamp(m.Id!.Value) });
                insert.Parameters.Add(new NpgsqlParameter { Value = m.Id.Value });
                insert.Parameters.Add(new NpgsqlParameter { Value = m.SessionId });
                insert.Parameters.Add(new NpgsqlParameter { Value = next[m.SessionId]++ });
                insert.Parameters.Add(new NpgsqlParameter { Value = (short)m.Role });
            }
            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync();
        }
        await using (var bump = new NpgsqlCommand("""
            UPDATE user_sessions s SET message_count = n.count, last_activity_at = greatest(s.last_activity_at, now())
            FROM unnest($2::uuid[], $3::int[]) AS n(id, count) WHERE s.tenant_id = $1 AND s.id = n.id
            """, conn))
        {
            bump.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            bump.Parameters.Add(new NpgsqlParameter { Value = next.Keys.ToArray() });
            bump.Parameters.Add(new NpgsqlParameter { Value = next.Values.ToArray() });
            await bump.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    public async Task MultiRowEventsAsync(int count)
    {
        var batch = Events(count);
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await TenantScope.ApplyAsync(conn, tenantId, default);
        foreach (var chunk in batch.Chunk(5_000))
        {
            var sql = new StringBuilder("INSERT INTO analytics_events (tenant_id, created_at, id, user_id, session_id, channel, name) VALUES ");
            await using var insert = new NpgsqlCommand { Connection = conn };
            insert.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = userId });
            insert.Parameters.Add(new NpgsqlParameter { Value = "message_sent" });
            for (var i = 0; i < chunk.Length; i++)
            {
                var p = insert.Parameters.Count;
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"($1,${p + 1},${p + 2},$2,${p + 3},0,$3)");
                insert.Parameters.Add(new NpgsqlParameter { Value = Uuid7.Timestamp(chunk[i].Id!.Value) });
                insert.Parameters.Add(new NpgsqlParameter { Value = chunk[i].Id!.Value });
                insert.Parameters.Add(new NpgsqlParameter { Value = chunk[i].SessionId!.Value });
            }
            insert.CommandText = sql.ToString() + " ON CONFLICT (tenant_id, id, created_at) DO NOTHING";
            await insert.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static void Lap(List<double> times, Stopwatch clock)
    {
        times.Add(clock.Elapsed.TotalMilliseconds);
        clock.Restart();
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
