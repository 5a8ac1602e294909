using System.Globalization;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>
/// The DDL and data steps of one conversion, each safe to run again after an interruption: short locking changes go
/// through <see cref="LockRetry"/> (lock_timeout, backoff, retry), long ones (backfill, VALIDATE, CREATE INDEX
/// CONCURRENTLY) take no lock that blocks writers.
/// </summary>
internal sealed class Steps(NpgsqlConnection session, ConversionSpec spec, ConversionOptions options)
{
    private readonly LockRetry _retry = new(options.LockTimeout, options.LockAttempts, TimeSpan.FromMilliseconds(200));

    public int LockRetries { get; private set; }

    /// <summary>Creates the state, the SMALLINT columns and the sync trigger in one transaction.</summary>
    public Task AddAsync(CancellationToken ct) => LockedAsync(async c =>
    {
        await StateStore.EnsureSchemaAsync(c, ct);
        await StateStore.InsertAsync(c, spec, ct);
        await ExecAsync(c, ct,
            $"LOCK TABLE {spec.Quoted} IN ACCESS EXCLUSIVE MODE",
            $"ALTER TABLE {spec.Quoted} {string.Join(", ", spec.Columns.Select(col => $"ADD COLUMN {SqlText.Ident(col.NewName)} smallint"))}",
            spec.ForwardFunctionSql(),
            $"CREATE TRIGGER {ConversionSpec.Trigger} BEFORE INSERT OR UPDATE ON {spec.Quoted} FOR EACH ROW EXECUTE FUNCTION {spec.Function}()");
    }, ct);

    /// <summary>Fills the SMALLINT columns leaf by leaf in key order, one short transaction per batch that also records how far it got.</summary>
    public async Task<long> BackfillAsync(long totalRows, IProgress<ConversionProgress>? progress, CancellationToken ct)
    {
        long done = 0;
        var leaves = await StateStore.BackfillAsync(session, spec.Oid, ct);
        done = leaves.Sum(l => l.Rows);
        long thisRun = 0;
        var keys = spec.KeyList();
        var after = string.Join(", ", spec.Key.Select((k, i) => $"($1::text[])[{i + 1}]::{spec.KeyTypes[i]}"));
        var last = string.Join(", ", spec.Key.Select(k => $"{SqlText.Ident(k)}::text"));
        var set = string.Join(", ", spec.Columns.Select(c => $"{SqlText.Ident(c.NewName)} = {c.MapSql($"t.{SqlText.Ident(c.Name)}")}"));
        var join = string.Join(" AND ", spec.Key.Select(k => $"t.{SqlText.Ident(k)} = b.{SqlText.Ident(k)}"));
        foreach (var (leaf, start, _, complete) in leaves)
        {
            if (complete)
                continue;
            var watermark = start;
            var sql = $"""
                WITH b AS (SELECT {keys} FROM ONLY {leaf} WHERE $1::text[] IS NULL OR ({keys}) > ({after}) ORDER BY {keys} LIMIT $2),
                     u AS (UPDATE ONLY {leaf} t SET {set} FROM b WHERE {join} RETURNING 1)
                SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM u), (SELECT ARRAY[{last}] FROM b ORDER BY {string.Join(", ", spec.Key.Select(k => SqlText.Ident(k) + " DESC"))} LIMIT 1)
                """;
            while (true)
            {
                await ThrottleAsync(ct);
                var (seen, updated, next) = await LockedAsync(async c =>
                {
                    long seen, updated;
                    string[]? next;
                    await using (var batch = new NpgsqlCommand(sql, c) { CommandTimeout = 0 })
                    {
                        batch.Parameters.Add(new NpgsqlParameter { Value = (object?)watermark ?? DBNull.Value, DataTypeName = "text[]" });
                        batch.Parameters.Add(new NpgsqlParameter { Value = options.BatchSize });
                        await using var reader = await batch.ExecuteReaderAsync(ct);
                        await reader.ReadAsync(ct);
                        (seen, updated, next) = (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<string[]>(2));
                    }
                    await using var record = new NpgsqlCommand(
                        "UPDATE botstore_convert.backfill SET watermark = COALESCE($3, watermark), rows = rows + $4, done = $5 WHERE table_oid = $1 AND leaf = $2", c);
                    record.Parameters.Add(SqlText.Oid(spec.Oid));
                    record.Parameters.Add(new NpgsqlParameter { Value = leaf });
                    record.Parameters.Add(new NpgsqlParameter { Value = (object?)next ?? DBNull.Value, DataTypeName = "text[]" });
                    record.Parameters.Add(new NpgsqlParameter { Value = updated });
                    record.Parameters.Add(new NpgsqlParameter { Value = seen < options.BatchSize });
                    await record.ExecuteNonQueryAsync(ct);
                    return (seen, updated, next);
                }, ct);
                done += updated;
                thisRun += updated;
                watermark = next ?? watermark;
                progress?.Report(new ConversionProgress(spec.QualifiedName, "backfill", spec.Partitioned ? leaf : null, done, Math.Max(totalRows, done)));
                if (options.StepHook is not null)
                    await options.StepHook("batch");
                if (seen < options.BatchSize)
                    break;
                if (options.Pause > TimeSpan.Zero)
                    await Task.Delay(options.Pause, ct);
            }
        }
        return thisRun;
    }

