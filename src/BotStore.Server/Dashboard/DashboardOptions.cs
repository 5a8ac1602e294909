using Microsoft.Extensions.Configuration;

namespace BotStore.Server.Dashboard;

/// <summary>Settings of the operator's dashboard (<c>/dashboard</c>): the configuration section <c>Dashboard</c>.</summary>
public sealed record DashboardOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Dashboard";

    /// <summary>How often the server samples the database and its own requests for the charts.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the charts reach (samples older than this are dropped).</summary>
    public TimeSpan SampleHistory { get; init; } = TimeSpan.FromHours(3);

    /// <summary>How long a sign-in lasts without a visit (sliding).</summary>
    public TimeSpan SignInFor { get; init; } = TimeSpan.FromHours(8);

    /// <summary>The options in <paramref name="configuration"/>'s <c>Dashboard</c> section (defaults where it says nothing).</summary>
    /// <exception cref="BotStoreConfigurationException">An interval or span that is not positive.</exception>
    public static DashboardOptions FromConfiguration(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<DashboardOptions>() ?? new DashboardOptions();
        if (options.SampleInterval <= TimeSpan.Zero || options.SampleHistory < options.SampleInterval || options.SignInFor <= TimeSpan.Zero)
            throw new BotStoreConfigurationException($"{Section}: SampleInterval and SignInFor must be positive and SampleHistory at least SampleInterval");
        return options;
    }
}
