using BotStore.Tooling.Internal;

namespace BotStore.Tooling.Embedded;

/// <summary>The PostgreSQL server programs BotStore runs its embedded cluster with.</summary>
public sealed record PostgresBinaries(string BinDirectory, int MajorVersion)
{
    /// <summary>The environment variable that names the folder holding initdb, pg_ctl and postgres.</summary>
    public const string BinEnvironmentVariable = "BOTSTORE_PG_BIN";

    private const string InstallHint = "install them with: apt-get install postgresql-15 postgresql-contrib (or set BOTSTORE_PG_BIN to the folder holding initdb and pg_ctl)";

    /// <summary>Path of one program in <see cref="BinDirectory"/>.</summary>
    public string Program(string name) => Path.Combine(BinDirectory, name);

    /// <summary>
    /// Finds the server programs: <c>BOTSTORE_PG_BIN</c>, then <c>pg_config --bindir</c>, then the newest
    /// <c>/usr/lib/postgresql/&lt;major&gt;/bin</c>. Throws one clear line naming the package when none is there.
    /// </summary>
    public static async Task<PostgresBinaries> LocateAsync(CancellationToken ct = default)
    {
        var fromEnv = Environment.GetEnvironmentVariable(BinEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return await FromDirectoryAsync(fromEnv, ct)
                ?? throw new BotStoreConfigurationException($"{BinEnvironmentVariable}={fromEnv} holds no initdb, pg_ctl and postgres: {InstallHint}");
        }
        foreach (var candidate in await CandidatesAsync(ct))
        {
            if (await FromDirectoryAsync(candidate, ct) is { } found)
                return found;
        }
        throw new BotStoreConfigurationException($"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: {InstallHint}");
    }

    private static async Task<List<string>> CandidatesAsync(CancellationToken ct)
    {
        var candidates = new List<string>();
        try
        {
            var result = await ProcessRunner.RunAsync("pg_config", ["--bindir"], ct: ct);
            if (result.ExitCode == 0)
                candidates.Add(result.Output.Trim());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config is not installed; the fixed folders below may still hold a server.
        }
        const string root = "/usr/lib/postgresql";
        if (Directory.Exists(root))
        {
            candidates.AddRange(Directory.GetDirectories(root)
                .Select(d => (Dir: d, Major: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(x => x.Major)
                .Select(x => Path.Combine(x.Dir, "bin")));
        }
        return candidates;
    }

    private static async Task<PostgresBinaries?> FromDirectoryAsync(string dir, CancellationToken ct)
    {
        if (!new[] { "initdb", "pg_ctl", "postgres" }.All(p => File.Exists(Path.Combine(dir, p))))
            return null;
        var version = await ProcessRunner.RunCheckedAsync(Path.Combine(dir, "postgres"), ["--version"], "postgres --version", ct: ct);
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        var number = version.Split(' ').FirstOrDefault(w => w.Length > 0 && char.IsDigit(w[0])) ?? "0";
        return new PostgresBinaries(dir, int.Parse(number.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture));
    }
}
