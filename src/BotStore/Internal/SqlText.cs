using System.Reflection;

namespace BotStore.Internal;

/// <summary>SQL text helpers: identifier quoting and the embedded <c>**/Sql/*.sql</c> resources.</summary>
internal static class SqlText
{
    /// <summary>A double-quoted identifier, for names read from the catalog that go into DDL.</summary>
    public static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The text of <c>Sql/&lt;name&gt;.sql</c>, embedded as <c>BotStore.Sql.&lt;name&gt;.sql</c>.</summary>
    public static string Embedded(string name)
    {
        var assembly = typeof(SqlText).Assembly;
        using var stream = assembly.GetManifestResourceStream($"BotStore.Sql.{name}.sql")
            ?? throw new InvalidOperationException($"embedded SQL '{name}' is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>An <c>oid</c> parameter (Npgsql has no default type for <see cref="uint"/>); null sends NULL.</summary>
    public static Npgsql.NpgsqlParameter Oid(uint? value) => new() { Value = value is { } v ? v : DBNull.Value, DataTypeName = "oid" };

    /// <summary>An <c>oid[]</c> parameter.</summary>
    public static Npgsql.NpgsqlParameter Oids(IEnumerable<uint> values) => new() { Value = values.ToArray(), DataTypeName = "oid[]" };

    /// <summary>Adds positional parameters ($1, $2, ...) to a command.</summary>
    public static TCommand With<TCommand>(this TCommand command, params object?[] args) where TCommand : Npgsql.NpgsqlCommand
    {
        foreach (var arg in args)
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = arg ?? DBNull.Value });
        return command;
    }
}
