using System.Collections.Frozen;
using BotStore.Enums;

namespace BotStore.Data;

/// <summary>
/// The legal moves between task statuses. The store's compare-and-set takes its allowed <c>from</c> set from here,
/// so this table is the whole state machine: completed and cancelled lead nowhere, failed leads back to ready (a
/// retry).
/// </summary>
public static class TaskStateMachine
{
    private static readonly FrozenDictionary<AutoTaskStatus, AutoTaskStatus[]> Moves = new Dictionary<AutoTaskStatus, AutoTaskStatus[]>
    {
        [AutoTaskStatus.Pending] = [AutoTaskStatus.Ready, AutoTaskStatus.Cancelled],
        [AutoTaskStatus.Ready] = [AutoTaskStatus.Running, AutoTaskStatus.Cancelled],
        [AutoTaskStatus.Running] = [AutoTaskStatus.Paused, AutoTaskStatus.WaitingApproval, AutoTaskStatus.Completed,
                                    AutoTaskStatus.Failed, AutoTaskStatus.Cancelled],
        [AutoTaskStatus.Paused] = [AutoTaskStatus.Running, AutoTaskStatus.Cancelled],
        [AutoTaskStatus.WaitingApproval] = [AutoTaskStatus.Running, AutoTaskStatus.Failed, AutoTaskStatus.Cancelled],
        [AutoTaskStatus.Completed] = [],
        [AutoTaskStatus.Failed] = [AutoTaskStatus.Ready],
        [AutoTaskStatus.Cancelled] = [],
    }.ToFrozenDictionary();

    /// <summary>The statuses a task in <paramref name="from"/> may move to.</summary>
    public static IReadOnlyList<AutoTaskStatus> Next(AutoTaskStatus from) => Moves[from];

    /// <summary>Whether a task may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanMove(AutoTaskStatus from, AutoTaskStatus to) => Moves[from].Contains(to);

    /// <summary>The statuses from which a task may move to <paramref name="to"/>.</summary>
    public static IReadOnlyList<AutoTaskStatus> Sources(AutoTaskStatus to) =>
        Moves.Where(m => m.Value.Contains(to)).Select(m => m.Key).Order().ToArray();

    /// <summary>Whether nothing can follow <paramref name="status"/>.</summary>
    public static bool IsFinal(AutoTaskStatus status) => Moves[status].Length == 0;

    /// <summary>Whether the task counts as active (the seed's <c>status &lt; 5</c>: not completed, failed or cancelled).</summary>
    public static bool IsActive(AutoTaskStatus status) => status < AutoTaskStatus.Completed;
}
