using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BotStore.Data.Internal;
using BotStore.Internal;
using BotStore.Sharding;
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
/// owner, on each shard's direct data source. Tokens are shown once and stored as SHA-256 hashes. A tenant's token
/// names the tenant (<c>bst_{id}.{secret}</c>), so authenticating it asks only the tenant's shard; administrator
/// tokens live on the directory shard. Over several shards, ids come from the directory (no two shards share one)
/// and lists gather every shard's tenants.
/// </summary>
public sealed class TenantStore(ShardRouter shards)
{
    private const string TokenPrefix = "bst_";
    private const string Columns = "id, name, is_active, created_at";

    /// <summary>A store over one database (one shard).</summary>
    public TenantStore(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    /// <summary>
    /// Creates a tenant with its first token, in one transaction, on <paramref name="shard"/> or else on the shard
    /// with the fewest tenants that answers.
    /// </summary>
    /// <exception cref="BotStoreValidationException">A bad name, or an unknown shard.</exception>
    public Task<(Tenant Tenant, string Token)> CreateAsync(string name, string? shard = null, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            throw new BotStoreValidationException("a tenant name must have 1 to 200 characters");
        var named = shard is null ? null : shards.Get(shard);
        if (shards.IsSingle)
            return await InsertAsync(shards.Shards[0], null, name, ct);
        var candidates = named is not null ? [named] : await FewestFirstAsync(ct);
        for (var i = 0; ; i++)
        {
            var target = candidates[i];
            var id = await shards.Directory.PlaceNewAsync(target.Name, ct);
            try
            {
                return await PostgresErrors.Guard(() => InsertAsync(target, id, name, ct));
            }
            catch (Exception ex)
            {
                await shards.Directory.UnplaceAsync(id, target.Name, CancellationToken.None);
                if (ex is BotStoreUnavailableException && i + 1 < candidates.Count)
                    continue; // the shard does not answer: place the tenant on the next one
                throw ex is BotStoreUnavailableException ? ShardRouter.ShardError(target, ex) : ex;
            }
        }
    });

    /// <summary>Creates a tenant with its first token on the shard with the fewest tenants.</summary>
    public Task<(Tenant Tenant, string Token)> CreateAsync(string name, CancellationToken ct) => CreateAsync(name, null, ct);

    /// <summary>The shard a tenant lives on (the directory's answer; the one shard when there is one).</summary>
    public async Task<string> ShardOfAsync(long tenantId, CancellationToken ct = default) => (await shards.ShardOfAsync(tenantId, ct)).Name;

    /// <summary>The tenant with this id.</summary>
    public async Task<Tenant> GetAsync(long id, CancellationToken ct = default) =>
        await FindAsync(id.ToString(CultureInfo.InvariantCulture), ct) ?? throw new BotStoreNotFoundException($"tenant {id} not found");

    /// <summary>The tenant whose id or name is <paramref name="idOrName"/>, or null; an ambiguous name is an error.</summary>
    public Task<Tenant?> FindAsync(string idOrName, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        List<Tenant> found;
        if (long.TryParse(idOrName, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            Shard shard;
            try
            {
                shard = await shards.ShardOfAsync(id, ct);
            }
            catch (BotStoreNotFoundException)
            {
                return null;
            }
            found = await SelectAsync(shard, "WHERE id = $1", ct, id);
        }
        else
        {
            found = (await shards.AllAsync((shard, token) => SelectAsync(shard, "WHERE name = $1 LIMIT 2", token, idOrName), ct))
                .SelectMany(a => a.Value).ToList();
        }
        return found.Count > 1
            ? throw new BotStoreValidationException($"more than one tenant is named '{idOrName}': use its id")
            : found.SingleOrDefault();
    });

