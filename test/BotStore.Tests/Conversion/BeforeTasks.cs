using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using BotStore.Tooling.Conversion;
using Npgsql;

namespace BotStore.Tests.Conversion;

/// <summary>
/// A database that is not BotStore's, holding the design source's "before" <c>auto_tasks</c> (status, priority and
/// execution_mode as VARCHAR with its CHECK), a partial index on the open statuses and a view, with rows in every
/// status. Each test gets its own database.
/// </summary>
internal sealed class BeforeTasks : IAsyncDisposable
{
    public const string Ddl = """
        CREATE TABLE auto_tasks (
            id UUID PRIMARY KEY,
            status VARCHAR(50) NOT NULL DEFAULT 'pending',
            priority VARCHAR(20) NOT NULL DEFAULT 'normal',
            execution_mode VARCHAR(50) NOT NULL DEFAULT 'supervised',
            CONSTRAINT check_status CHECK (status IN ('pending', 'ready', 'running', 'paused', 'waiting_approval', 'completed', 'failed', 'cancelled'))
        );
        CREATE INDEX idx_tasks_active ON auto_tasks (status, priority) WHERE status NOT IN ('completed', 'failed', 'cancelled');
        CREATE VIEW open_tasks AS SELECT id, status, priority FROM auto_tasks WHERE status = 'pending' OR status IN ('ready', 'running');
        """;

    private BeforeTasks(string connectionString)
    {
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public EnumConverter Converter => new(DataSource);

    public static async Task<BeforeTasks> CreateAsync(long rows, string ddl = Ddl)
    {
        var db = new BeforeTasks(await TestCluster.CreateEmptyDatabaseAsync());
        await db.ExecAsync(ddl);
        if (rows > 0)
            await db.InsertAsync(1, rows);
        await db.ExecAsync("ANALYZE auto_tasks");
        return db;
    }

    /// <summary>Rows <paramref name="from"/>..<paramref name="to"/>, deterministic ids, every status, priority and mode.</summary>
    public Task InsertAsync(long from, long to) => ExecAsync($"""
        INSERT INTO auto_tasks (id, status, priority, execution_mode)
        SELECT md5(i::text)::uuid,
               (ARRAY['pending', 'ready', 'running', 'paused', 'waiting_approval', 'completed', 'failed', 'cancelled'])[1 + i % 8],
               (ARRAY['low', 'normal', 'high', 'urgent', 'critical'])[1 + i % 5],
               (ARRAY['manual', 'supervised', 'autonomous'])[1 + i % 3]
        FROM generate_series({from}, {to}) AS i
        """);

    public async Task ExecAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// auto_tasks' heap bytes per row once rewritten by VACUUM FULL with no dead row version left in it. VACUUM FULL
    /// keeps the versions some transaction of the server may still see: an autovacuum ANALYZE of the table, or the
    /// replication slot of a tenant move that another test runs at the same time (a slot holds the horizon for every
    /// database). One ./test.sh run measured a saving of -35 bytes a row, which such versions left in the rewritten
    /// table would explain. So it runs until pgstattuple finds none, for up to 30 s.
    /// </summary>
    public async Task<double> CompactedHeapBytesPerRowAsync()
    {
        await ExecAsync("CREATE EXTENSION IF NOT EXISTS pgstattuple");
        for (var attempt = 1; ; attempt++)
        {
            await ExecAsync("VACUUM FULL auto_tasks");
            var dead = await ScalarAsync<long>("SELECT dead_tuple_count FROM pgstattuple('auto_tasks')");
            if (dead == 0)
                return await ScalarAsync<long>("SELECT pg_relation_size('auto_tasks')") / (double)await ScalarAsync<long>("SELECT count(*) FROM auto_tasks");
            if (attempt == 30)
                throw new InvalidOperationException($"VACUUM FULL left {dead} dead row versions in auto_tasks for 30 s");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The catalog's mapping of a domain as a CASE over <paramref name="column"/>, written here from the catalog, not taken from the converter.</summary>
    public static string NumberOf(string domain, string column) =>
        $"CASE {column} {string.Concat(EnumCatalog.Named(domain).Entries.Select(e => $"WHEN '{e.Name}' THEN {e.Value} "))}END";

    /// <summary>The inverse: a number back to the catalog's name.</summary>
    public static string NameOf(string domain, string column) =>
        $"CASE {column} {string.Concat(EnumCatalog.Named(domain).Entries.Select(e => $"WHEN {e.Value} THEN '{e.Name}' "))}END";

    /// <summary>
    /// Everything that defines the table for its users: live columns (type, NOT NULL, default), constraints, indexes
    /// (validity included), views, triggers, the conversion schema, and a digest of the rows.
    /// </summary>
    public Task<string> SnapshotAsync() => ScalarAsync<string>("""
        SELECT concat_ws(E'\n',
          (SELECT string_agg(format('%s %s %s %s', attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(d.adbin, d.adrelid)), E'\n' ORDER BY attnum)
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = 'auto_tasks'::regclass AND attnum > 0 AND NOT attisdropped),
          (SELECT string_agg(format('%s %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'auto_tasks'::regclass),
          (SELECT string_agg(format('%s %s', pg_get_indexdef(indexrelid), indisvalid), E'\n' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'auto_tasks'::regclass),
          (SELECT string_agg(format('%s %s', viewname, definition), E'\n' ORDER BY viewname) FROM pg_views WHERE schemaname = 'public'),
          (SELECT string_agg(tgname, ',') FROM pg_trigger WHERE tgrelid = 'auto_tasks'::regclass AND NOT tgisinternal),
          (SELECT 'schema botstore_convert exists' FROM pg_namespace WHERE nspname = 'botstore_convert'),
          (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM auto_tasks t))
        """);

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestCluster.DropDatabaseAsync(ConnectionString);
    }
}
