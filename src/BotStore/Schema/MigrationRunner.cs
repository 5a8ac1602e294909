using System.Text.RegularExpressions;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Schema;

/// <summary>What one run of <see cref="MigrationRunner.MigrateAsync"/> did.</summary>
/// <param name="Applied">The migrations this run applied, in order.</param>
/// <param name="AlreadyApplied">How many were applied before.</param>
/// <param name="PartitionsCreated">Monthly partitions premade after migrating.</param>
public sealed record MigrationResult(IReadOnlyList<Migration> Applied, int AlreadyApplied, IReadOnlyList<string> PartitionsCreated);

/// <summary>A migration recorded in <c>schema_migrations</c>.</summary>
public sealed record AppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt);

/// <summary>
/// Applies the embedded migrations in version order. Runs under a session advisory lock, so two processes never
/// migrate at once (the second waits, then finds nothing to do); each migration commits with its
/// <c>schema_migrations</c> row or not at all. Connect directly, not through PgBouncer in transaction mode: the
/// advisory lock is held by the session.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, IReadOnlyList<Migration>? migrations = null)
{
    /// <summary>The advisory lock key ("botstore" in ASCII): one migrator per database.</summary>
    internal const long LockKey = 0x626f7473746f7265;

    private readonly IReadOnlyList<Migration> _migrations = migrations ?? Migration.All;

    /// <summary>Applies what is pending and premakes the monthly partitions.</summary>
    /// <exception cref="BotStoreMigrationException">An applied migration was edited, or the database is newer than this build.</exception>
    public Task<MigrationResult> MigrateAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await LockAsync(conn, ct);
        try
        {
            await Execute(conn, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     INTEGER PRIMARY KEY,
                    name        TEXT NOT NULL,
                    checksum    TEXT NOT NULL,
                    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """, ct);
            var applied = await ReadAppliedAsync(conn, ct);
            var pending = Plan(applied);
            foreach (var migration in pending)
                await ApplyAsync(conn, migration, ct);
            var partitions = new List<string>();
            if (applied.Count + pending.Count > 0)
            {
                await using var cmd = new NpgsqlCommand("SELECT botstore_premake_partitions()", conn);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    partitions.Add(reader.GetString(0));
            }
            return new MigrationResult(pending, applied.Count, partitions);
        }
        finally
        {
            await Execute(conn, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey);
        }
    });

    /// <summary>The migrations recorded in the database; empty when it has never been migrated.</summary>
    public Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAppliedAsync(conn, ct);
    });

    /// <summary>The migrations this build carries that the database lacks; throws when the two disagree.</summary>
    public async Task<IReadOnlyList<Migration>> PendingAsync(CancellationToken ct = default) => Plan(await ReadAppliedAsync(ct));

    private List<Migration> Plan(IReadOnlyList<AppliedMigration> applied)
    {
        var known = _migrations.ToDictionary(m => m.Version);
        foreach (var a in applied)
        {
            if (!known.TryGetValue(a.Version, out var m))
                throw new BotStoreMigrationException(
                    $"the database has migration {a.Version:D4}_{a.Name}, which this build does not know: it is newer than this build (upgrade BotStore)");
            if (m.Checksum != a.Checksum)
                throw new BotStoreMigrationException(
                    $"migration {m} was changed after it was applied (checksum {a.Checksum[..12]} in the database, {m.Checksum[..12]} in this build): restore the original file and put the change in a new migration");
        }
        var done = applied.Select(a => a.Version).ToHashSet();
        return _migrations.Where(m => !done.Contains(m.Version)).ToList();
    }

    private static async Task ApplyAsync(NpgsqlConnection conn, Migration migration, CancellationToken ct)
    {
        try
        {
            if (migration.InTransaction)
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                await Execute(conn, migration.Sql, ct);
                await Record(conn, migration, ct);
                await tx.CommitAsync(ct);
            }
            else
            {
                // Statements outside a transaction must be idempotent (IF NOT EXISTS): a failed run is resumed.
                foreach (var statement in migration.Statements())
                {
                    await DropInvalidIndexAsync(conn, statement, ct);
                    await Execute(conn, statement, ct);
                }
                await Record(conn, migration, ct);
            }
        }
        catch (PostgresException ex)
        {
            throw new BotStoreMigrationException(
                $"migration {migration} failed and was rolled back, the database stays at its last good version: {ex.MessageText}" +
                (ex.Position > 0 ? $" (at character {ex.Position})" : ""), ex);
        }
    }

    // Waits for the migration lock by polling: a session blocked inside pg_advisory_lock holds a snapshot, which a
    // CREATE INDEX CONCURRENTLY in the migrator that holds the lock would wait for: a deadlock.
    private static async Task LockAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = LockKey });
        while (!(bool)(await cmd.ExecuteScalarAsync(ct))!)
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
    }

    // A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind, which IF NOT EXISTS would then skip for
    // ever. No other migrator runs (we hold the lock), so an invalid index of that name is our own leftover.
    private static async Task DropInvalidIndexAsync(NpgsqlConnection conn, string statement, CancellationToken ct)
    {
        var match = ConcurrentIndexPattern().Match(statement);
        if (!match.Success)
            return;
        await using var cmd = new NpgsqlCommand("""
            SELECT format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = $1 AND n.nspname = ANY (current_schemas(false)) AND NOT i.indisvalid
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = match.Groups[1].Value });
        if (await cmd.ExecuteScalarAsync(ct) is string drop)
            await Execute(conn, drop, ct);
    }

    [GeneratedRegex(@"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+""?([a-z0-9_]+)""?", RegexOptions.IgnoreCase)]
    private static partial Regex ConcurrentIndexPattern();

    private static Task Record(NpgsqlConnection conn, Migration m, CancellationToken ct) =>
        Execute(conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", ct, m.Version, m.Name, m.Checksum);

    private static async Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version
            """, conn);
        if (await TableMissing(conn, ct))
            return [];
        var result = new List<AppliedMigration>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(new AppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return result;
    }

    private static async Task<bool> TableMissing(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NULL", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