    /// <summary>Tenants in id order (over every shard), one keyset page at a time.</summary>
    public Task<Page<Tenant>> ListAsync(string? after = null, int? limit = null, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        var take = Cursor.Limit(limit);
        var afterId = Paging.ParseCursor(after, 1, p => long.Parse(p[0], NumberStyles.None, CultureInfo.InvariantCulture)) ?? 0;
        // Ids are unique over all shards, so the merged page of each shard's first take + 1 is the global page.
        var items = (await shards.AllAsync((shard, token) => SelectAsync(shard, "WHERE id > $1 ORDER BY id LIMIT $2", token, afterId, take + 1), ct))
            .SelectMany(a => a.Value).OrderBy(t => t.Id).Take(take + 1).ToList();
        return Paging.Page(items, take, t => Cursor.Encode(t.Id.ToString(CultureInfo.InvariantCulture)));
    });

    /// <summary>Revokes the tenant's tokens and issues a new one, in one transaction.</summary>
    public async Task<string> RotateTokenAsync(long tenantId, CancellationToken ct = default)
    {
        var shard = await shards.ShardOfAsync(tenantId, ct);
        return await IssueAsync(shard, tenantId, ct);
    }

    /// <summary>Revokes every administrator token and issues a new one (on the directory shard).</summary>
    public Task<string> RotateAdminTokenAsync(CancellationToken ct = default) => IssueAsync(shards.DirectoryShard, null, ct);

    /// <summary>Who the token belongs to, or null when it is unknown or revoked.</summary>
    public Task<TokenOwner?> AuthenticateAsync(string token, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length > 100)
            return null;
        if (TenantOf(token) is { } tenantId)
        {
            Shard shard;
            try
            {
                shard = await shards.ShardOfAsync(tenantId, ct);
            }
            catch (BotStoreNotFoundException)
            {
                return null;
            }
            // Through the router's fail-fast: a shard that is down refuses its tenants' tokens at once, with 503.
            var owner = await shards.OnShardAsync(shard, _ => LookUpAsync(shard, token, ct), ct);
            return owner?.TenantId == tenantId ? owner : null;
        }
        // Administrator tokens (and tokens issued before tokens named their tenant): the directory shard, then the others.
        if (await LookUpAsync(shards.DirectoryShard, token, ct) is { } found)
            return found;
        var others = await shards.AllAsync((shard, token2) => shard == shards.DirectoryShard
            ? Task.FromResult<TokenOwner?>(null)
            : LookUpAsync(shard, token, token2), ct);
        return others.Select(o => o.Value).FirstOrDefault(o => o is not null);
    });

    private async Task<IReadOnlyList<Shard>> FewestFirstAsync(CancellationToken ct)
    {
        var counts = await shards.Directory.CountsAsync(ct);
        return shards.Shards.OrderBy(s => counts.GetValueOrDefault(s.Name)).ToArray();
    }

    private static async Task<(Tenant Tenant, string Token)> InsertAsync(Shard shard, long? id, string name, CancellationToken ct)
    {
        if (id is null)
        {
            await using var next = shard.Direct.CreateCommand("SELECT botstore_next_tenant_id()");
            id = (long)(await next.ExecuteScalarAsync(ct))!;
        }
        // The token names the tenant, so the id is taken first.
        var token = TokenFor(id, NewSecret());
        await using var batch = shard.Direct.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            WITH t AS (INSERT INTO tenants (id, name) VALUES ($3, $1) RETURNING {Columns}),
                 k AS (INSERT INTO api_tokens (tenant_id, token_hash) SELECT id, $2 FROM t)
            SELECT {Columns} FROM t
            """) { Parameters = { new() { Value = name.Trim() }, new() { Value = Hash(token) }, new() { Value = id.Value } } });
        var sent = Rows.UntilSent(ct);
        await using var reader = await batch.ExecuteReaderAsync(sent);
        await reader.ReadAsync(sent);
        return (Read(reader), token);
    }

    private static async Task<List<Tenant>> SelectAsync(Shard shard, string where, CancellationToken ct, params object[] args)
    {
        await using var cmd = shard.Direct.CreateCommand($"SELECT {Columns} FROM tenants {where}");
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        var found = new List<Tenant>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found.Add(Read(reader));
        return found;
    }

    private static async Task<TokenOwner?> LookUpAsync(Shard shard, string token, CancellationToken ct)
    {
        await using var cmd = shard.Tenants.CreateCommand("""
            SELECT k.tenant_id FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
            WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.tenant_id IS NULL OR t.is_active)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = Hash(token) });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new TokenOwner(reader.IsDBNull(0) ? null : reader.GetInt64(0)) : null;
    }

    private static Task<string> IssueAsync(Shard shard, long? tenantId, CancellationToken ct) => PostgresErrors.Guard(async () =>
    {
        var token = TokenFor(tenantId, NewSecret());
        await using var cmd = shard.Direct.CreateCommand("""
            WITH revoked AS (
                UPDATE api_tokens SET revoked_at = now()
                WHERE tenant_id IS NOT DISTINCT FROM $1 AND revoked_at IS NULL
            )
            INSERT INTO api_tokens (tenant_id, token_hash)
            SELECT $1, $2 WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM tenants WHERE id = $1)
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Hash(token) });
        if (await cmd.ExecuteNonQueryAsync(Rows.UntilSent(ct)) == 0)
            throw new BotStoreNotFoundException($"tenant {tenantId} not found");
        return token;
    });

    // bst_{tenant}.{secret} for a tenant, bst_{secret} for an administrator: base64url has no '.'.
    private static string TokenFor(long? tenantId, string secret) =>
        tenantId is { } id ? $"{TokenPrefix}{id.ToString(CultureInfo.InvariantCulture)}.{secret}" : TokenPrefix + secret;

    private static long? TenantOf(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        return dot > TokenPrefix.Length && long.TryParse(token.AsSpan(TokenPrefix.Length, dot - TokenPrefix.Length), NumberStyles.None,
            CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static Tenant Read(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetBoolean(2), r.GetFieldValue<DateTimeOffset>(3));
}
