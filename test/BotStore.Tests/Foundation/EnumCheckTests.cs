using BotStore.Enums;
using BotStore.Schema;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Foundation;

/// <summary>The database's enum CHECKs and column comments agree with the C# catalog, value by value.</summary>
public sealed class EnumCheckTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    public static TheoryData<string, string> Columns()
    {
        var columns = new TheoryData<string, string>();
        foreach (var c in EnumColumns.All)
            columns.Add(c.Table, c.Column);
        return columns;
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public async Task The_column_is_a_not_null_smallint(string table, string column)
    {
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = table });
        cmd.Parameters.Add(new NpgsqlParameter { Value = column });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"{table}.{column} does not exist");
        Assert.Equal(("smallint", "NO"), (reader.GetString(0), reader.GetString(1)));
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public async Task The_check_accepts_exactly_the_domains_values(string table, string column)
    {
        var enumColumn = EnumColumns.All.Single(c => c.Table == table && c.Column == column);
        var definition = await ConstraintDefinitionAsync(table, enumColumn.ConstraintName);
        Assert.StartsWith("CHECK ", definition, StringComparison.Ordinal);

        var values = enumColumn.Domain.Entries.Select(e => e.Value).ToArray();
        var accepted = await AcceptedValuesAsync(column, definition, (short)(values.Min() - 2), (short)(values.Max() + 2));
        var expected = Enumerable.Range(values.Min() - 2, values.Max() - values.Min() + 5)
            .Select(v => (short)v).Where(enumColumn.Domain.IsDefined);
        Assert.Equal(expected, accepted);
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public async Task The_column_comment_lists_the_domain(string table, string column)
    {
        var enumColumn = EnumColumns.All.Single(c => c.Table == table && c.Column == column);
        var comment = await db.ScalarAsync<string>("""
            SELECT col_description(a.attrelid, a.attnum) FROM pg_attribute a
            WHERE a.attrelid = $1::regclass AND a.attname = $2
            """, table, column);
        Assert.Equal(enumColumn.Comment, comment);
    }

    [Fact]
    public void Every_domain_is_used_by_a_column()
    {
        var unused = EnumCatalog.Domains.Where(d => EnumColumns.All.All(c => c.Domain != d)).Select(d => d.Name);
        Assert.Empty(unused);
    }

    [Fact]
    public async Task Every_smallint_column_of_the_schema_is_an_enum_column_or_a_known_number()
    {
        // An enum column left out of EnumColumns.All would get no CHECK sync, comment or docs.
        string[] numbers = ["auto_tasks.progress", "partitioned_tables.premake_months", "partitioned_tables.retention_months"];
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c
            JOIN pg_class t ON t.relname = c.table_name AND t.relnamespace = 'public'::regnamespace
            WHERE c.table_schema = 'public' AND c.data_type = 'smallint' AND NOT t.relispartition
            ORDER BY 1
            """);
        var found = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                found.Add(reader.GetString(0));
        }
        var expected = EnumColumns.All.Select(c => $"{c.Table}.{c.Column}").Concat(numbers).Order(StringComparer.Ordinal);
        Assert.Equal(expected, found.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Inserting_a_task_status_outside_the_domain_is_a_check_violation()
    {
        var c = await SampleRows.CreateConversationAsync(db);
        const string insert = "INSERT INTO auto_tasks (tenant_id, id, bot_id, status, title) VALUES ($1, $2, $3, $4, 'probe')";

        var ex = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync(insert, c.TenantId, Uuid7.New(), c.BotId, (short)8));
        Assert.Equal(PostgresErrorCodes.CheckViolation, ex.SqlState);
        Assert.Equal("ck_auto_tasks_status", ex.ConstraintName);

        // The same row with the highest valid status goes in: the refusal above was the status alone.
        await db.ExecuteAsync(insert, c.TenantId, Uuid7.New(), c.BotId, (short)AutoTaskStatus.Cancelled);
    }

    private Task<string> ConstraintDefinitionAsync(string table, string constraint) =>
        db.ScalarAsync<string>("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2",
            table, constraint);

    /// <summary>
    /// Which of <paramref name="from"/>..<paramref name="to"/> the database's own constraint text lets through, with
    /// real CHECK semantics: the definition is put on a one-column temp table and each value inserted. The temp table
    /// holds only the enum column, because LIKE would copy the real table's other NOT NULL columns too.
    /// </summary>
    private async Task<List<short>> AcceptedValuesAsync(string column, string checkDefinition, short from, short to)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand($"CREATE TEMP TABLE enum_probe ({column} smallint)", conn))
            await create.ExecuteNonQueryAsync();
        try
        {
            await using (var check = new NpgsqlCommand($"ALTER TABLE enum_probe ADD CONSTRAINT enum_probe_check {checkDefinition}", conn))
                await check.ExecuteNonQueryAsync();
            var accepted = new List<short>();
            for (var v = from; v <= to; v++)
            {
                await using var insert = new NpgsqlCommand("INSERT INTO enum_probe VALUES ($1)", conn);
                insert.Parameters.Add(new NpgsqlParameter { Value = v });
                try
                {
                    await insert.ExecuteNonQueryAsync();
                    accepted.Add(v);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
                {
                    // Refused: not in the domain.
                }
            }
            return accepted;
        }
        finally
        {
            await using var drop = new NpgsqlCommand("DROP TABLE enum_probe", conn);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
