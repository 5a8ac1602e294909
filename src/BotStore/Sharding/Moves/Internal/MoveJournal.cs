using System.Text.Json;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Sharding.Moves.Internal;

/// <summary>A move in the journal.</summary>
internal sealed record MoveEntry(long Id, long TenantId, string Source, string Target, string Name, MoveStep Step, DateTimeOffset StartedAt, JsonElement? Detail);

/// <summary>The journal of moves (<c>tenant_moves</c>, migration 0025) on the directory database; each write its own statement.</summary>
internal sealed class MoveJournal(NpgsqlDataSource dataSource)
{
    public static string StepName(MoveStep step) => step.Name();

    public static MoveStep ParseStep(string name) => Enum.Parse<MoveStep>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);

    /// <summary>The unfinished move of the tenant, if any.</summary>
    public async Task<MoveEntry?> InProgressAsync(long tenantId, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT id, tenant_id, source, target, replication_name, step, started_at, detail FROM tenant_moves WHERE tenant_id = $1 AND finished_at IS NULL
            """).With(tenantId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return null;
        return new MoveEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            ParseStep(reader.GetString(5)), reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : JsonDocument.Parse(reader.GetString(7)).RootElement);
    }

    /// <summary>Starts a move; a unique violation means another one of the tenant is in progress.</summary>
    public async Task<MoveEntry> StartAsync(long tenantId, string source, string target, string name, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO tenant_moves (tenant_id, source, target, replication_name, step) VALUES ($1, $2, $3, $4, 'started') RETURNING id, started_at
            """).With(tenantId, source, target, name);
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new MoveEntry(reader.GetInt64(0), tenantId, source, target, name, MoveStep.Started, reader.GetFieldValue<DateTimeOffset>(1), null);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new BotStoreConflictException($"tenant {tenantId} is already being moved");
        }
    }

    /// <summary>Records the step reached, and merges <paramref name="detail"/> into the row's detail.</summary>
    public async Task StepAsync(long id, MoveStep step, object? detail, double? fenceMs, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            UPDATE tenant_moves SET step = $2, updated_at = clock_timestamp(), detail = coalesce(detail, '{}'::jsonb) || coalesce($3::jsonb, '{}'::jsonb),
                fence_ms = coalesce($4, fence_ms)
            WHERE id = $1
            """).With(id, StepName(step), detail is null ? null : JsonSerializer.Serialize(detail), fenceMs);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Ends a move as moved or rolled back.</summary>
    public async Task FinishAsync(long id, MoveStep outcome, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            UPDATE tenant_moves SET step = $2, updated_at = clock_timestamp(), finished_at = clock_timestamp(), outcome = $3 WHERE id = $1
            """).With(id, StepName(outcome), outcome == MoveStep.Done ? "moved" : "rolled_back");
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
