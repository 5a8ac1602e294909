namespace BotStore.Tooling.Embedded;

/// <summary>Where and how BotStore runs its own PostgreSQL cluster when no database URL is configured.</summary>
public sealed record EmbeddedPostgresOptions
{
    /// <summary>The default data folder, relative to the working directory.</summary>
    public const string DefaultDataDirectory = ".botstore/pg";

    /// <summary>Where clusters live whose data folder the <c>postgres</c> system user cannot reach (run as root).</summary>
    public const string DefaultRelocationRoot = "/var/lib/botstore";

    /// <summary>The default TCP port on 127.0.0.1, used when the cluster is first created.</summary>
    public const int DefaultPort = 54329;

    /// <summary>The cluster's data folder; created by initdb on first use and reused afterwards.</summary>
    public string DataDirectory { get; init; } = DefaultDataDirectory;

    /// <summary>
    /// Run as root, when the <c>postgres</c> system user cannot enter the folder above <see cref="DataDirectory"/> (a
    /// clone in /root), the cluster lives in <c>&lt;this&gt;/&lt;checkout&gt;-&lt;hash of the path&gt;</c> and
    /// <see cref="DataDirectory"/> becomes a symbolic link to it: no folder the user made is opened up.
    /// </summary>
    public string RelocationRoot { get; init; } = DefaultRelocationRoot;

    /// <summary>The TCP port; null keeps the port the cluster was created with (or <see cref="DefaultPort"/>).</summary>
    public int? Port { get; init; }

    /// <summary>shared_buffers for a new cluster; the default suits a developer machine.</summary>
    public string SharedBuffers { get; init; } = "256MB";

    /// <summary>max_connections: the application pool (100) plus benchmarks and tools.</summary>
    public int MaxConnections { get; init; } = 300;
}
