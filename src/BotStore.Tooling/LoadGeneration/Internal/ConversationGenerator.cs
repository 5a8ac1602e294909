using System.Globalization;
using BotStore.Enums;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>A session as planned for its day: who talks to which bot, when, and how many messages.</summary>
internal sealed record SessionPlan(int Day, int Index, long TenantId, Guid Id, Guid UserId, BotInfo Bot, ChannelType Channel,
    long StartMs, long LastMs, int Messages, string? Title)
{
    public SessionRow Row => new(TenantId, DirectoryGenerator.At(StartMs), DirectoryGenerator.At(LastMs), Id, UserId, Bot.Row.Id,
        Messages, (short)Channel, Title);
}

/// <summary>
/// Sessions, their messages and analytics events, day by day, in time order (so partitions and BRIN ranges fill
/// as in production). A session's timeline (roles and gaps) and its content come from two streams keyed by
/// (day, session): the timeline runs once to plan the session (its last activity is known before its messages
/// are written) and again beside the content.
/// </summary>
internal sealed class ConversationGenerator(DataPlan plan, DirectoryGenerator directory)
{
    private const long DayMs = 86_400_000;
    private const int MaxMessagesPerSession = 400;

    private readonly long _seed = plan.Options.Seed;

    /// <summary>The sessions starting on <paramref name="day"/>: their messages add up to the day's quota exactly.</summary>
    public List<SessionPlan> Sessions(int day)
    {
        var rng = new SeededRandom(_seed, SeededRandom.Stream.Day, day);
        var sessions = new List<SessionPlan>();
        var quota = plan.MessagesPerDay[day];
        while (quota > 0)
        {
            var userOrdinal = rng.NextLong(plan.Options.Users);
            var tenant = plan.TenantOfUser(userOrdinal);
            var bots = directory.BotsOf(tenant);
            var bot = bots.Length == 1 || rng.Chance(0.6) ? bots[0] : bots[1 + rng.Next(bots.Length - 1)];
            var channel = bot.Channels[rng.Next(bot.Channels.Length)];
            var count = (int)Math.Min(quota, rng.LogNormal(10, 0.9, 1, MaxMessagesPerSession));
            var startMs = plan.DayStartMs(day) + rng.Pick(Choices.HourOfDay) * 3_600_000L + rng.NextLong(3_600_000);
            var title = rng.Chance(0.7) ? Corpus.Phrase(rng) : null;
            var id = rng.Uuid7(startMs);
            var lastMs = startMs;
            var timeline = new Timeline(_seed, day, sessions.Count, startMs);
            for (var i = 0; i < count; i++)
                lastMs = timeline.Next().Ms;
            sessions.Add(new SessionPlan(day, sessions.Count, plan.TenantId(tenant), id, directory.UserId(userOrdinal), bot, channel,
                startMs, lastMs, count, title));
            quota -= count;
        }
        return sessions;
    }

