using System.Globalization;
using System.Text;
using BotStore.Internal;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>One converted column: its names before, during and after the swap, its mapping and what it carried.</summary>
internal sealed record ColumnSpec(string Name, string NewName, string TextName, string? Domain, Dictionary<string, short> Mapping,
    bool NotNull, string? OldDefault, short? NewDefault, bool AddValueCheck)
{
    public string NotNullCheck => Names.Fit(NewName, "_nn");

    public string TextNotNullCheck => Names.Fit(TextName, "_nn");

    public string ValueCheck => Names.Fit(Name, "_values");

    /// <summary>The mapping as a CASE over <paramref name="source"/>; NULL for what it does not cover.</summary>
    public string MapSql(string source) =>
        $"CASE {source} {string.Concat(Mapping.Select(m => $"WHEN {Sql.Literal(m.Key)} THEN {m.Value.ToString(CultureInfo.InvariantCulture)} "))}END";

    /// <summary>Numbers back to names (the first name of each number: the domain's own before extra ones).</summary>
    public string UnmapSql(string source) =>
        $"CASE {source} {string.Concat(Mapping.GroupBy(m => m.Value).Select(g => $"WHEN {g.Key.ToString(CultureInfo.InvariantCulture)} THEN {Sql.Literal(g.First().Key)} "))}END";

    public string Numbers => string.Join(", ", Mapping.Values.Distinct().Order().Select(v => v.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>An index rebuilt on the new columns: <see cref="Tail"/> is its definition from <c>USING</c> on, rewritten.</summary>
internal sealed record IndexSpec(string Schema, string Name, string TempName, string TextName, bool Unique, string Tail, string Original);

/// <summary>A CHECK re-created on the new columns.</summary>
internal sealed record CheckSpec(string Name, string TempName, string TextName, string Rewritten, string Original, bool Valid);

/// <summary>
/// A view re-created on the SMALLINT columns at the swap (with the original's options, owner and grants). The original
/// is renamed, not dropped: it keeps reading the text columns until <c>finish</c> (a compatibility view for readers),
/// and a rollback renames it back untouched.
/// </summary>
internal sealed record ViewSpec(string Schema, string Name, string Original, string Rewritten, string? Options, string Owner, string[] Grants)
{
    public string Quoted => $"{SqlText.Ident(Schema)}.{SqlText.Ident(Name)}";

    public string TextName => Names.Fit(Name, "__text");

    public string QuotedText => $"{SqlText.Ident(Schema)}.{SqlText.Ident(TextName)}";

    public IEnumerable<string> CreateSql(string query)
    {
        yield return $"CREATE VIEW {Quoted}{(Options is null ? "" : $" WITH ({Options})")} AS {query.TrimEnd().TrimEnd(';')}";
        yield return $"ALTER VIEW {Quoted} OWNER TO {SqlText.Ident(Owner)}";
        foreach (var grant in Grants)
            yield return grant;
    }
}

/// <summary>
/// Everything a conversion needs, worked out before anything changes and kept in the target database
/// (<c>botstore_convert.conversions.spec</c>) so that a resumed <c>apply</c>, <c>rollback</c> and <c>finish</c>
/// act on what was planned, whatever options they are given.
/// </summary>
internal sealed record ConversionSpec(string Schema, string Table, uint Oid, bool Partitioned, string[] Key, string[] KeyTypes,
    string[] Leaves, ColumnSpec[] Columns, IndexSpec[] Indexes, CheckSpec[] Checks, ViewSpec[] Views)
{
    public string QualifiedName => $"{Schema}.{Table}";

    public string Quoted => $"{SqlText.Ident(Schema)}.{SqlText.Ident(Table)}";

    public string Function => $"botstore_convert.{SqlText.Ident($"sync_{Oid}")}";

    // BEFORE row triggers fire in name order: the last one sees the values every other trigger settled on.
    public const string Trigger = "zzz_botstore_convert_sync";

    public string KeyList(string prefix = "") => string.Join(", ", Key.Select(k => prefix + SqlText.Ident(k)));

    /// <summary>The row key as text, e.g. <c>id=42</c>, for messages.</summary>
    public string KeyText(string prefix) =>
        "concat_ws(', ', " + string.Join(", ", Key.Select(k => $"{Sql.Literal(k + "=")} || {prefix}{SqlText.Ident(k)}::text")) + ")";

    /// <summary>The trigger function before the swap: text to number, raising on a value the mapping does not cover.</summary>
    public string ForwardFunctionSql()
    {
        var body = new StringBuilder();
        foreach (var c in Columns)
        {
            var text = $"NEW.{SqlText.Ident(c.Name)}";
            var number = $"NEW.{SqlText.Ident(c.NewName)}";
            body.Append(CultureInfo.InvariantCulture, $"""
                  {number} := {c.MapSql(text)};
                  IF {number} IS NULL AND {text} IS NOT NULL THEN
                    RAISE EXCEPTION USING ERRCODE = '{Sql.UnmappedValue}', MESSAGE = format('%s.%s holds the value %L, which the mapping to SMALLINT does not cover (row %s)',
                      {Sql.Literal(QualifiedName)}, {Sql.Literal(c.Name)}, {text}, {KeyText("NEW.")});
                  END IF;

                """);
        }
        return FunctionSql(body.ToString());
    }

    /// <summary>The trigger function after the swap: number back to text, so that <c>verify</c> and <c>rollback</c> stay exact until <c>finish</c>.</summary>
    public string ReverseFunctionSql() =>
        FunctionSql(string.Concat(Columns.Select(c => $"  NEW.{SqlText.Ident(c.TextName)} := {c.UnmapSql($"NEW.{SqlText.Ident(c.Name)}")};\n")));

    private string FunctionSql(string body) =>
        $"CREATE OR REPLACE FUNCTION {Function}() RETURNS trigger LANGUAGE plpgsql AS $bsc$\nBEGIN\n{body}  RETURN NEW;\nEND\n$bsc$";
}

/// <summary>Names of the objects a conversion creates, fitted to PostgreSQL's 63 bytes.</summary>
internal static class Names
{
    public static string Fit(string name, string suffix)
    {
        var room = 63 - Encoding.UTF8.GetByteCount(suffix);
        while (Encoding.UTF8.GetByteCount(name) > room)
            name = name[..^1];
        return name + suffix;
    }
}

/// <summary>SQL literals and the error code of the sync trigger.</summary>
internal static class Sql
{
    /// <summary>SQLSTATE the sync trigger raises for a value outside the mapping (class "BS": BotStore's own).</summary>
    public const string UnmappedValue = "BSC01";

    /// <summary>A string literal (standard_conforming_strings is on since PostgreSQL 9.1).</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
