namespace BotStore.Server.Dashboard.Internal;

/// <summary>The dashboard's style sheet, embedded in this assembly so the server needs no web root.</summary>
internal static class DashboardAssets
{
    public static readonly string Css = Read("BotStore.Server.Dashboard.dashboard.css");

    private static string Read(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
