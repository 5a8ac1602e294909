using System.Diagnostics;
using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// psql and pgbench, pointed at the same database as the Npgsql side through the libpq environment (host, port,
/// user, password, database, sslmode taken from its connection string), over TCP like Npgsql.
/// </summary>
internal sealed class PgTools
{
    private readonly Dictionary<string, string> _environment;
    private readonly string _binDirectory;

    private PgTools(string binDirectory, Dictionary<string, string> environment)
    {
        _binDirectory = binDirectory;
        _environment = environment;
    }

    public static async Task<PgTools> ForAsync(string connectionString, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var environment = new Dictionary<string, string>
        {
            ["PGHOST"] = builder.Host ?? "127.0.0.1",
            ["PGPORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = builder.Username ?? Environment.UserName,
            ["PGDATABASE"] = builder.Database ?? "postgres",
            ["PGAPPNAME"] = "botstore-bench",
            ["PGSSLMODE"] = builder.SslMode switch
            {
                SslMode.Disable => "disable",
                SslMode.Require => "require",
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                _ => "prefer",
            },
        };
        if (!string.IsNullOrEmpty(builder.Password))
            environment["PGPASSWORD"] = builder.Password;
        var bin = (await PostgresBinaries.LocateAsync(ct)).BinDirectory;
        foreach (var program in new[] { "psql", "pgbench" })
        {
            if (!File.Exists(Path.Combine(bin, program)))
                throw new BotStoreConfigurationException($"{program} not found in {bin}: install postgresql-client and postgresql-contrib (scripts/ensure-deps.sh bench)");
        }
        return new PgTools(bin, environment);
    }

    public sealed record Result(int ExitCode, string Output, string Error, TimeSpan Elapsed);

    /// <summary>Runs psql or pgbench; throws with its last error line when it fails.</summary>
    public async Task<Result> RunAsync(string program, IEnumerable<string> args, string workingDirectory, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(Path.Combine(_binDirectory, program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (key, value) in _environment)
            psi.Environment[key] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new BotStoreConfigurationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var result = new Result(process.ExitCode, await stdout, await stderr, clock.Elapsed);
        if (result.ExitCode != 0)
        {
            var last = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit code {result.ExitCode}";
            throw new BotStoreException($"{program} failed: {last.Trim()}");
        }
        return result;
    }
}
