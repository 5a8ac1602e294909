using System.Text.Json;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Sharding;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data;

/// <summary>
/// An analytics event to store. <see cref="Id"/> is the client's UUIDv7 (its timestamp is the event's time; a
/// retried batch skips the ids already stored); without one the store makes one.
/// </summary>
public sealed record NewEvent(string Name, ChannelType Channel)
{
    /// <summary>The client's UUIDv7 id, or null to have one made.</summary>
    public Guid? Id { get; init; }

    /// <summary>The bot the event concerns, if any (not checked: an event may outlive what it describes).</summary>
    public Guid? BotId { get; init; }

    /// <summary>The user the event concerns, if any.</summary>
    public Guid? UserId { get; init; }

    /// <summary>The session the event concerns, if any.</summary>
    public Guid? SessionId { get; init; }

    /// <summary>Free-form JSON properties.</summary>
    public JsonElement? Properties { get; init; }
}

/// <summary>Analytics events, written in batches through binary COPY (see <see cref="IngestAsync(long, IReadOnlyList{NewEvent}, CancellationToken)"/>).</summary>
public sealed class AnalyticsStore(ShardRouter shards)
{
    /// <summary>A store over one database (one shard).</summary>
    public AnalyticsStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    internal const string CreateIncomingSql = """
        CREATE TEMP TABLE botstore_incoming_events (
            id UUID NOT NULL, created_at TIMESTAMPTZ NOT NULL, bot_id UUID, user_id UUID, session_id UUID,
            channel SMALLINT NOT NULL, name TEXT NOT NULL, properties JSONB
        ) ON COMMIT DROP
        """;

    internal const string CopyIncomingSql = """
        COPY botstore_incoming_events (id, created_at, bot_id, user_id, session_id, channel, name, properties) FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>Moves the batch into analytics_events under the tenant's policy; ids already stored are skipped.</summary>
    internal const string InsertSql = """
        WITH inserted AS (
            INSERT INTO analytics_events (tenant_id, created_at, id, bot_id, user_id, session_id, channel, name, properties)
            SELECT $1, created_at, id, bot_id, user_id, session_id, channel, name, properties
            FROM botstore_incoming_events
            ORDER BY created_at
            ON CONFLICT (tenant_id, id, created_at) DO NOTHING
            RETURNING 1
        )
        SELECT count(*)::int FROM inserted
        """;

    /// <summary>Which of the batch's (id, created_at) are stored: a primary-key probe per id, in its one partition.</summary>
    internal static readonly string StoredIdsSql = DirectCopy.StoredIdsSql("analytics_events");

    internal const string CopyEventsSql = """
        COPY analytics_events (tenant_id, id, created_at, bot_id, user_id, session_id, channel, name, properties) FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>
    /// Stores a batch of events in one transaction; returns how many were new. A login role that may COPY into a
    /// table under row-level security finds the stored ids as botstore_app and copies the new events straight into
    /// analytics_events (see <see cref="DirectCopy"/>); any other goes through a temporary table.
    /// </summary>
    public Task<BulkResult> IngestAsync(long tenantId, IReadOnlyList<NewEvent> events, CancellationToken ct = default) =>
        LoadAsync(tenantId, CheckAll(events), ct);

    private static List<EventRow> CheckAll(IReadOnlyList<NewEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return events.Select(Check).ToList();
    }

    private Task<BulkResult> LoadAsync(long tenantId, List<EventRow> rows, CancellationToken ct) =>
        shards.RunAsync(tenantId, dataSource =>
            BulkCopy.LoadAsync(dataSource, tenantId, rows, token => CopyBatchAsync(dataSource, tenantId, rows, token), IncomingEvents, ct));

    private static BulkCopy.TempTable<EventRow> IncomingEvents =>
        new(CreateIncomingSql, CopyIncomingSql, WriteRowAsync, InsertSql);

    /// <summary>The temporary-table path for <see cref="NewEvent"/>s, for <c>bench ingest-steps</c> to time step by step.</summary>
    internal static BulkCopy.TempTable<NewEvent> IncomingTable =>
        new(CreateIncomingSql, CopyIncomingSql, (w, e, ct) => WriteRowAsync(w, Check(e, 0), ct), InsertSql);

