using System.Collections.Concurrent;
using System.Reflection;
using BotStore.Data;

namespace BotStore.Server;

/// <summary>
/// The tenant of the current request, from its bearer token, never from the URL or body. Declare a parameter of
/// this type on a /v1 endpoint to receive it.
/// </summary>
public readonly record struct CallerTenant(long Id)
{
    private const string ItemKey = "botstore.tenant";

    /// <summary>Minimal-API binding: reads what <see cref="TenantAuth"/> stored.</summary>
    public static ValueTask<CallerTenant> BindAsync(HttpContext http, ParameterInfo parameter) =>
        http.Items.TryGetValue(ItemKey, out var value) && value is long id
            ? ValueTask.FromResult(new CallerTenant(id))
            : throw new InvalidOperationException("CallerTenant bound on a route without tenant authentication");

    internal static void Set(HttpContext http, long id) => http.Items[ItemKey] = id;

    /// <summary>The authenticated tenant of the request, if any (for per-tenant limits).</summary>
    internal static long? Of(HttpContext http) => http.Items.TryGetValue(ItemKey, out var value) && value is long id ? id : null;
}

/// <summary>
/// Authenticates bearer tokens. Lookups are cached for <see cref="CacheFor"/> so the hot path costs no extra round
/// trip; a rotated or revoked token therefore stops working within that time.
/// </summary>
internal sealed class TenantAuth(TenantStore tenants, TimeProvider clock)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private const int MaxCached = 100_000;
    private readonly ConcurrentDictionary<string, (TokenOwner Owner, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    /// <summary>The token's owner, or null when there is no valid bearer token.</summary>
    public async Task<TokenOwner?> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return null;
        var token = header["Bearer ".Length..].Trim();
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(token, out var hit) && hit.Until > now)
            return hit.Owner;
        var owner = await tenants.AuthenticateAsync(token, http.RequestAborted);
        if (owner is not null)
        {
            if (_cache.Count >= MaxCached)
                _cache.Clear();
            _cache[token] = (owner, now + CacheFor);
        }
        return owner;
    }

    /// <summary>Middleware for /v1: a tenant token is required; its tenant is stored for <see cref="CallerTenant"/>.</summary>
    public static async Task RequireTenant(HttpContext http, RequestDelegate next)
    {
        var owner = await http.RequestServices.GetRequiredService<TenantAuth>().AuthenticateAsync(http);
        if (owner?.TenantId is not { } tenantId)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Result(StatusCodes.Status401Unauthorized,
                owner is null ? "a valid bearer token is required (Authorization: Bearer <token>; create one with 'botstore tenants create NAME')"
                              : "an administrator token cannot act as a tenant").ExecuteAsync(http);
            return;
        }
        CallerTenant.Set(http, tenantId);
        await next(http);
    }

    /// <summary>Middleware for /admin: an administrator token is required.</summary>
    public static async Task RequireAdmin(HttpContext http, RequestDelegate next)
    {
        var owner = await http.RequestServices.GetRequiredService<TenantAuth>().AuthenticateAsync(http);
        if (owner is not { IsAdmin: true })
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Result(owner is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden,
                "an administrator token is required (create one with 'botstore tenants admin-token')").ExecuteAsync(http);
            return;
        }
        await next(http);
    }
}
