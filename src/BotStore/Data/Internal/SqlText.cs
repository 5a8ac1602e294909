namespace BotStore.Data.Internal;

/// <summary>Long statements kept as embedded <c>Sql/*.sql</c> files (resources named <c>BotStore.Sql.&lt;file&gt;.sql</c>).</summary>
internal static class SqlText
{
    /// <summary>The text of <c>Sql/<paramref name="name"/>.sql</c>.</summary>
    public static string Load(string name)
    {
        using var stream = typeof(SqlText).Assembly.GetManifestResourceStream($"BotStore.Sql.{name}.sql")
            ?? throw new InvalidOperationException($"embedded SQL '{name}' is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
