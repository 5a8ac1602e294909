using System.Globalization;
using System.Text.RegularExpressions;
using BotStore.Data;
using BotStore.Data.Internal;

namespace BotStore.Bench;

/// <summary>
/// pgbench scripts that run the stores' own SQL (the same constants the stores send) the way the stores send it:
/// prepared statements in one pipeline per transaction (one round trip, one implicit transaction, like an Npgsql
/// batch); run them with -M prepared. What pgbench cannot pass as a parameter is spelled out: the session id is
/// built from a random number (bench sessions are 00000000-0000-7000-8000-000000NNNNNN), the message id comes
/// from bench_uuid7() through a transaction-local setting.
/// </summary>
internal static partial class PgBenchScripts
{
    private const string Session = "('00000000-0000-7000-8000-000000' || :n)::uuid";
    private const string NewId = "current_setting('bench.id')::uuid";

    public static void Write(string folder, long tenantId)
    {
        var tenant = tenantId.ToString(CultureInfo.InvariantCulture);
        var pick = "\\set n random(100001, 100000 + :sessions)\n";

        // The append function scopes its transaction itself (migration 0026): no scope statement before it.
        var append = Pipeline([
            "SELECT set_config('bench.id', bench_uuid7()::text, true)",
            Bind(MessageStore.AppendSql, tenant, NewId, $"uuid7_time({NewId})", "1::smallint", "0::smallint", "'a benchmark message of about the size of a chat line'", "NULL::jsonb"),
        ]);
        File.WriteAllText(Path.Combine(folder, "append.sql"), pick + append);

        // So does the history function (migration 0027).
        var history = Pipeline([
            Bind(MessageStore.HistorySql, tenant, "'1970-01-01'::timestamptz", "'9999-12-31'::timestamptz", "-1", "2147483647", "21", "true"),
        ]);
        File.WriteAllText(Path.Combine(folder, "history.sql"), pick + history);
    }

    private static string Pipeline(string[] statements) => "\\startpipeline\n" + string.Concat(statements.Select(s => s + ";\n")) + "\\endpipeline\n";

    // $1 is the tenant, $2 the session, $3... the rest in order; one line per statement (pgbench reads lines).
    private static string Bind(string sql, string tenant, params string[] rest)
    {
        var values = new[] { tenant, Session }.Concat(rest).ToArray();
        var bound = Parameter().Replace(sql, m => values[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) - 1]);
        return Whitespace().Replace(bound, " ").Trim();
    }

    [GeneratedRegex(@"\$(\d+)")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
