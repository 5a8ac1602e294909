namespace BotStore.Cli.Infrastructure;

/// <summary>The process exit codes of every verb.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Unexpected = 70;
    public const int Interrupted = 130;
}