    /// <summary>Waits while a replica replays more than <see cref="ConversionOptions.MaxReplicationLag"/> behind.</summary>
    private async Task ThrottleAsync(CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT COALESCE(extract(epoch FROM max(replay_lag)), 0)::float8 FROM pg_stat_replication", session);
        while ((double)(await cmd.ExecuteScalarAsync(ct))! > options.MaxReplicationLag.TotalSeconds)
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
    }

    /// <summary>Rows, rows whose number differs from the mapping of their text, and the key of one such row.</summary>
    public async Task<VerifyResult> VerifyAsync(string step, CancellationToken ct)
    {
        var swapped = step == ConversionSteps.Swapped;
        var mismatch = string.Join(" OR ", spec.Columns.Select(c => swapped
            ? $"{SqlText.Ident(c.Name)} IS DISTINCT FROM {c.MapSql(SqlText.Ident(c.TextName))}"
            : $"{SqlText.Ident(c.NewName)} IS DISTINCT FROM {c.MapSql(SqlText.Ident(c.Name))}"));
        await using var cmd = new NpgsqlCommand($"""
            SELECT count(*), count(*) FILTER (WHERE {mismatch}), min(CASE WHEN {mismatch} THEN {spec.KeyText("")} END) FROM {spec.Quoted}
            """, session) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new VerifyResult(spec.QualifiedName, step, reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <summary>NOT NULL stand-ins, the value CHECKs and the rewritten CHECKs on the new columns: added NOT VALID, then validated without blocking writers.</summary>
    public async Task ConstrainAsync(CancellationToken ct)
    {
        var wanted = new List<(string Name, string Definition, bool Validate)>();
        foreach (var c in spec.Columns)
        {
            if (c.NotNull)
                wanted.Add((c.NotNullCheck, $"CHECK ({SqlText.Ident(c.NewName)} IS NOT NULL)", true));
            if (c.AddValueCheck)
                wanted.Add((c.ValueCheck, $"CHECK ({SqlText.Ident(c.NewName)} IN ({c.Numbers}))", true));
        }
        wanted.AddRange(spec.Checks.Select(k => (k.TempName, k.Rewritten, k.Valid)));
        await AddConstraintsAsync(wanted, ct);
    }

    private async Task AddConstraintsAsync(List<(string Name, string Definition, bool Validate)> wanted, CancellationToken ct)
    {
        var existing = await ConstraintsAsync(ct);
        var missing = wanted.Where(w => !existing.Contains(w.Name)).ToList();
        if (missing.Count > 0)
        {
            await LockedAsync(c => ExecAsync(c, ct,
                $"ALTER TABLE {spec.Quoted} {string.Join(", ", missing.Select(w => $"ADD CONSTRAINT {SqlText.Ident(w.Name)} {w.Definition} NOT VALID"))}"), ct);
        }
        foreach (var w in wanted.Where(w => w.Validate))
            await LockedAsync(c => ExecAsync(c, ct, $"ALTER TABLE {spec.Quoted} VALIDATE CONSTRAINT {SqlText.Ident(w.Name)}"), ct);
    }

    private async Task<HashSet<string>> ConstraintsAsync(CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT conname FROM pg_constraint WHERE conrelid = $1", session);
        cmd.Parameters.Add(SqlText.Oid(spec.Oid));
        var names = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>
    /// Builds each dependent index on the new columns with CREATE INDEX CONCURRENTLY; an invalid one a killed run
    /// left is dropped and built again. A partitioned table's index is created ON ONLY the parent, built per leaf and attached.
    /// </summary>
    public async Task IndexAsync(Func<Task>? afterEach, CancellationToken ct)
    {
        foreach (var index in spec.Indexes)
        {
            var unique = index.Unique ? "UNIQUE " : "";
            if (!spec.Partitioned)
            {
                await BuildConcurrentlyAsync(spec.Quoted, index.TempName, $"CREATE {unique}INDEX CONCURRENTLY {SqlText.Ident(index.TempName)} ON {spec.Quoted} {index.Tail}", ct);
            }
            else
            {
                var parent = await FindIndexAsync(spec.Quoted, index.TempName, ct);
                if (parent is null)
                    await LockedAsync(c => ExecAsync(c, ct, $"CREATE {unique}INDEX {SqlText.Ident(index.TempName)} ON ONLY {spec.Quoted} {index.Tail}"), ct);
                parent = await FindIndexAsync(spec.Quoted, index.TempName, ct);
                for (var i = 0; i < spec.Leaves.Length; i++)
                {
                    var child = Names.Fit(index.TempName, "_" + i.ToString(CultureInfo.InvariantCulture));
                    var leaf = spec.Leaves[i];
                    await BuildConcurrentlyAsync(leaf, child, $"CREATE {unique}INDEX CONCURRENTLY {SqlText.Ident(child)} ON {leaf} {index.Tail}", ct);
                    var built = await FindIndexAsync(leaf, child, ct);
                    await using var attached = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = $1::regclass)", session).With(built!.Value.Name);
                    if (await attached.ExecuteScalarAsync(ct) is not true)
                        await LockedAsync(c => ExecAsync(c, ct, $"ALTER INDEX {parent!.Value.Name} ATTACH PARTITION {built.Value.Name}"), ct);
                }
            }
            if (afterEach is not null)
                await afterEach();
        }
    }

    private async Task BuildConcurrentlyAsync(string table, string name, string create, CancellationToken ct)
    {
        var found = await FindIndexAsync(table, name, ct);
        if (found is { Valid: true })
            return;
        if (found is { } invalid)
            await ExecAsync(session, ct, $"DROP INDEX CONCURRENTLY {invalid.Name}");
        await ExecAsync(session, ct, create);
    }

    /// <summary>An index of <paramref name="table"/> by name: its regclass text and whether it is valid.</summary>
    private async Task<(string Name, bool Valid)?> FindIndexAsync(string table, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT i.oid::regclass::text, x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = $1::regclass AND i.relname = $2
            """, session).With(table, name);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.GetBoolean(1)) : null;
    }

    /// <summary>The swap, in one short transaction: names, defaults and NOT NULL move to the SMALLINT columns; CHECKs, indexes and views follow; the trigger turns round.</summary>
    public Task SwapAsync(CancellationToken ct) => LockedAsync(async c =>
    {
        var sql = new List<string> { $"LOCK TABLE {spec.Quoted} IN ACCESS EXCLUSIVE MODE" };
        sql.AddRange(spec.Views.Select(v => $"ALTER VIEW {v.Quoted} RENAME TO {SqlText.Ident(v.TextName)}"));
        foreach (var col in spec.Columns)
        {
            sql.Add($"ALTER TABLE {spec.Quoted} RENAME COLUMN {SqlText.Ident(col.Name)} TO {SqlText.Ident(col.TextName)}");
            sql.Add($"ALTER TABLE {spec.Quoted} RENAME COLUMN {SqlText.Ident(col.NewName)} TO {SqlText.Ident(col.Name)}");
            var alter = new List<string>();
            if (col.OldDefault is not null)
                alter.Add($"ALTER COLUMN {SqlText.Ident(col.TextName)} DROP DEFAULT");
            if (col.NotNull)
                alter.Add($"ALTER COLUMN {SqlText.Ident(col.TextName)} DROP NOT NULL");
            if (col.NewDefault is { } number)
                alter.Add($"ALTER COLUMN {SqlText.Ident(col.Name)} SET DEFAULT {number.ToString(CultureInfo.InvariantCulture)}");
            if (col.NotNull)
                alter.Add($"ALTER COLUMN {SqlText.Ident(col.Name)} SET NOT NULL");
            if (alter.Count > 0)
                sql.Add($"ALTER TABLE {spec.Quoted} {string.Join(", ", alter)}");
            // SET NOT NULL found the validated CHECK and skipped the scan; the stand-in has done its work.
            if (col.NotNull)
                sql.Add($"ALTER TABLE {spec.Quoted} DROP CONSTRAINT {SqlText.Ident(col.NotNullCheck)}");
        }
        sql.AddRange(RenameObjects(toSmallint: true));
        sql.AddRange(spec.Views.SelectMany(v => v.CreateSql(v.Rewritten)));
        sql.Add(spec.ReverseFunctionSql());
        await ExecAsync(c, ct, sql.ToArray());
        await StateStore.SetStepAsync(c, spec.Oid, ConversionSteps.Swapped, ct);
    }, ct);

    /// <summary>CHECK constraints and indexes change places: the originals take the <c>__text</c> names, the rebuilt ones the original names (or back).</summary>
    private IEnumerable<string> RenameObjects(bool toSmallint)
    {
        foreach (var k in spec.Checks)
        {
            var (first, second) = toSmallint ? ((k.Name, k.TextName), (k.TempName, k.Name)) : ((k.Name, k.TempName), (k.TextName, k.Name));
            yield return $"ALTER TABLE {spec.Quoted} RENAME CONSTRAINT {SqlText.Ident(first.Item1)} TO {SqlText.Ident(first.Item2)}";
            yield return $"ALTER TABLE {spec.Quoted} RENAME CONSTRAINT {SqlText.Ident(second.Item1)} TO {SqlText.Ident(second.Item2)}";
        }
        foreach (var i in spec.Indexes)
        {
            var schema = SqlText.Ident(i.Schema) + ".";
            var (first, second) = toSmallint ? ((i.Name, i.TextName), (i.TempName, i.Name)) : ((i.Name, i.TempName), (i.TextName, i.Name));
            yield return $"ALTER INDEX {schema}{SqlText.Ident(first.Item1)} RENAME TO {SqlText.Ident(first.Item2)}";
            yield return $"ALTER INDEX {schema}{SqlText.Ident(second.Item1)} RENAME TO {SqlText.Ident(second.Item2)}";
        }
    }

    /// <summary>Drops the text columns (their indexes and CHECKs go with them), the trigger and the state.</summary>
    public Task FinishAsync(CancellationToken ct) => LockedAsync(async c =>
    {
        await ExecAsync(c, ct, [
            $"LOCK TABLE {spec.Quoted} IN ACCESS EXCLUSIVE MODE",
            .. spec.Views.Select(v => $"DROP VIEW {v.QuotedText}"),
            $"DROP TRIGGER {ConversionSpec.Trigger} ON {spec.Quoted}",
            $"DROP FUNCTION {spec.Function}()",
            $"ALTER TABLE {spec.Quoted} {string.Join(", ", spec.Columns.Select(col => $"DROP COLUMN {SqlText.Ident(col.TextName)}"))}"]);
        await StateStore.DeleteAsync(c, spec.Oid, ct);
    }, ct);

    /// <summary>Puts the table back as it was: after the swap the names, defaults, NOT NULLs, CHECKs, indexes and views return first.</summary>
    public async Task RollbackAsync(string step, CancellationToken ct)
    {
        var swapped = step == ConversionSteps.Swapped;
        if (swapped)
        {
            // Restoring NOT NULL would scan the table under the exclusive lock; a validated CHECK lets it skip the scan.
            await AddConstraintsAsync(spec.Columns.Where(c => c.NotNull)
                .Select(c => (c.TextNotNullCheck, $"CHECK ({SqlText.Ident(c.TextName)} IS NOT NULL)", true)).ToList(), ct);
        }
        await LockedAsync(async c =>
        {
            var sql = new List<string> { $"LOCK TABLE {spec.Quoted} IN ACCESS EXCLUSIVE MODE" };
            if (swapped)
            {
                sql.AddRange(spec.Views.Select(v => $"DROP VIEW {v.Quoted}"));
                sql.AddRange(spec.Views.Select(v => $"ALTER VIEW {v.QuotedText} RENAME TO {SqlText.Ident(v.Name)}"));
                foreach (var col in spec.Columns)
                {
                    sql.Add($"ALTER TABLE {spec.Quoted} RENAME COLUMN {SqlText.Ident(col.Name)} TO {SqlText.Ident(col.NewName)}");
                    sql.Add($"ALTER TABLE {spec.Quoted} RENAME COLUMN {SqlText.Ident(col.TextName)} TO {SqlText.Ident(col.Name)}");
                    if (col.OldDefault is not null)
                        sql.Add($"ALTER TABLE {spec.Quoted} ALTER COLUMN {SqlText.Ident(col.Name)} SET DEFAULT {col.OldDefault}");
                    if (col.NotNull)
                    {
                        sql.Add($"ALTER TABLE {spec.Quoted} ALTER COLUMN {SqlText.Ident(col.Name)} SET NOT NULL");
                        sql.Add($"ALTER TABLE {spec.Quoted} DROP CONSTRAINT {SqlText.Ident(col.TextNotNullCheck)}");
                    }
                }
                sql.AddRange(RenameObjects(toSmallint: false));
            }
            sql.Add($"DROP TRIGGER IF EXISTS {ConversionSpec.Trigger} ON {spec.Quoted}");
            sql.Add($"DROP FUNCTION IF EXISTS {spec.Function}()");
            sql.Add($"ALTER TABLE {spec.Quoted} {string.Join(", ", spec.Columns.Select(col => $"DROP COLUMN IF EXISTS {SqlText.Ident(col.NewName)}"))}");
            await ExecAsync(c, ct, sql.ToArray());
            await StateStore.DeleteAsync(c, spec.Oid, ct);
        }, ct);
    }

    public async Task AnalyzeAsync(CancellationToken ct) => await ExecAsync(session, ct, $"ANALYZE {spec.Quoted}");

    public Task SetStepAsync(string step, CancellationToken ct) => StateStore.SetStepAsync(session, spec.Oid, step, ct);

    private async Task LockedAsync(Func<NpgsqlConnection, Task> work, CancellationToken ct) =>
        await LockedAsync(async c => { await work(c); return true; }, ct);

    private async Task<T> LockedAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        var attempt = 0;
        return await _retry.RunAsync(session, async c =>
        {
            if (attempt++ > 0)
                LockRetries++;
            return await work(c);
        }, ct);
    }

    private static async Task ExecAsync(NpgsqlConnection conn, CancellationToken ct, params string[] statements)
    {
        foreach (var statement in statements)
        {
            await using var cmd = new NpgsqlCommand(statement, conn) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