    /// <summary>The session's messages, index 0 .. n - 1; its analytics events go to <paramref name="events"/> when given.</summary>
    public IEnumerable<MessageRow> Messages(SessionPlan session, List<EventRow>? events = null)
    {
        var timeline = new Timeline(_seed, session.Day, session.Index, session.StartMs);
        var rng = new SeededRandom(_seed, SeededRandom.Stream.SessionContent, session.Day, session.Index);
        Event(rng, events, session, session.StartMs, "session_started", $$"""{"channel":"{{EnumCatalog.NameOf(session.Channel)}}"}""");
        for (var i = 0; i < session.Messages; i++)
        {
            var (role, ms) = timeline.Next();
            var type = role switch
            {
                MessageRole.User => rng.Pick(Choices.UserMessageType),
                MessageRole.Assistant => rng.Pick(Choices.AssistantMessageType),
                _ => MessageType.Text,
            };
            var id = rng.Uuid7(ms);
            var content = type == MessageType.Text
                ? Corpus.Slice(rng, role switch
                {
                    MessageRole.User => rng.LogNormal(70, 0.9, 2, 2000),
                    MessageRole.Assistant => rng.LogNormal(350, 0.8, 10, 4000),
                    MessageRole.System => rng.LogNormal(400, 0.5, 50, 2000),
                    MessageRole.Tool => rng.LogNormal(500, 1.0, 20, 4000),
                    _ => rng.LogNormal(800, 0.4, 100, 3000),
                })
                : string.Create(CultureInfo.InvariantCulture, $"https://cdn.example.com/{EnumCatalog.NameOf(type)}/{id:N}");
            string? metadata = null;
            if (role == MessageRole.Assistant && rng.Chance(0.7))
            {
                var tokens = content.Length / 4 + rng.Between(1, 40);
                metadata = $$"""{"model":"{{Choices.Models[rng.Next(Choices.Models.Length)]}}","tokens":{{tokens}},"latency_ms":{{rng.LogNormal(900, 0.6, 80, 30000)}}}""";
                if (rng.Chance(0.35))
                    Event(rng, events, session, ms, "response_generated", $$"""{"tokens":{{tokens}}}""");
            }
            else if (role == MessageRole.Tool)
            {
                var tool = Choices.Tools[rng.Next(Choices.Tools.Length)];
                metadata = $$"""{"tool":"{{tool}}","ok":{{(rng.Chance(0.95) ? "true" : "false")}}}""";
                Event(rng, events, session, ms, "tool_called", $$"""{"tool":"{{tool}}"}""");
            }
            else if (type != MessageType.Text)
            {
                metadata = $$"""{"bytes":{{rng.LogNormal(200_000, 1.2, 100, 20_000_000)}}}""";
            }
            // People read their bots' answers, except some of the last days'.
            var isRead = role != MessageRole.Assistant || ms < plan.UntilMs - 3 * DayMs || rng.Chance(0.6);
            yield return new MessageRow(session.TenantId, DirectoryGenerator.At(ms), id, session.Id, session.UserId, i,
                (short)role, (short)type, isRead, content, metadata);
        }
        Event(rng, events, session, session.LastMs, "session_ended", $$"""{"messages":{{session.Messages}}}""");
    }

    /// <summary>Every message of days [from, to), in order; for loading message rows on their own (benchmarks).</summary>
    public IEnumerable<MessageRow> MessagesOfDays(int from, int to)
    {
        for (var day = from; day < to; day++)
        {
            foreach (var session in Sessions(day))
            {
                foreach (var message in Messages(session))
                    yield return message;
            }
        }
    }

    // The id is drawn whether or not the event is kept, so the messages are the same either way.
    private static void Event(SeededRandom rng, List<EventRow>? events, SessionPlan session, long ms, string name, string properties)
    {
        var id = rng.Uuid7(ms);
        events?.Add(new EventRow(session.TenantId, DirectoryGenerator.At(ms), id, session.Bot.Row.Id, session.UserId, session.Id,
            (short)session.Channel, name, properties));
    }

    /// <summary>Who speaks next and when: users think for tens of seconds, bots answer in seconds, tools in less.</summary>
    private sealed class Timeline(long seed, int day, int index, long startMs)
    {
        private readonly SeededRandom _rng = new(seed, SeededRandom.Stream.SessionTime, day, index);
        private long _ms = startMs;
        private MessageRole? _last;
        private int _count;

        public (MessageRole Role, long Ms) Next()
        {
            MessageRole role;
            switch (_last)
            {
                case null:
                    role = _rng.Chance(0.12) ? MessageRole.System : MessageRole.User;
                    break;
                case MessageRole.User:
                    role = MessageRole.Assistant;
                    _ms += _rng.LogNormal(2500, 0.5, 300, 20_000);
                    break;
                case MessageRole.Tool:
                    role = MessageRole.Assistant;
                    _ms += _rng.LogNormal(1500, 0.5, 200, 10_000);
                    break;
                case MessageRole.Assistant:
                    var x = _rng.NextDouble();
                    role = x < 0.10 ? MessageRole.Tool : x < 0.13 && _count > 20 ? (_rng.Chance(0.5) ? MessageRole.Episodic : MessageRole.Compact) : MessageRole.User;
                    _ms += role == MessageRole.User ? _rng.LogNormal(30_000, 0.8, 2_000, 180_000) : _rng.LogNormal(800, 0.5, 100, 5_000);
                    break;
                default:
                    role = MessageRole.User;
                    _ms += _rng.LogNormal(30_000, 0.8, 2_000, 180_000);
                    break;
            }
            _last = role;
            _count++;
            return (role, _ms);
        }
    }
}
