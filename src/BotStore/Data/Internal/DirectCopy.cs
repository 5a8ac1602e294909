using System.Runtime.CompilerServices;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// Bulk loads by binary COPY straight into the partitioned table, for connections whose login role PostgreSQL lets
/// COPY into a table under row-level security (a superuser or a BYPASSRLS role; others take <see cref="BulkCopy"/>).
/// Everything that reads tenant rows still runs as botstore_app with the tenant set, so the policy checks which
/// sessions and stored ids the batch may see exactly as it checks an INSERT; only the COPY of rows the library has
/// already checked, and built itself with the caller's tenant_id, runs as the login role, in the same transaction.
/// </summary>
internal static class DirectCopy
{
    /// <summary>Leaves botstore_app for the rest of the transaction (the scope set it transaction-locally).</summary>
    public const string UnscopeSql = "SELECT set_config('role', 'none', true)";

    private const string MayCopySql = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user";

    private static readonly ConditionalWeakTable<NpgsqlDataSource, Task<bool>> Allowed = new();

    /// <summary>Whether this data source's login role may COPY into a table under row-level security (asked once).</summary>
    public static Task<bool> AllowedAsync(NpgsqlDataSource dataSource) =>
        Allowed.GetValue(dataSource, async ds =>
        {
            await using var cmd = ds.CreateCommand(MayCopySql);
            return await cmd.ExecuteScalarAsync() is true;
        });
}
