using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace BotStore.Schema;

/// <summary>One versioned SQL migration embedded in the library (<c>Schema/Migrations/NNNN_name.sql</c>).</summary>
public sealed partial record Migration(int Version, string Name, string Sql, string Checksum, bool InTransaction)
{
    /// <summary>A first line of <c>-- botstore:no-transaction</c> runs the file statement by statement outside a transaction, for e.g. <c>CREATE INDEX CONCURRENTLY</c>.</summary>
    public const string NoTransactionMarker = "-- botstore:no-transaction";

    private const string ResourcePrefix = "BotStore.Migrations.";

    /// <summary>Every migration this build carries, in version order.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load(typeof(Migration).Assembly);

    /// <summary>The newest version this build knows.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>Parses a migration from its file name and text; the checksum ignores line-ending style.</summary>
    public static Migration Parse(string fileName, string sql)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
            throw new BotStoreMigrationException($"migration file '{fileName}' is not named NNNN_name.sql");
        var normalized = sql.Replace("\r\n", "\n", StringComparison.Ordinal);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
        var inTransaction = !normalized.StartsWith(NoTransactionMarker, StringComparison.Ordinal);
        return new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            match.Groups[2].Value, normalized, checksum, inTransaction);
    }

    /// <summary>The statements of a no-transaction migration: it is split after every line that ends in a semicolon, so such files must not hold function bodies.</summary>
    public IEnumerable<string> Statements()
    {
        var current = new StringBuilder();
        foreach (var line in Sql.Split('\n'))
        {
            current.AppendLine(line);
            if (line.TrimEnd().EndsWith(';'))
            {
                yield return current.ToString();
                current.Clear();
            }
        }
        if (current.ToString().Trim().Length > 0 && !IsOnlyComments(current.ToString()))
            yield return current.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Version:D4}_{Name}";

    private static bool IsOnlyComments(string text) =>
        text.Split('\n').All(l => l.Trim().Length == 0 || l.TrimStart().StartsWith("--", StringComparison.Ordinal));

    private static Migration[] Load(Assembly assembly)
    {
        var migrations = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return Parse(n[ResourcePrefix.Length..], reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToArray();
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new BotStoreMigrationException($"two migrations share version {duplicate.Key}: {string.Join(", ", duplicate)}");
        return migrations;
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileNamePattern();
}
