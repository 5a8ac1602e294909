using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BotStore.Data.Internal;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Data;

/// <summary>A tenant: everything else belongs to exactly one.</summary>
public sealed record Tenant(long Id, string Name, bool IsActive, DateTimeOffset CreatedAt);

/// <summary>Who a bearer token belongs to: one tenant, or (TenantId null) an administrator.</summary>
public sealed record TokenOwner(long? TenantId)
{
    /// <summary>Whether this is an administrator token (for /admin).</summary>
    public bool IsAdmin => TenantId is null;
}

/// <summary>
/// Tenants and their bearer tokens. This is the platform operator's side, not a tenant's: it runs as the schema
/// owner. Tokens are shown once and stored as SHA-256 hashes.
/// </summary>
public sealed class TenantStore(NpgsqlDataSource dataSource)
{
    private const string TokenPrefix = "bst_";

    /// <summary>Creates a tenant with its first token, in one transaction.</summary>
    public Task<(Tenant Tenant, string Token)> CreateAsync(string name, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            throw new BotStoreValidationException("a tenant name must have 1 to 200 characters");
        var token = NewToken();
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            WITH t AS (INSERT INTO tenants (name) VALUES ($1) RETURNING id, name, is_active, created_at),
                 k AS (INSERT INTO api_tokens (tenant_id, token_hash) SELECT id, $2 FROM t)
            SELECT id, name, is_active, created_at FROM t
            """) { Parameters = { new() { Value = name.Trim() }, new() { Value = Hash(token) } } });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (Read(reader), token);
    });

    /// <summary>The tenant with this id.</summary>
    public async Task<Tenant> GetAsync(long id, CancellationToken ct = default) =>
        await FindAsync(id.ToString(CultureInfo.InvariantCulture), ct) ?? throw new BotStoreNotFoundException($"tenant {id} not found");

    /// <summary>The tenant whose id or name is <paramref name="idOrName"/>, or null; an ambiguous name is an error.</summary>
    public Task<Tenant?> FindAsync(string idOrName, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT id, name, is_active, created_at FROM tenants
            WHERE id = $1 OR ($1 IS NULL AND name = $2) LIMIT 2
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = long.TryParse(idOrName, CultureInfo.InvariantCulture, out var id) ? id : null });
        cmd.Parameters.Add(new NpgsqlParameter { Value = idOrName });
        var found = new List<Tenant>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found.Add(Read(reader));
        return found.Count > 1
            ? throw new BotStoreValidationException($"more than one tenant is named '{idOrName}': use its id")
            : found.SingleOrDefault();
    });

    /// <summary>Tenants in id order, one keyset page at a time.</summary>
    public Task<Page<Tenant>> ListAsync(string? after = null, int? limit = null, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        var take = Cursor.Limit(limit);
        var afterId = Paging.ParseCursor(after, 1, p => long.Parse(p[0], NumberStyles.None, CultureInfo.InvariantCulture)) ?? 0;
        await using var cmd = dataSource.CreateCommand("SELECT id, name, is_active, created_at FROM tenants WHERE id > $1 ORDER BY id LIMIT $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = take + 1 });
        var items = new List<Tenant>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            items.Add(Read(reader));
        return Paging.Page(items, take, t => Cursor.Encode(t.Id.ToString(CultureInfo.InvariantCulture)));
    });

    /// <summary>Revokes the tenant's tokens and issues a new one, in one transaction.</summary>
    public Task<string> RotateTokenAsync(long tenantId, CancellationToken ct = default) => IssueAsync(tenantId, ct);

    /// <summary>Revokes every administrator token and issues a new one.</summary>
    public Task<string> RotateAdminTokenAsync(CancellationToken ct = default) => IssueAsync(null, ct);

    /// <summary>Who the token belongs to, or null when it is unknown or revoked.</summary>
    public Task<TokenOwner?> AuthenticateAsync(string token, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length > 100)
            return null;
        await using var cmd = dataSource.CreateCommand("""
            SELECT k.tenant_id FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
            WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.tenant_id IS NULL OR t.is_active)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = Hash(token) });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new TokenOwner(reader.IsDBNull(0) ? null : reader.GetInt64(0)) : null;
    });

    private Task<string> IssueAsync(long? tenantId, CancellationToken ct) => PostgresErrors.Guard(async () =>
    {
        var token = NewToken();
        await using var cmd = dataSource.CreateCommand("""
            WITH revoked AS (
                UPDATE api_tokens SET revoked_at = now()
                WHERE tenant_id IS NOT DISTINCT FROM $1 AND revoked_at IS NULL
            )
            INSERT INTO api_tokens (tenant_id, token_hash)
            SELECT $1, $2 WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM tenants WHERE id = $1)
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Hash(token) });
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw new BotStoreNotFoundException($"tenant {tenantId} not found");
        return token;
    });

    private static string NewToken() => TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static Tenant Read(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetBoolean(2), r.GetFieldValue<DateTimeOffset>(3));
}
