using System.Diagnostics;
using System.Globalization;
using BotStore.Data;
using BotStore.Internal;
using BotStore.Sharding.Moves.Internal;
using Npgsql;

namespace BotStore.Sharding.Moves;

/// <summary>
/// Moves one tenant to another shard while it keeps writing, with PostgreSQL's logical replication: a publication
/// filtered to the tenant on the source, a subscription on the target (initial copy, then streaming), a short write
/// fence for that tenant alone (the exclusive side of the advisory lock <c>botstore_enter_tenant</c> takes shared),
/// verification inside the fence, the directory switch, then clean-up and the source copy deleted in batches.
/// <para>
/// The tenant is served from exactly one shard at all times: until the source's <c>tenant_fence</c> row commits,
/// the directory names the source and the source serves; after the directory switch, the target serves and the
/// source refuses (BS001). Between the two (a kill there), the source refuses and the directory still names it, so
/// requests get 503 until the move is resumed or rolled back. Each step is idempotent and the journal
/// (<c>tenant_moves</c>) says which move is in progress, so <see cref="ResumeAsync"/> re-runs the steps from the
/// state it finds, and <see cref="RollbackAsync"/> undoes everything before the switch.
/// </para>
/// </summary>
public sealed class TenantMover
{
    private readonly TenantDirectory _directory;
    private readonly IReadOnlyDictionary<string, MoveShard> _shards;
    private readonly TenantMoverOptions _options;
    private readonly MoveJournal _journal;

    /// <summary>A mover over the directory and the shards (direct superuser connections).</summary>
    public TenantMover(TenantDirectory directory, IEnumerable<MoveShard> shards, TenantMoverOptions? options = null)
    {
        _directory = directory;
        _shards = shards.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _options = options ?? new TenantMoverOptions();
        _journal = new MoveJournal(directory.DataSource);
    }

    /// <summary>The key of the advisory lock a mover holds on the directory database for as long as it works on a tenant ('mr' above the id).</summary>
    public static long RunLockKey(long tenantId) => (0x6d72L << 48) | tenantId;

