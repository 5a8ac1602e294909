using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Console;

namespace BotStore.Server;

/// <summary>How <c>serve</c> writes its log lines to the console.</summary>
public enum LogFormat
{
    /// <summary>One line per entry, UTC date and time first.</summary>
    Simple,

    /// <summary>One JSON object per line (Timestamp, EventId, LogLevel, Category, Message, State), for log shippers.</summary>
    Json,
}

/// <summary>The <c>BotStore:Logging</c> section.</summary>
public sealed record LoggingOptions
{
    /// <summary><c>simple</c> (default) or <c>json</c>; <c>serve --log-format</c> sets it too.</summary>
    public LogFormat Format { get; init; } = LogFormat.Simple;
}

/// <summary>
/// Configures logging the way <c>serve</c> logs: the console with UTC date and time, in <see cref="LoggingOptions.Format"/>,
/// levels from the standard <c>Logging</c> section (e.g. <c>Logging:LogLevel:Npgsql=Debug</c>), ASP.NET Core's own
/// per-request lines and Npgsql's per-command lines off unless that section turns them on (BotStore writes one line per
/// request itself, see <see cref="RequestMetrics"/>).
/// </summary>
public static class ServeLogging
{
    /// <summary>Applies these settings to <paramref name="logging"/> (a host's, or a factory made before the host).</summary>
    public static ILoggingBuilder Configure(ILoggingBuilder logging, LoggingOptions options, IConfiguration? configuration = null)
    {
        logging.ClearProviders();
        // Defaults first, so the Logging section can override them (of rules equally specific, the last one wins).
        // Npgsql logs every command at Information: one line per statement is a debugging aid, not a server log.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Npgsql", LogLevel.Warning);
        if (configuration is not null)
            logging.AddConfiguration(configuration.GetSection("Logging"));
        if (options.Format == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
        }
        return logging;
    }
}
