namespace BotStore.Tests.Infrastructure;

/// <summary>The repository's root folder: the nearest folder above the test binaries that holds BotStore.slnx.</summary>
public static class RepoRoot
{
    /// <summary>The absolute root folder.</summary>
    public static string Folder { get; } = Find();

    /// <summary>A path inside the repository, e.g. <c>RepoRoot.File("docs", "seed.md")</c>.</summary>
    public static string File(params string[] parts) => Path.Combine([Folder, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "BotStore.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds BotStore.slnx");
    }
}
