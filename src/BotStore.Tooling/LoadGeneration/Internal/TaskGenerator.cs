using System.Globalization;
using BotStore.Enums;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>
/// Autonomous tasks born in the day's sessions, in every status (recent ones still open, older ones mostly done),
/// and their approvals: a pending one for each task waiting for approval, decisions for the riskier ones.
/// </summary>
internal sealed class TaskGenerator(DataPlan plan)
{
    private const long DayMs = 86_400_000;

    private static readonly AutoTaskStatus[] Statuses = Enum.GetValues<AutoTaskStatus>();

    public (List<TaskRow> Tasks, List<ApprovalRow> Approvals) Tasks(int day, IReadOnlyList<SessionPlan> sessions)
    {
        var rng = new SeededRandom(plan.Options.Seed, SeededRandom.Stream.Tasks, day);
        var tasks = new List<TaskRow>();
        var approvals = new List<ApprovalRow>();
        var count = sessions.Count == 0 ? 0 : plan.TasksOn(day);
        for (var i = 0; i < count; i++)
        {
            var session = sessions[rng.Next(sessions.Count)];
            var createdMs = session.StartMs + rng.NextLong(session.LastMs - session.StartMs + 1);
            var ordinal = plan.TasksBefore[day] + i;
            var status = ordinal < Statuses.Length ? Statuses[ordinal]
                : rng.Pick(plan.UntilMs - createdMs < 2 * DayMs ? Choices.RecentTaskStatus : Choices.OldTaskStatus);
            var risk = rng.Pick(Choices.Risk);
            long? startedMs = status is AutoTaskStatus.Pending or AutoTaskStatus.Ready || (status == AutoTaskStatus.Cancelled && rng.Chance(0.5))
                ? null : createdMs + rng.LogNormal(20_000, 1.0, 500, 600_000);
            long? finishedMs = status is AutoTaskStatus.Completed or AutoTaskStatus.Failed or AutoTaskStatus.Cancelled
                ? (startedMs ?? createdMs) + rng.LogNormal(120_000, 1.2, 2_000, 7_200_000) : null;
            var updatedMs = Math.Max(createdMs, finishedMs ?? startedMs ?? createdMs);
            var progress = status switch
            {
                AutoTaskStatus.Completed => 100,
                AutoTaskStatus.Pending or AutoTaskStatus.Ready => 0,
                AutoTaskStatus.Failed => rng.Between(0, 95),
                AutoTaskStatus.Cancelled => rng.Between(0, 80),
                _ => rng.Between(5, 95),
            };
            var id = rng.Uuid7(createdMs);
            var steps = rng.Between(1, 12);
            tasks.Add(new TaskRow(session.TenantId, At(createdMs), At(updatedMs), At(startedMs), At(finishedMs), id, session.Bot.Row.Id,
                rng.Chance(0.85) ? session.Id : null, (short)status, (short)rng.Pick(Choices.Priority), (short)rng.Pick(Choices.Mode),
                (short)rng.Pick(Choices.Intent), (short)risk, (short)progress, Corpus.Phrase(rng, 3, 8),
                status == AutoTaskStatus.Failed ? string.Create(CultureInfo.InvariantCulture, $"step {rng.Between(1, steps)} failed: {Corpus.Slice(rng, rng.LogNormal(60, 0.5, 10, 300))}") : null,
                $$"""{"steps":{{steps}},"tool":"{{Choices.Tools[rng.Next(Choices.Tools.Length)]}}","source":"chat"}"""));

            var askedMs = startedMs ?? createdMs;
            if (status == AutoTaskStatus.WaitingApproval)
            {
                approvals.Add(new ApprovalRow(session.TenantId, At(askedMs), At(askedMs + DayMs), null, rng.Uuid7(askedMs), id,
                    (short)ApprovalStatus.Pending, (short)risk, Corpus.Phrase(rng, 2, 6), null, null));
            }
            else if (risk >= RiskLevel.Medium && startedMs is not null)
            {
                var decisions = rng.Between(1, 2);
                for (var a = 0; a < decisions; a++)
                {
                    var decision = rng.Pick(Choices.Decision);
                    var decidedMs = askedMs + rng.LogNormal(300_000, 1.2, 5_000, 14_400_000);
                    var byPerson = decision is ApprovalStatus.Approved or ApprovalStatus.Rejected;
                    approvals.Add(new ApprovalRow(session.TenantId, At(askedMs), At(askedMs + DayMs),
                        decision == ApprovalStatus.Skipped ? null : At(Math.Min(decidedMs, askedMs + DayMs)),
                        rng.Uuid7(askedMs), id, (short)decision, (short)risk, Corpus.Phrase(rng, 2, 6),
                        decision == ApprovalStatus.Rejected ? Corpus.Phrase(rng, 3, 8) : null,
                        byPerson ? string.Create(CultureInfo.InvariantCulture, $"user:{rng.Between(1, 5000)}") : null));
                }
            }
        }
        return (tasks, approvals);
    }

    private static DateTimeOffset At(long ms) => DirectoryGenerator.At(ms);

    private static DateTimeOffset? At(long? ms) => ms is { } v ? DirectoryGenerator.At(v) : null;
}