    /// <summary>Stores a stream of events in batches of <paramref name="batchSize"/>, each its own transaction; the next is read and checked while one loads.</summary>
    public Task<BulkResult> IngestAsync(long tenantId, IAsyncEnumerable<NewEvent> events, int batchSize = MessageStore.DefaultBulkBatchSize,
        CancellationToken ct = default) =>
        BulkCopy.InBatchesAsync(events, batchSize, CheckAll, (rows, token) => LoadAsync(tenantId, rows, token), ct);

    /// <summary>One batch on the direct path with its steps timed, for <c>bench ingest-steps</c>.</summary>
    internal static async Task<int> TimedBatchAsync(NpgsqlDataSource dataSource, long tenantId, IReadOnlyList<NewEvent> events, BatchLaps laps,
        CancellationToken ct)
    {
        laps.Start();
        var rows = events.Select(Check).ToList();
        laps.Lap("check the events");
        return await CopyBatchAsync(dataSource, tenantId, rows, ct, laps);
    }

    private static async Task<int> CopyBatchAsync(NpgsqlDataSource dataSource, long tenantId, List<EventRow> rows,
        CancellationToken ct, BatchLaps? laps = null)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        laps?.Lap("open");
        var stored = new HashSet<Guid>();
        await using (var batch = TenantScope.Batch(conn, tenantId)
            .Add(DirectCopy.PlanEachBatchSql)
            .Add(StoredIdsSql, tenantId, rows.Select(r => r.Id).ToArray(), rows.Select(r => Uuid7.Timestamp(r.Id)).ToArray())
            .Add(DirectCopy.UnscopeSql))
        {
            await using var reader = await batch.ReadAsync(ct);
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
                stored.Add(reader.GetGuid(0));
        }
        laps?.Lap("probe stored ids (one round trip)");
        var fresh = stored.Count == 0 && Ascending(rows) ? rows : rows.Where(r => !stored.Contains(r.Id)).DistinctBy(r => r.Id).OrderBy(r => r.Id).ToList();
        laps?.Lap("skip stored and repeated ids, order (client)");
        if (fresh.Count > 0)
        {
            await BulkCopy.CopyAsync(conn, CopyEventsSql, fresh, async (w, r, token) =>
            {
                await w.WriteAsync(tenantId, NpgsqlDbType.Bigint, token);
                await WriteRowAsync(w, r, token);
            }, ct);
        }
        laps?.Lap("binary COPY into analytics_events");
        await tx.CommitAsync(ct);
        laps?.Lap("COMMIT");
        return fresh.Count;
    }

    // Ids strictly ascending (a client's UUIDv7s in the order it made them): no repeats, already in the COPY's order.
    private static bool Ascending(List<EventRow> rows)
    {
        for (var i = 1; i < rows.Count; i++)
        {
            if (rows[i - 1].Id.CompareTo(rows[i].Id) >= 0)
                return false;
        }
        return true;
    }

    /// <summary>An event checked and ready to copy: its id (the client's or a new one) and its columns as stored.</summary>
    private readonly record struct EventRow(Guid Id, NewEvent Event, short Channel, string Name, string? Properties);

    private static EventRow Check(NewEvent e, int ord)
    {
        ArgumentNullException.ThrowIfNull(e);
        var id = e.Id ?? Uuid7.New();
        if (!Uuid7.IsVersion7(id))
            throw new BotStoreValidationException($"events[{ord}]: id {id} is not a UUIDv7 (its timestamp is the event's created_at)");
        var properties = e.Properties is { ValueKind: JsonValueKind.Undefined or JsonValueKind.Null } ? null : JsonValues.Text(e.Properties, $"events[{ord}].properties");
        return new EventRow(id, e, Rows.Value(e.Channel), Rows.Text(e.Name, $"events[{ord}].name", 200), properties);
    }

    private static async Task WriteRowAsync(NpgsqlBinaryImporter w, EventRow r, CancellationToken ct)
    {
        await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(Uuid7.Timestamp(r.Id), NpgsqlDbType.TimestampTz, ct);
        await w.WriteAsync(r.Event.BotId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.Event.UserId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.Event.SessionId, NpgsqlDbType.Uuid, ct);
        await w.WriteAsync(r.Channel, NpgsqlDbType.Smallint, ct);
        await w.WriteAsync(r.Name, NpgsqlDbType.Text, ct);
        await w.WriteAsync(r.Properties, NpgsqlDbType.Jsonb, ct);
    }
}
