using BotStore.Tooling.StorageAudit;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Scale;

/// <summary>The audit on a database that is not BotStore's: a fixture of orders with two enum-like columns and a badly ordered table.</summary>
public sealed class StorageAuditTests : IAsyncLifetime
{
    private string _connectionString = "";
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestCluster.CreateEmptyDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_connectionString);
        await ExecuteAsync("""
            CREATE TABLE orders (
                id          BIGINT PRIMARY KEY,
                paid        BOOLEAN NOT NULL,
                status      VARCHAR(50) NOT NULL,
                channel     TEXT,
                customer    TEXT NOT NULL,
                amount      NUMERIC(12, 2) NOT NULL,
                note        TEXT,
                created_at  TIMESTAMPTZ NOT NULL
            );
            INSERT INTO orders
            SELECT i, i % 3 = 0,
                   (ARRAY['pending', 'processing', 'shipped', 'delivered', 'cancelled', 'waiting_payment'])[1 + i % 6],
                   CASE WHEN i % 10 = 0 THEN NULL ELSE (ARRAY['web', 'mobile', 'phone', 'partner'])[1 + i % 4] END,
                   'customer-' || i, i * 1.5, md5(i::text), '2025-01-01'::timestamptz + i * interval '1 minute'
            FROM generate_series(1, 5000) AS i;

            CREATE TABLE padded (flag BOOLEAN NOT NULL, ts TIMESTAMPTZ NOT NULL, small SMALLINT NOT NULL, big BIGINT NOT NULL, n INTEGER NOT NULL);
            INSERT INTO padded SELECT i % 2 = 0, now(), i % 100, i, i FROM generate_series(1, 5000) AS i;

            CREATE TABLE tiny (kind TEXT NOT NULL);
            INSERT INTO tiny SELECT (ARRAY['a_kind', 'b_kind'])[1 + i % 2] FROM generate_series(1, 50) AS i;
            ANALYZE;
            """);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await TestCluster.DropDatabaseAsync(_connectionString);
    }

    [Fact]
    public async Task It_finds_exactly_the_enum_like_columns_and_its_savings_match_a_converted_copy()
    {
        var report = await new StorageAudit(_dataSource).RunAsync();

        Assert.Equal(["channel", "status"], report.EnumLikeColumns.Select(c => c.Column).Order());
        Assert.All(report.EnumLikeColumns, c => Assert.Equal("public.orders", c.Table));
        var status = report.EnumLikeColumns.Single(c => c.Column == "status");
        var channel = report.EnumLikeColumns.Single(c => c.Column == "channel");
        Assert.Equal(["cancelled", "delivered", "pending", "processing", "shipped", "waiting_payment"], status.Values);
        Assert.Equal(5000, status.SampledRows);
        Assert.Equal(4, channel.DistinctValues);

        // Direct measurement: the column's own bytes, and whole stored rows of the table and of a copy with the column as SMALLINT.
        Assert.Equal(await ScalarAsync("SELECT avg(pg_column_size(status))::float8 FROM orders"), status.BytesNow, 6);
        Assert.Equal(await ScalarAsync("SELECT avg(COALESCE(pg_column_size(channel), 0))::float8 FROM orders"), channel.BytesNow, 6);
        Assert.Equal(2 * 0.9, channel.BytesAsSmallint, 6);
        await ExecuteAsync("""
            CREATE TABLE orders_status_smallint AS
            SELECT id, paid, (dense_rank() OVER (ORDER BY status))::smallint AS status, channel, customer, amount, note, created_at FROM orders
            """);
        var tupleNow = await ScalarAsync("SELECT avg(4 + (pg_column_size(t.*) + 7) / 8 * 8)::float8 FROM orders t");
        var tupleConverted = await ScalarAsync("SELECT avg(4 + (pg_column_size(t.*) + 7) / 8 * 8)::float8 FROM orders_status_smallint t");
        Assert.Equal(tupleNow, status.TupleBytesNow, 6);
        Assert.Equal(tupleNow - tupleConverted, status.SavingPerRow, 6);
        Assert.True(status.SavingPerRow > 0);

        // And on disk: the heap of the converted copy is smaller by about the predicted bytes per row (pages round it).
        await ExecuteAsync("CREATE TABLE orders_copy AS SELECT * FROM orders");
        var heapSaving = (await ScalarAsync("SELECT pg_relation_size('orders_copy')::float8") - await ScalarAsync("SELECT pg_relation_size('orders_status_smallint')::float8")) / 5000;
        Assert.InRange(heapSaving, status.SavingPerRow * 0.75 - 1, status.SavingPerRow * 1.25 + 1);

        var together = Assert.Single(report.EnumLikeTables);
        Assert.Equal(["status", "channel"], together.Columns);
        Assert.True(together.SavingPerRow >= status.SavingPerRow);
    }

    [Fact]
    public async Task It_measures_padding_and_the_reordered_table_is_as_small_as_it_says()
    {
        var report = await new StorageAudit(_dataSource).RunAsync(new StorageAuditOptions { Table = "padded" });

        var finding = Assert.Single(report.Padding);
        // Header 24 + data 36 (1, pad 7, 8, 2, pad 6, 8, 4) = 60 -> 64, + 4 line pointer; reordered 24 + 23 = 47 -> 48, + 4.
        Assert.Equal(68, finding.TupleBytesNow, 6);
        Assert.Equal(52, finding.TupleBytesReordered, 6);
        Assert.Equal(["ts", "big", "n", "small", "flag"], finding.SuggestedOrder);

        await ExecuteAsync($"CREATE TABLE padded_reordered AS SELECT {string.Join(", ", finding.SuggestedOrder)} FROM padded");
        Assert.Equal(finding.TupleBytesReordered, await ScalarAsync("SELECT avg(4 + (pg_column_size(t.*) + 7) / 8 * 8)::float8 FROM padded_reordered t"), 6);
        Assert.True(await ScalarAsync("SELECT pg_relation_size('padded_reordered')::float8") < await ScalarAsync("SELECT pg_relation_size('padded')::float8"));
    }

    [Fact]
    public async Task Small_tables_are_skipped_and_the_audit_verb_prints_json()
    {
        var report = await new StorageAudit(_dataSource).RunAsync();
        Assert.DoesNotContain(report.EnumLikeColumns, c => c.Table == "public.tiny");

        var result = await Infrastructure.Cli.RunAsync(["audit", "storage", "--database", _connectionString, "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("\"column\": \"status\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"table\": \"public.padded\"", result.Stdout, StringComparison.Ordinal);
    }

    private async Task<double> ScalarAsync(string sql)
    {
        await using var cmd = _dataSource.CreateCommand(sql);
        return (double)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var cmd = _dataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }
}
