using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore shards</c>: each shard's state, and where a tenant lives.</summary>
internal static class ShardsCommand
{
    // One round trip per shard: what status shows, and what logical replication (tenant moves) needs.
    private const string StatusSql = """
        SELECT current_setting('server_version'),
               (SELECT count(*) FROM tenants),
               pg_database_size(current_database()),
               (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),
               current_setting('wal_level'),
               current_setting('max_replication_slots')::int,
               current_setting('max_wal_senders')::int,
               (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::bigint FROM pg_replication_slots
                WHERE slot_type = 'logical' AND database = current_database())
        """;

    public static Command Create()
    {
        var status = new Command("status", "Per shard: reachable, server version, tenants, size, connections, replication lag of a move in progress, what moves lack.")
        {
            CommonOptions.Json,
        };
        status.Runs(StatusAsync);

        var tenant = new Argument<string>("tenant") { Description = "a tenant's id or name" };
        var route = new Command("route", "Print the shard that holds a tenant (from the tenant directory).") { tenant, CommonOptions.Json };
        route.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var (found, target) = await shards.FindTenantAsync(parseResult.GetValue(tenant)!, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = found.Id, name = found.Name, shard = target.ShardName });
            else
                Output.Line($"tenant {found.Id} ({found.Name}): on shard '{target.ShardName}' ({target.Description})");
            return ExitCodes.Ok;
        });
        return new Command("shards", "Shards: every row of a tenant lives on the one shard the tenant directory names.") { status, route };
    }

    private static async Task<int> StatusAsync(ParseResult parseResult, CancellationToken ct)
    {
        var named = ShardTargets.Named(parseResult, ShardTargets.Configuration());
        await using var single = named.Count == 0 ? await DatabaseTarget.OpenAsync(parseResult, ct) : null;
        var sources = single is not null
            ? [(ShardRouter.DefaultShardName, single.DataSource, single.Description)]
            : named.Select(s => (s.Name, ConnectionSettings.Default.CreateDataSource(s.Url, "botstore-status"), DatabaseUrl.Redact(s.Url))).ToList();
        try
        {
            var rows = await Task.WhenAll(sources.Select(s => ProbeAsync(s.Item1, s.Item2, s.Item3, ct)));
            if (single is null && rows.FirstOrDefault(r => r.Reachable) is not null)
            {
                // The directory's count is what placement uses; a shard's own count includes a moved tenant's leftovers.
                var configured = ShardTargets.Configuration()[Server.ShardOptions.DirectoryKey];
                var directory = new TenantDirectory(sources.FirstOrDefault(s => s.Item1 == configured).Item2 ?? sources[0].Item2);
                try
                {
                    var counts = await directory.CountsAsync(ct);
                    rows = rows.Select(r => r with { DirectoryTenants = counts.GetValueOrDefault(r.Shard) }).ToArray();
                }
                catch (BotStoreException)
                {
                    // The directory shard is down: its row says so.
                }
            }
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(rows);
                return ExitCodes.Ok;
            }
            var table = Output.Table("shard", "where", "reachable", "version", ">tenants", ">in directory", ">size", ">connections", ">move lag", "moves need");
            foreach (var r in rows)
            {
                table.Row(r.Shard, r.Where, r.Reachable ? "yes" : $"no: {r.Error}", r.Version, r.Tenants, r.DirectoryTenants,
                    r.SizeBytes is { } size ? Output.Bytes(size) : null, r.Connections, r.MoveLagBytes is { } lag ? Output.Bytes(lag) : "-",
                    r.Missing.Count == 0 ? "-" : string.Join("; ", r.Missing));
            }
            Output.Print(table);
            return rows.All(r => r.Reachable) ? ExitCodes.Ok : ExitCodes.Failure;
        }
        finally
        {
            if (single is null)
            {
                foreach (var s in sources)
                    await s.Item2.DisposeAsync();
            }
        }
    }

    private static async Task<ShardStatus> ProbeAsync(string shard, NpgsqlDataSource dataSource, string where, CancellationToken ct)
    {
        try
        {
            return await PostgresErrors.Guard(async () =>
            {
                await using var cmd = dataSource.CreateCommand(StatusSql);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                await r.ReadAsync(ct);
                var missing = new List<string>();
                if (r.GetString(4) != "logical")
                    missing.Add($"wal_level = logical (is {r.GetString(4)}; needs a restart)");
                if (r.GetInt32(5) < 2)
                    missing.Add("max_replication_slots >= 2");
                if (r.GetInt32(6) < 2)
                    missing.Add("max_wal_senders >= 2");
                return new ShardStatus(shard, where, true, null, r.GetString(0), r.GetInt64(1), null, r.GetInt64(2), r.GetInt64(3),
                    r.IsDBNull(7) ? null : r.GetInt64(7), missing);
            });
        }
        catch (BotStoreException ex)
        {
            return new ShardStatus(shard, where, false, ex.Message, null, null, null, null, null, null, []);
        }
    }

    private sealed record ShardStatus(string Shard, string Where, bool Reachable, string? Error, string? Version, long? Tenants,
        long? DirectoryTenants, long? SizeBytes, long? Connections, long? MoveLagBytes, IReadOnlyList<string> Missing);
}
