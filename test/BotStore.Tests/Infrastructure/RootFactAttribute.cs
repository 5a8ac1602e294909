namespace BotStore.Tests.Infrastructure;

/// <summary>A fact that only root can check (giving folders to other users, running the cluster as postgres); skipped otherwise, saying why.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string why)
    {
        if (Environment.UserName != "root")
            Skip = $"needs root ({why}); CI runs the suite as root";
    }
}