    /// <summary>Moves the tenant to <paramref name="to"/>.</summary>
    /// <exception cref="BotStoreValidationException">Unknown shard, or the tenant is already there.</exception>
    /// <exception cref="BotStoreNotFoundException">The tenant is not in the directory (or not on its shard).</exception>
    /// <exception cref="BotStoreConflictException">Another move of the tenant runs, or an interrupted one waits for --resume or --rollback.</exception>
    public Task<MoveReport> MoveAsync(long tenantId, string to, IProgress<MoveProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            var target = Shard(to);
            var from = await _directory.FindAsync(tenantId, ct)
                ?? throw new BotStoreNotFoundException($"tenant {tenantId} is not in the tenant directory");
            if (from == to)
                throw new BotStoreValidationException($"tenant {tenantId} is already on shard '{to}'");
            var source = Shard(from);
            await using var runLock = await LockAsync(tenantId, ct);
            if (await _journal.InProgressAsync(tenantId, ct) is { } open)
                throw new BotStoreConflictException(
                    $"tenant {tenantId} has an interrupted move from '{open.Source}' to '{open.Target}' (step {MoveJournal.StepName(open.Step)}): run it again with --resume or --rollback");
            await PreflightAsync(tenantId, source, target, ct);
            var entry = await _journal.StartAsync(tenantId, from, to, Replication.NewName(tenantId), ct);
            progress?.Report(new(MoveStep.Started, $"moving tenant {tenantId} from '{from}' to '{to}'"));
            if (_options.AfterStep is { } hook)
                await hook(MoveStep.Started, ct);
            return await RunAsync(entry, progress, ct);
        });

    /// <summary>Continues the tenant's interrupted move from the state it finds.</summary>
    public Task<MoveReport> ResumeAsync(long tenantId, IProgress<MoveProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            await using var runLock = await LockAsync(tenantId, ct);
            var entry = await _journal.InProgressAsync(tenantId, ct)
                ?? throw new BotStoreNotFoundException($"tenant {tenantId} has no interrupted move to resume");
            Shard(entry.Source);
            Shard(entry.Target);
            progress?.Report(new(entry.Step, $"resuming the move of tenant {tenantId} from '{entry.Source}' to '{entry.Target}' (last step: {MoveJournal.StepName(entry.Step)})"));
            return await RunAsync(entry, progress, ct);
        });

    /// <summary>
    /// Undoes the tenant's interrupted move: drops the replication objects, deletes the target's copy and lifts the
    /// source's fence. Refused once the directory names the target (finish that move with <see cref="ResumeAsync"/>).
    /// </summary>
    public Task<MoveReport> RollbackAsync(long tenantId, IProgress<MoveProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            await using var runLock = await LockAsync(tenantId, ct);
            var entry = await _journal.InProgressAsync(tenantId, ct)
                ?? throw new BotStoreNotFoundException($"tenant {tenantId} has no interrupted move to roll back");
            var (source, target) = (Shard(entry.Source), Shard(entry.Target));
            if (await _directory.FindAsync(tenantId, ct) == entry.Target)
                throw new BotStoreConflictException(
                    $"tenant {tenantId} is already served from '{entry.Target}' (the move passed its switch): finish it with --resume, then move it back if needed");
            var replication = new Replication(tenantId, entry.Name, source, target);
            await replication.DropAsync(ct);
            progress?.Report(new(MoveStep.RolledBack, $"dropped subscription, slot and publication {entry.Name}"));
            var deleted = await new TenantEraser(target.DataSource).EraseRowsAsync(tenantId, _options.DeleteBatchSize, Erasure(progress, target.Name), ct);
            progress?.Report(new(MoveStep.RolledBack, $"deleted {deleted:N0} rows of the tenant from '{target.Name}'"));
            await using (var lift = source.DataSource.CreateCommand("DELETE FROM tenant_fence WHERE tenant_id = $1 AND moved_to = $2").With(tenantId, target.Name))
            {
                if (await lift.ExecuteNonQueryAsync(ct) > 0)
                    progress?.Report(new(MoveStep.RolledBack, $"lifted the fence on '{source.Name}': it serves the tenant again"));
            }
            await _journal.FinishAsync(entry.Id, MoveStep.RolledBack, ct);
            progress?.Report(new(MoveStep.RolledBack, $"rolled back: tenant {tenantId} stays on '{source.Name}'"));
            return new MoveReport { TenantId = tenantId, Source = source.Name, Target = target.Name, Outcome = MoveStep.RolledBack, RowsDeleted = deleted };
        });

    private async Task<MoveReport> RunAsync(MoveEntry entry, IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        var tenantId = entry.TenantId;
        var (source, target) = (Shard(entry.Source), Shard(entry.Target));
        var replication = new Replication(tenantId, entry.Name, source, target);
        IReadOnlyList<TableCheck> checks = ChecksFrom(entry);
        double? copySeconds = null, catchUpSeconds = null, fenceMs = null;

        var placed = await _directory.FindAsync(tenantId, ct);
        if (placed != entry.Source && placed != entry.Target)
            throw new BotStoreConflictException($"the directory places tenant {tenantId} on '{placed ?? "nothing"}', neither source nor target of its move");
        if (placed == entry.Source)
        {
            if (!await FencedAsync(source, tenantId, target.Name, ct))
            {
                await replication.EnsurePublicationAsync(ct);
                await replication.EnsureSlotAsync(ct);
                await StepAsync(entry, MoveStep.Published, $"publication and slot {entry.Name} on '{source.Name}'", progress, ct);
                await replication.EnsureSubscriptionAsync(ct);
                await StepAsync(entry, MoveStep.Subscribed, $"subscription {entry.Name} on '{target.Name}', copying", progress, ct);
                copySeconds = await WaitForCopyAsync(replication, progress, ct);
                await StepAsync(entry, MoveStep.Copied, $"initial copy done in {copySeconds:0.0} s", progress, ct);
                (checks, catchUpSeconds, var fenceStart) = await FenceAsync(entry, replication, source, target, progress, ct);
                await StepAsync(entry, MoveStep.Fenced, $"verified {checks.Count} tables ({checks.Sum(c => c.TargetRows):N0} rows); '{source.Name}' refuses the tenant", progress, ct,
                    new { tables = checks, copySeconds, catchUpSeconds, fenceStartedAt = DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(fenceStart) });
                fenceMs = Stopwatch.GetElapsedTime(fenceStart, await SwitchAsync(entry, target, ct)).TotalMilliseconds;
            }
            else
            {
                // Stopped between the fence and the switch: the tenant was refused from the fence's start until now.
                await SwitchAsync(entry, target, ct);
                if (entry.Detail is { } detail && detail.TryGetProperty("fenceStartedAt", out var fencedAt))
                    fenceMs = (DateTimeOffset.UtcNow - fencedAt.GetDateTimeOffset()).TotalMilliseconds;
            }
            await StepAsync(entry, MoveStep.Switched,
                fenceMs is { } ms ? $"directory switched: '{target.Name}' serves the tenant; writes were fenced for {ms:0} ms" : $"directory switched: '{target.Name}' serves the tenant",
                progress, ct, fenceMs: fenceMs);
        }
        await replication.DropAsync(ct);
        await StepAsync(entry, MoveStep.Cleaned, $"dropped subscription, slot and publication {entry.Name}", progress, ct);
        var deleted = await new TenantEraser(source.DataSource).EraseRowsAsync(tenantId, _options.DeleteBatchSize, Erasure(progress, source.Name), ct);
        await _journal.FinishAsync(entry.Id, MoveStep.Done, ct);
        progress?.Report(new(MoveStep.Done, $"deleted {deleted:N0} rows of the tenant from '{source.Name}'; tenant {tenantId} moved to '{target.Name}'"));
        return new MoveReport
        {
            TenantId = tenantId, Source = source.Name, Target = target.Name, Outcome = MoveStep.Done, Tables = checks,
            CopySeconds = copySeconds, CatchUpSeconds = catchUpSeconds, FenceMilliseconds = fenceMs ?? await FenceMsAsync(entry, ct), RowsDeleted = deleted,
        };
    }

    private async Task<double> WaitForCopyAsync(Replication replication, IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var lastReport = started;
        while (true)
        {
            var (ready, tables, inFlight, errors) = await replication.CopyStateAsync(ct);
            if (errors > 0)
                throw new BotStoreException(
                    $"the subscription {replication.Name} reports {errors} error(s) on the target (see its server log); the move stopped: --resume retries, --rollback undoes it");
            if (tables > 0 && ready == tables)
                return Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (Stopwatch.GetElapsedTime(lastReport) > TimeSpan.FromSeconds(1))
            {
                lastReport = Stopwatch.GetTimestamp();
                progress?.Report(new(MoveStep.Subscribed, $"copying: {ready}/{tables} tables done, {inFlight:N0} rows in tables being copied"));
            }
            await Task.Delay(_options.PollInterval, ct);
        }
    }

    // Catch-up, then the fence: the exclusive lock stops the tenant's transactions on the source (others never wait),
    // the target receives the last of its writes, both sides are compared, and the source's tenant_fence row is
    // committed. A fence that cannot get the lock or the last writes in time is lifted and tried again.
    private async Task<(IReadOnlyList<TableCheck> Checks, double CatchUpSeconds, long FenceStart)> FenceAsync(MoveEntry entry, Replication replication,
        MoveShard source, MoveShard target, IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            long lag;
            var lastReport = Stopwatch.GetTimestamp();
            while ((lag = await replication.LagBytesAsync(ct)) > _options.CatchUpLagBytes)
            {
                if (Stopwatch.GetElapsedTime(lastReport) > TimeSpan.FromSeconds(1))
                {
                    lastReport = Stopwatch.GetTimestamp();
                    progress?.Report(new(MoveStep.Copied, $"catching up: {lag:N0} bytes of WAL behind"));
                }
                await Task.Delay(_options.PollInterval, ct);
            }
            var catchUp = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (attempt == 1)
                await StepAsync(entry, MoveStep.CaughtUp, $"caught up in {catchUp:0.0} s ({lag:N0} bytes behind)", progress, ct);

            await using var conn = await source.DataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using (var timeout = new NpgsqlCommand($"SET LOCAL lock_timeout = {(int)_options.FenceLockTimeout.TotalMilliseconds}", conn))
                await timeout.ExecuteNonQueryAsync(ct);
            // The tenant's new transactions queue behind this lock request already, so the fence starts here.
            var fenceStart = Stopwatch.GetTimestamp();
            try
            {
                await using var fence = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", conn).With(ShardRouter.MoveLockKey(entry.TenantId));
                await fence.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable && attempt < _options.FenceAttempts)
            {
                progress?.Report(new(MoveStep.CaughtUp, $"the tenant's transactions held the fence off for {_options.FenceLockTimeout.TotalSeconds:0.#} s; trying again"));
                continue;
            }
            if (_options.AfterStep is { } hook)
                await hook(MoveStep.Fencing, ct);
            if (!await LastWritesArrivedAsync(entry, replication, source, ct))
            {
                await tx.RollbackAsync(ct);
                if (attempt >= _options.FenceAttempts)
                    throw new BotStoreUnavailableException($"the target did not receive the tenant's last writes within {_options.FenceCatchUpTimeout.TotalSeconds:0.#} s, {attempt} times: the move can be resumed");
                progress?.Report(new(MoveStep.CaughtUp, "the target did not confirm the last writes in time; fence lifted, trying again"));
                continue;
            }
            var sourceSums = TenantChecksums.ComputeAsync(conn, entry.TenantId, ct);
            var targetSums = TenantChecksums.ComputeAsync(target.DataSource, entry.TenantId, ct);
            var checks = TenantChecksums.Compare(await sourceSums, await targetSums);
            if (checks.FirstOrDefault(c => !c.Matches) is { } bad)
            {
                await tx.RollbackAsync(ct);
                throw new BotStoreException(
                    $"verification failed for {bad.Table}: {bad.SourceRows:N0} rows on '{source.Name}', {bad.TargetRows:N0} on '{target.Name}' (or their checksums differ); the tenant stays on '{source.Name}': --rollback undoes the move");
            }
            await using (var leave = new NpgsqlCommand("""
                INSERT INTO tenant_fence (tenant_id, moved_to, moved_at) VALUES ($1, $2, now())
                ON CONFLICT (tenant_id) DO UPDATE SET moved_to = excluded.moved_to, moved_at = excluded.moved_at
                """, conn).With(entry.TenantId, target.Name))
                await leave.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return (checks, catchUp, fenceStart);
        }
    }

    // A marker write to the tenant's own row (a no-op update, published by the tenant's filter) is the last change
    // of the tenant in the stream: its commit lies past the WAL position read inside it, which every fenced write
    // precedes. Once the target has applied a commit past that position, it has applied the marker and, in order,
    // everything before it.
    private async Task<bool> LastWritesArrivedAsync(MoveEntry entry, Replication replication, MoveShard source, CancellationToken ct)
    {
        string lsn;
        await using (var conn = await source.DataSource.OpenConnectionAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await using var marker = new NpgsqlCommand(
                "UPDATE tenants SET is_active = is_active WHERE id = $1 RETURNING pg_current_wal_insert_lsn()::text", conn).With(entry.TenantId);
            lsn = (string)(await marker.ExecuteScalarAsync(ct))!;
            await tx.CommitAsync(ct);
        }
        var waited = Stopwatch.GetTimestamp();
        while (!await replication.AppliedPastAsync(lsn, ct))
        {
            if (Stopwatch.GetElapsedTime(waited) > _options.FenceCatchUpTimeout)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(5), ct);
        }
        return true;
    }

    // The target's own fence row (the tenant left it before) goes first, then the directory's compare-and-set.
    private async Task<long> SwitchAsync(MoveEntry entry, MoveShard target, CancellationToken ct)
    {
        await using (var back = target.DataSource.CreateCommand("DELETE FROM tenant_fence WHERE tenant_id = $1").With(entry.TenantId))
            await back.ExecuteNonQueryAsync(ct);
        await _directory.MoveAsync(entry.TenantId, entry.Source, entry.Target, ct: ct);
        return Stopwatch.GetTimestamp();
    }

    private static async Task<bool> FencedAsync(MoveShard source, long tenantId, string target, CancellationToken ct)
    {
        await using var cmd = source.DataSource.CreateCommand("SELECT count(*) FROM tenant_fence WHERE tenant_id = $1 AND moved_to = $2").With(tenantId, target);
        return (long)(await cmd.ExecuteScalarAsync(ct))! > 0;
    }

    private async Task PreflightAsync(long tenantId, MoveShard source, MoveShard target, CancellationToken ct)
    {
        await using (var level = source.DataSource.CreateCommand("SELECT current_setting('wal_level'), (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"))
        await using (var reader = await level.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            if (reader.GetString(0) != "logical")
                throw new BotStoreConfigurationException(
                    $"shard '{source.Name}' runs with wal_level = {reader.GetString(0)}, and a move needs logical: set wal_level = logical in its postgresql.conf and restart it (an embedded cluster sets it at its next start: stop every botstore process that uses it)");
        }
        await using (var super = target.DataSource.CreateCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        {
            if (await super.ExecuteScalarAsync(ct) is not true)
                throw new BotStoreConfigurationException($"shard '{target.Name}' is reached as a user that is not a superuser: PostgreSQL 15 lets only superusers create subscriptions");
        }
        await using (var identity = source.DataSource.CreateCommand("SELECT string_agg(table_name || ' (' || replica_identity || ')', ', ') FROM botstore_replica_identity_problems($1)").With((object)TenantEraser.Tables.ToArray()))
        {
            if (await identity.ExecuteScalarAsync(ct) is string bad)
                throw new BotStoreConfigurationException($"on shard '{source.Name}' these tables' replica identity lacks tenant_id, which the move's row filter needs: {bad}");
        }
        if (!await HoldsTenantAsync(source, tenantId, ct))
            throw new BotStoreNotFoundException($"the directory places tenant {tenantId} on '{source.Name}', but that shard has no such tenant");
        if (await HoldsTenantAsync(target, tenantId, ct))
            throw new BotStoreConflictException($"shard '{target.Name}' already holds a tenant {tenantId}: remove that copy before moving the tenant there");
    }

    private static async Task<bool> HoldsTenantAsync(MoveShard shard, long tenantId, CancellationToken ct)
    {
        await using var cmd = shard.DataSource.CreateCommand("SELECT count(*) FROM tenants WHERE id = $1").With(tenantId);
        return (long)(await cmd.ExecuteScalarAsync(ct))! > 0;
    }

    private async Task<RunnerLock> LockAsync(long tenantId, CancellationToken ct) =>
        await RunnerLock.AcquireAsync(_directory.DataSource, RunLockKey(tenantId), wait: false, ct)
        ?? throw new BotStoreConflictException($"another move of tenant {tenantId} is running");

    private async Task StepAsync(MoveEntry entry, MoveStep step, string message, IProgress<MoveProgress>? progress, CancellationToken ct,
        object? detail = null, double? fenceMs = null)
    {
        await _journal.StepAsync(entry.Id, step, detail, fenceMs, ct);
        progress?.Report(new(step, message));
        if (_options.AfterStep is { } hook)
            await hook(step, ct);
    }

    private async Task<double?> FenceMsAsync(MoveEntry entry, CancellationToken ct)
    {
        await using var cmd = _directory.DataSource.CreateCommand("SELECT fence_ms FROM tenant_moves WHERE id = $1").With(entry.Id);
        return await cmd.ExecuteScalarAsync(ct) as double?;
    }

    private static IReadOnlyList<TableCheck> ChecksFrom(MoveEntry entry) =>
        entry.Detail is { } detail && detail.TryGetProperty("tables", out var tables)
            ? System.Text.Json.JsonSerializer.Deserialize<TableCheck[]>(tables) ?? []
            : [];

    private static IProgress<ErasureProgress> Erasure(IProgress<MoveProgress>? progress, string shard) =>
        new ErasureLines(p =>
        {
            if (p.Done && p.RowsDeleted > 0)
                progress?.Report(new(MoveStep.Cleaned, $"deleted {p.RowsDeleted:N0} rows from {p.Table} on '{shard}'"));
        });

    // Reports at once, in order (Progress<T> posts to the thread pool, which may reorder lines).
    private sealed class ErasureLines(Action<ErasureProgress> report) : IProgress<ErasureProgress>
    {
        public void Report(ErasureProgress value) => report(value);
    }

    private MoveShard Shard(string name) =>
        _shards.TryGetValue(name, out var shard)
            ? shard
            : throw new BotStoreValidationException($"unknown shard '{name}' (shards: {string.Join(", ", _shards.Keys.Order(StringComparer.Ordinal))})");
}
