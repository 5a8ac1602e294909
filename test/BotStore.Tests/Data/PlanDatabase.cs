using System.Text.Json;
using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Tests.Data;

/// <summary>
/// A database with a realistic volume for query plans: 24 monthly partitions, 4 tenants, 800 bots (half of them
/// deactivated), 2 000 users, 20 000 sessions over the last two months and 200 000 messages (about a quarter
/// unread), loaded with binary COPY as the owner, then VACUUM ANALYZE.
/// </summary>
public sealed class PlanDatabase : IAsyncLifetime
{
    public const int Tenants = 4, BotsPerTenant = 200, UsersPerTenant = 500, SessionsPerUser = 10, MessagesPerSession = 10;

    private readonly TestDatabase _db = new();

    public TestDatabase Db => _db;

    public List<long> TenantIds { get; } = [];

    /// <summary>Every session: (tenant, id, user, created_at).</summary>
    public List<(long Tenant, Guid Id, Guid User, DateTimeOffset CreatedAt)> Sessions { get; } = [];

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        var monthStart = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero);
        // 24 monthly partitions: 20 months back, this month, and the three premade ahead.
        await _db.ExecuteAsync("SELECT botstore_create_partition('message_history', (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => m))::date) FROM generate_series(1, 20) m");

        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        var bots = new List<(long Tenant, Guid Id, bool Active)>();
        var users = new List<(long Tenant, Guid Id)>();
        for (var t = 0; t < Tenants; t++)
        {
            var (tenant, _) = await new TenantStore(_db.DataSource).CreateAsync($"plans-{t}");
            TenantIds.Add(tenant.Id);
            bots.AddRange(Enumerable.Range(0, BotsPerTenant).Select(i => (tenant.Id, Uuid7.At(now.AddDays(-90).AddMinutes(i)), i % 2 == 0)));
            users.AddRange(Enumerable.Range(0, UsersPerTenant).Select(i => (tenant.Id, Uuid7.At(now.AddDays(-90).AddMinutes(i)))));
        }
        // Sessions start anywhere in the last two months, never in the first hour of a month (a session's messages may be
        // an hour older than it, so such a session's reads rightly include the month before).
        var span = now - monthStart.AddMonths(-1) - TimeSpan.FromHours(12);
        foreach (var (tenant, user) in users)
        {
            for (var s = 0; s < SessionsPerUser; s++)
            {
                var at = monthStart.AddMonths(-1).AddTicks((long)(random.NextDouble() * span.Ticks));
                if (at.Day == 1 && at.Hour < 2)
                    at = at.AddHours(2);
                Sessions.Add((tenant, Uuid7.At(at), user, new DateTimeOffset(at.UtcTicks / 10 * 10, TimeSpan.Zero)));
            }
        }

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await CopyAsync(conn, "COPY bots (tenant_id, id, llm_provider, is_active, name) FROM STDIN (FORMAT BINARY)", bots, async (w, b) =>
        {
            await w.WriteAsync(b.Tenant, NpgsqlDbType.Bigint);
            await w.WriteAsync(b.Id, NpgsqlDbType.Uuid);
            await w.WriteAsync((short)LlmProvider.Anthropic, NpgsqlDbType.Smallint);
            await w.WriteAsync(b.Active, NpgsqlDbType.Boolean);
            await w.WriteAsync("bot", NpgsqlDbType.Text);
        });
        await CopyAsync(conn, "COPY users (tenant_id, id, external_id) FROM STDIN (FORMAT BINARY)", users, async (w, u) =>
        {
            await w.WriteAsync(u.Tenant, NpgsqlDbType.Bigint);
            await w.WriteAsync(u.Id, NpgsqlDbType.Uuid);
            await w.WriteAsync(u.Id.ToString(), NpgsqlDbType.Text);
        });
        var botOf = bots.GroupBy(b => b.Tenant).ToDictionary(g => g.Key, g => g.First(b => b.Active).Id);
        await CopyAsync(conn, """
            COPY user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, message_count, channel, title)
            FROM STDIN (FORMAT BINARY)
            """, Sessions, async (w, s) =>
        {
            await w.WriteAsync(s.Tenant, NpgsqlDbType.Bigint);
            await w.WriteAsync(s.CreatedAt, NpgsqlDbType.TimestampTz);
            await w.WriteAsync(s.CreatedAt.AddMinutes(MessagesPerSession * 3), NpgsqlDbType.TimestampTz);
            await w.WriteAsync(s.Id, NpgsqlDbType.Uuid);
            await w.WriteAsync(s.User, NpgsqlDbType.Uuid);
            await w.WriteAsync(botOf[s.Tenant], NpgsqlDbType.Uuid);
            await w.WriteAsync(MessagesPerSession, NpgsqlDbType.Integer);
            await w.WriteAsync((short)0, NpgsqlDbType.Smallint);
            await w.WriteAsync("a conversation", NpgsqlDbType.Text);
        });
        var messages = Sessions.SelectMany(s => Enumerable.Range(0, MessagesPerSession).Select(k => (s, k, Id: Uuid7.At(s.CreatedAt.AddMinutes(k * 3).AddSeconds(1)))));
        await CopyAsync(conn, """
            COPY message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content)
            FROM STDIN (FORMAT BINARY)
            """, messages, async (w, m) =>
        {
            await w.WriteAsync(m.s.Tenant, NpgsqlDbType.Bigint);
            await w.WriteAsync(Uuid7.Timestamp(m.Id), NpgsqlDbType.TimestampTz);
            await w.WriteAsync(m.Id, NpgsqlDbType.Uuid);
            await w.WriteAsync(m.s.Id, NpgsqlDbType.Uuid);
            await w.WriteAsync(m.s.User, NpgsqlDbType.Uuid);
            await w.WriteAsync(m.k, NpgsqlDbType.Integer);
            await w.WriteAsync(m.k % 2 == 0 ? (short)1 : (short)2, NpgsqlDbType.Smallint);
            await w.WriteAsync((short)0, NpgsqlDbType.Smallint);
            await w.WriteAsync(m.k % 2 == 0 || m.k < MessagesPerSession - 4, NpgsqlDbType.Boolean);
            await w.WriteAsync($"message {m.k} of a conversation about the weather and other small talk", NpgsqlDbType.Text);
        });
        await using (var vacuum = new NpgsqlCommand("VACUUM ANALYZE", conn))
        {
            vacuum.CommandTimeout = 300;
            await vacuum.ExecuteNonQueryAsync();
        }
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    /// <summary>EXPLAIN (ANALYZE, FORMAT JSON) of a store's statement, as the store runs it: scoped to the tenant, same arguments.</summary>
    public async Task<Plan> ExplainAsync(long tenantId, string sql, object?[] args)
    {
        await using var batch = TenantScope.Batch(_db.DataSource, tenantId).Add("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args);
        await using var reader = await batch.ReadAsync(default);
        await reader.ReadAsync();
        using var doc = JsonDocument.Parse(reader.GetString(0));
        var root = doc.RootElement[0].GetProperty("Plan").Clone();
        return new Plan(root, await IndexRootsAsync());
    }

    /// <summary>
    /// A new server connection of its own (not pooled), so the caller decides whether its catalog caches are cold
    /// and may change settings without leaking them to other tests.
    /// </summary>
    public async Task<NpgsqlConnection> OpenUnpooledAsync()
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>
    /// Runs a store's statement on <paramref name="conn"/> as the store does (scoped to the tenant) and returns the
    /// executed plans of the statements it ran, nested ones (inside functions) included, from auto_explain.
    /// </summary>
    public async Task<List<(string Query, Plan Plan)>> RunExplainedAsync(NpgsqlConnection conn, long tenantId, string sql, object?[] args)
    {
        await using (var setup = new NpgsqlCommand("""
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on;
            SET auto_explain.log_buffers = on; SET auto_explain.log_format = json; SET auto_explain.log_level = notice;
            SET client_min_messages = notice;
            """, conn))
            await setup.ExecuteNonQueryAsync();
        var notices = new List<string>();
        void Collect(object? sender, NpgsqlNoticeEventArgs e) => notices.Add(e.Notice.MessageText);
        conn.Notice += Collect;
        try
        {
            await using var batch = TenantScope.Batch(conn, tenantId).Add(sql, args);
            await using var reader = await batch.ReadAsync(default);
            while (await reader.ReadAsync())
            {
            }
        }
        finally
        {
            conn.Notice -= Collect;
            await using var off = new NpgsqlCommand("SET auto_explain.log_min_duration = -1", conn);
            await off.ExecuteNonQueryAsync();
        }
        var roots = await IndexRootsAsync();
        return notices.Where(n => n.Contains("plan:", StringComparison.Ordinal)).Select(n =>
        {
            using var doc = JsonDocument.Parse(n[(n.IndexOf("plan:", StringComparison.Ordinal) + 5)..]);
            return (doc.RootElement.GetProperty("Query Text").GetString()!, new Plan(doc.RootElement.GetProperty("Plan").Clone(), roots));
        }).ToList();
    }

    /// <summary>
    /// EXPLAIN (ANALYZE, BUFFERS) of a store's statement on <paramref name="conn"/>, scoped to the tenant: the shared
    /// buffers its planning touched, and those of planning and execution together (a function's inner statements
    /// are planned while it executes).
    /// </summary>
    public static async Task<(long Planning, long Total)> BuffersAsync(NpgsqlConnection conn, long tenantId, string sql, object?[] args, bool analyze = true)
    {
        await using var batch = TenantScope.Batch(conn, tenantId).Add($"EXPLAIN ({(analyze ? "ANALYZE, " : "")}BUFFERS, FORMAT JSON) " + sql, args);
        await using var reader = await batch.ReadAsync(default);
        await reader.ReadAsync();
        using var doc = JsonDocument.Parse(reader.GetString(0));
        static long Blocks(JsonElement e) => e.TryGetProperty("Shared Hit Blocks", out var hit) ? hit.GetInt64() + e.GetProperty("Shared Read Blocks").GetInt64() : 0;
        var planning = Blocks(doc.RootElement[0].GetProperty("Planning"));
        return (planning, planning + Blocks(doc.RootElement[0].GetProperty("Plan")));
    }

    /// <summary>Each partition's index name -> the partitioned index it belongs to (the name itself for plain tables).</summary>
    public async Task<Dictionary<string, string>> IndexRootsAsync()
    {
        await using var cmd = _db.DataSource.CreateCommand("""
            SELECT c.relname, coalesce(pg_partition_root(c.oid), c.oid)::regclass::text
            FROM pg_class c WHERE c.relkind IN ('i', 'I') AND c.relnamespace = 'public'::regnamespace
            """);
        var roots = new Dictionary<string, string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            roots[reader.GetString(0)] = reader.GetString(1);
        return roots;
    }

    private static async Task CopyAsync<T>(NpgsqlConnection conn, string copy, IEnumerable<T> rows, Func<NpgsqlBinaryImporter, T, Task> write)
    {
        await using var importer = await conn.BeginBinaryImportAsync(copy);
        foreach (var row in rows)
        {
            await importer.StartRowAsync();
            await write(importer, row);
        }
        await importer.CompleteAsync();
    }
}

