using BotStore.Server.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BotStore.Server.Dashboard;

/// <summary>Settings of the operator's dashboard (<c>/dashboard</c>): the configuration section <c>BotStore:Dashboard</c>.</summary>
public sealed record DashboardOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "BotStore:Dashboard";

    /// <summary>How often the server samples the database and its own requests for the charts.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the charts reach (samples older than this are dropped).</summary>
    public TimeSpan SampleHistory { get; init; } = TimeSpan.FromHours(3);

    /// <summary>How long a sign-in lasts without a visit (sliding).</summary>
    public TimeSpan SignInFor { get; init; } = TimeSpan.FromHours(8);

    /// <summary>Binds <paramref name="configuration"/>'s <c>BotStore:Dashboard</c> section and checks it (defaults where it says nothing).</summary>
    /// <exception cref="BotStoreConfigurationException">A value that does not convert or cannot work: one line naming the setting.</exception>
    public static DashboardOptions Load(IConfiguration configuration) => OptionsBinding.Load(configuration, Section, new DashboardOptionsValidator());
}

/// <summary>Checks <see cref="DashboardOptions"/> when the host starts; each failure names its setting.</summary>
public sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DashboardOptions options)
    {
        const string S = DashboardOptions.Section;
        var failures = new List<string>();
        if (options.SampleInterval <= TimeSpan.Zero)
            failures.Add($"{S}:SampleInterval must be positive (got {options.SampleInterval})");
        if (options.SampleHistory < options.SampleInterval)
            failures.Add($"{S}:SampleHistory ({options.SampleHistory}) is shorter than {S}:SampleInterval ({options.SampleInterval})");
        if (options.SignInFor <= TimeSpan.Zero)
            failures.Add($"{S}:SignInFor must be positive (got {options.SignInFor})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
