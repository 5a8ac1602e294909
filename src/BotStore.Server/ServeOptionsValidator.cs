using System.Net;
using System.Net.Sockets;
using BotStore.Server.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BotStore.Server;

/// <summary>
/// Checks <see cref="ServeOptions"/> before anything is changed: every failure names its setting
/// (e.g. <c>BotStore:TenantPool:MinConnections</c>), so that an operator knows which line to fix.
/// </summary>
public sealed class ServeOptionsValidator : IValidateOptions<ServeOptions>
{
    private const string S = ServeOptions.SectionName;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ServeOptions options)
    {
        var failures = new List<string>();
        if (options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is not { Length: > 0 } urls)
            failures.Add($"{S}:Urls is empty");
        else
        {
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                        UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/")
                    failures.Add($"{S}:Urls: '{url}' is not a listen address like http://127.0.0.1:8080");
            }
        }
        Positive(failures, "MaxContentBytes", options.MaxContentBytes);
        Positive(failures, "MaxPageSize", options.MaxPageSize);
        Positive(failures, "MaxRequestBytes", options.MaxRequestBytes);
        if (options.MaxClientClockSkew <= TimeSpan.Zero)
            failures.Add($"{S}:MaxClientClockSkew must be positive (got {options.MaxClientClockSkew})");
        Pool(failures, "TenantPool", options.TenantPool);
        Pool(failures, "OperationsPool", options.OperationsPool);
        if (options.OperationsPool.ThroughPgBouncer)
            failures.Add($"{S}:OperationsPool:ThroughPgBouncer must be false: scheduled operations hold session locks, which PgBouncer's transaction mode cannot keep");
        if (!options.OperationsPool.ResetOnClose)
            failures.Add($"{S}:OperationsPool:ResetOnClose must be true: the reset releases a session lock that a failed scheduled operation left behind");
        if (options.Sweeper.Interval <= TimeSpan.Zero)
            failures.Add($"{S}:Sweeper:Interval must be positive (got {options.Sweeper.Interval})");
        Positive(failures, "Sweeper:BatchSize", options.Sweeper.BatchSize);
        if (options.ShardFailFast < TimeSpan.Zero)
            failures.Add($"{S}:ShardFailFast must be zero or positive (got {options.ShardFailFast})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Binds the <c>BotStore</c> section and validates it; the first failure is one line naming its setting.</summary>
    /// <exception cref="BotStoreConfigurationException">A setting cannot work.</exception>
    public static ServeOptions Load(IConfiguration configuration) => OptionsBinding.Load(configuration, S, new ServeOptionsValidator());

    /// <summary>Validates <paramref name="options"/>; the failures become one line naming each setting.</summary>
    /// <exception cref="BotStoreConfigurationException">A setting cannot work.</exception>
    public static ServeOptions Check(ServeOptions options) => OptionsBinding.Check(options, new ServeOptionsValidator());

    /// <summary>Fails when an address of <see cref="ServeOptions.Urls"/> is already taken, before anything is changed.</summary>
    /// <exception cref="BotStoreConfigurationException">Another process listens there.</exception>
    public static void CheckAddressesFree(ServeOptions options)
    {
        foreach (var url in options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var uri = new Uri(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
            if (uri.Port == 0)
                continue;
            var address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host, out var ip) ? ip : null;
            if (address is null)
                continue;
            try
            {
                using var listener = new TcpListener(address, uri.Port);
                listener.Start();
                listener.Stop();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new BotStoreConfigurationException($"{S}:Urls: {uri.Host}:{uri.Port} is already in use by another process");
            }
            catch (SocketException ex)
            {
                throw new BotStoreConfigurationException($"{S}:Urls: cannot listen on {uri.Host}:{uri.Port}: {ex.Message}");
            }
        }
    }

    private static void Positive(List<string> failures, string setting, long value)
    {
        if (value < 1)
            failures.Add($"{S}:{setting} must be positive (got {value})");
    }

    private static void Pool(List<string> failures, string pool, PoolOptions p)
    {
        if (p.MaxConnections < 1)
            failures.Add($"{S}:{pool}:MaxConnections must be at least 1 (got {p.MaxConnections})");
        if (p.MinConnections < 0)
            failures.Add($"{S}:{pool}:MinConnections must not be negative (got {p.MinConnections})");
        if (p.MinConnections > p.MaxConnections)
            failures.Add($"{S}:{pool}:MinConnections ({p.MinConnections}) is above {S}:{pool}:MaxConnections ({p.MaxConnections})");
        if (p.ConnectionTimeoutSecs < 1)
            failures.Add($"{S}:{pool}:ConnectionTimeoutSecs must be at least 1 (got {p.ConnectionTimeoutSecs})");
        if (p.IdleTimeoutSecs < 1)
            failures.Add($"{S}:{pool}:IdleTimeoutSecs must be at least 1 (got {p.IdleTimeoutSecs})");
        if (p.MaxLifetimeSecs < 0)
            failures.Add($"{S}:{pool}:MaxLifetimeSecs must not be negative (got {p.MaxLifetimeSecs})");
        if (!string.IsNullOrWhiteSpace(p.ConnectionString))
        {
            try
            {
                p.ToConnectionSettings().Apply(p.ConnectionString);
            }
            catch (BotStoreConfigurationException ex)
            {
                failures.Add($"{S}:{pool}:ConnectionString: {DatabaseUrl.Redact(ex.Message)}");
            }
        }
    }
}