/// <summary>An executed plan: its nodes, flattened.</summary>
public sealed class Plan(JsonElement root, IReadOnlyDictionary<string, string> indexRoots)
{
    public JsonElement Root { get; } = root;

    public IReadOnlyList<JsonElement> Nodes { get; } = Flatten(root).ToList();

    /// <summary>Scan nodes on a table or its partitions (relation names starting with <paramref name="table"/>).</summary>
    public IEnumerable<JsonElement> ScansOf(string table) => Nodes.Where(n =>
        n.TryGetProperty("Relation Name", out var r) && (r.GetString() == table || r.GetString()!.StartsWith(table + "_", StringComparison.Ordinal)));

    /// <summary>The partitioned (or plain) index a node's index belongs to.</summary>
    public string? IndexOf(JsonElement node) =>
        node.TryGetProperty("Index Name", out var i) ? indexRoots.GetValueOrDefault(i.GetString()!, i.GetString()!) : null;

    /// <summary>The index a node reads through, directly or through its bitmap index scan child.</summary>
    public string? AccessIndexOf(JsonElement node) => IndexOf(node)
        ?? (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Select(IndexOf).FirstOrDefault(i => i is not null) : null);

    public static bool Executed(JsonElement node) => node.GetProperty("Actual Loops").GetInt64() > 0;

    public override string ToString() => Root.ToString();

    private static IEnumerable<JsonElement> Flatten(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray().SelectMany(Flatten))
                yield return child;
    }
}
