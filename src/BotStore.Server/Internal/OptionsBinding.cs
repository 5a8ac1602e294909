using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BotStore.Server.Internal;

/// <summary>
/// The one way BotStore's settings are bound: a section under <c>BotStore</c> bound with the options pattern and
/// checked by its <see cref="IValidateOptions{TOptions}"/>, whose failures name their settings
/// (e.g. <c>BotStore:Operations:ReindexSchedule</c>), so that an operator knows which line to fix.
/// </summary>
internal static class OptionsBinding
{
    /// <summary>Binds <paramref name="section"/> and validates it at once (for a command that checks before it changes anything).</summary>
    /// <exception cref="BotStoreConfigurationException">A value does not convert, or a setting cannot work: one line.</exception>
    public static T Load<T>(IConfiguration configuration, string section, IValidateOptions<T> validator) where T : class, new()
    {
        T options;
        try
        {
            options = configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            throw new BotStoreConfigurationException($"{section}: {ex.Message}", ex);
        }
        return Check(options, validator);
    }

    /// <summary>Validates <paramref name="options"/>; the failures become one line naming each setting.</summary>
    /// <exception cref="BotStoreConfigurationException">A setting cannot work.</exception>
    public static T Check<T>(T options, IValidateOptions<T> validator) where T : class
    {
        var result = validator.Validate(null, options);
        return result.Failed ? throw new BotStoreConfigurationException(string.Join("; ", result.Failures!)) : options;
    }

    /// <summary>
    /// Registers <typeparamref name="T"/> bound from <paramref name="section"/> of <paramref name="configuration"/>
    /// (validated when the host starts, before any hosted service) and, for consumers that take the plain options,
    /// <typeparamref name="T"/> itself as the validated value.
    /// </summary>
    public static IServiceCollection AddValidatedOptions<T, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class where TValidator : class, IValidateOptions<T>
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, TValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return services;
    }

    /// <summary>Registers options a host built in code, checked now.</summary>
    /// <exception cref="BotStoreConfigurationException">A setting cannot work.</exception>
    public static IServiceCollection AddCheckedOptions<T, TValidator>(this IServiceCollection services, T options)
        where T : class where TValidator : class, IValidateOptions<T>, new()
    {
        Check(options, new TValidator());
        services.TryAddSingleton(Options.Create(options));
        services.TryAddSingleton(options);
        return services;
    }
}
