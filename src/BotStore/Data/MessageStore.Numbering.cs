using System.Runtime.InteropServices;

namespace BotStore.Data;

public sealed partial class MessageStore
{
    /// <summary>What a direct-COPY batch writes: its new rows in created_at order, and each session's new counters.</summary>
    private sealed record NumberedBatch(List<Numbered> Rows, Guid[] BumpIds, int[] BumpNext, DateTimeOffset[] BumpLatest);

    /// <summary>
    /// Numbers and checks the new rows of a direct-COPY batch exactly as bulk_append_messages.sql does: the same
    /// rules in the same words, the first row in batch order that breaks one failing the batch. The server waits
    /// while this runs (its locks are held), so it is a few linear passes over arrays, and what does not depend on
    /// the server's answer (the rows of each session, their order in time) is done before the answer comes
    /// (<see cref="Order"/> runs while the lock and probe round trip is under way).
    /// </summary>
    private sealed class BatchPlan(List<Row> rows)
    {
        private (long Ticks, int Position)[] _byTime = [];
        private readonly Dictionary<Guid, List<int>> _implicitByTime = [];

        /// <summary>The batch's sessions, each with the positions of its rows in batch order.</summary>
        public Dictionary<Guid, List<int>> Sessions { get; } = GroupBySession(rows);

        private static Dictionary<Guid, List<int>> GroupBySession(List<Row> rows)
        {
            var sessions = new Dictionary<Guid, List<int>>();
            var span = CollectionsMarshal.AsSpan(rows);
            for (var i = 0; i < span.Length; i++)
            {
                if (!sessions.TryGetValue(span[i].SessionId, out var positions))
                    sessions[span[i].SessionId] = positions = [];
                positions.Add(i);
            }
            return sessions;
        }

        /// <summary>Orders the rows by (created_at, position): the COPY's order, and the order implicit indexes are given in.</summary>
        public void Order()
        {
            var span = CollectionsMarshal.AsSpan(rows);
            _byTime = new (long, int)[span.Length];
            for (var i = 0; i < span.Length; i++)
                _byTime[i] = (span[i].CreatedAt.UtcTicks, i);
            Array.Sort(_byTime);
            foreach (var (_, p) in _byTime)
            {
                if (span[p].Index is not null)
                    continue;
                if (!_implicitByTime.TryGetValue(span[p].SessionId, out var positions))
                    _implicitByTime[span[p].SessionId] = positions = [];
                positions.Add(p);
            }
        }

        /// <summary>
        /// Skips stored ids and repeats within the batch (the first one stays), numbers the rest per session from
        /// the locked counters (explicit indexes kept, the others in created_at order after
        /// greatest(message_count, last explicit + 1)) and checks every rule.
        /// </summary>
        public NumberedBatch Number(HashSet<Guid> stored, Dictionary<Guid, LockedSession> sessions, DateTimeOffset now)
        {
            var span = CollectionsMarshal.AsSpan(rows);
            var fresh = new bool[span.Length];
            var seen = new HashSet<Guid>(span.Length);
            for (var i = 0; i < span.Length; i++)
                fresh[i] = !stored.Contains(span[i].Id) && seen.Add(span[i].Id);
            var index = new int[span.Length];
            var latestBefore = new DateTimeOffset[span.Length];
            var repeated = new bool[span.Length];
            var bumpIds = new List<Guid>(Sessions.Count);
            var bumpNext = new List<int>(Sessions.Count);
            var bumpLatest = new List<DateTimeOffset>(Sessions.Count);
            var inIndexOrder = new List<int>();
            foreach (var (sessionId, positions) in Sessions)
            {
                if (!sessions.TryGetValue(sessionId, out var session))
                    continue;
                var lastExplicit = -1;
                inIndexOrder.Clear();
                foreach (var p in positions)
                {
                    if (fresh[p] && span[p].Index is { } explicitIndex)
                    {
                        lastExplicit = Math.Max(lastExplicit, explicitIndex);
                        index[p] = explicitIndex;
                        inIndexOrder.Add(p);
                    }
                }
                var explicitCount = inIndexOrder.Count;
                var next = Math.Max(session.MessageCount, lastExplicit + 1);
                foreach (var p in _implicitByTime.GetValueOrDefault(sessionId) ?? [])
                {
                    if (!fresh[p])
                        continue;
                    index[p] = next++;
                    inIndexOrder.Add(p);
                }
                if (inIndexOrder.Count == 0)
                    continue;
                // Implicit indexes come in index order already; explicit ones (bulk imports with their own
                // numbering) are sorted in, ties in batch order.
                if (explicitCount > 0)
                    inIndexOrder.Sort((a, b) => index[a] != index[b] ? index[a].CompareTo(index[b]) : a.CompareTo(b));
                // The latest message before each one in index order, the session's own latest activity included.
                var latest = session.LastActivityAt;
                var newest = DateTimeOffset.MinValue;
                for (var k = 0; k < inIndexOrder.Count; k++)
                {
                    var p = inIndexOrder[k];
                    latestBefore[p] = latest;
                    if (span[p].CreatedAt > latest)
                        latest = span[p].CreatedAt;
                    if (span[p].CreatedAt > newest)
                        newest = span[p].CreatedAt;
                    if (k > 0 && index[inIndexOrder[k - 1]] == index[p])
                        repeated[p] = repeated[inIndexOrder[k - 1]] = true;
                }
                bumpIds.Add(sessionId);
                bumpNext.Add(index[inIndexOrder[^1]] + 1);
                bumpLatest.Add(newest);
            }
            for (var i = 0; i < span.Length; i++)
            {
                if (fresh[i])
                    Check(span[i], sessions, index[i], repeated[i], latestBefore[i], now);
            }
            var numbered = new List<Numbered>(seen.Count);
            foreach (var (_, p) in _byTime)
            {
                if (fresh[p])
                    numbered.Add(new Numbered(span[p], sessions[span[p].SessionId].UserId, index[p]));
            }
            return new NumberedBatch(numbered, [.. bumpIds], [.. bumpNext], [.. bumpLatest]);
        }

        // The field a message's error names; built only for the one that fails.
        private static string At(in Row r) => $"messages[{r.Ord}]";

        private static void Check(in Row r, Dictionary<Guid, LockedSession> sessions, int index, bool repeated, DateTimeOffset latestBefore, DateTimeOffset now)
        {
            if (!sessions.TryGetValue(r.SessionId, out var session))
                throw new BotStoreNotFoundException($"{At(r)}.session_id refers to something that does not exist: session {r.SessionId} does not exist");
            if (r.Index < session.MessageCount)
                throw new BotStoreValidationException($"{At(r)}.message_index is not valid: message_index {r.Index} is taken: session {r.SessionId} already has {session.MessageCount} messages");
            if (repeated)
                throw new BotStoreValidationException($"{At(r)}.message_index is not valid: message_index {index} appears more than once for session {r.SessionId}");
            if (r.CreatedAt < latestBefore - MaxBackdating)
                throw new BotStoreValidationException($"{At(r)}.id is not valid: the timestamp in the id ({Show(r.CreatedAt)}) is more than an hour before the latest message of session {r.SessionId} before it ({Show(latestBefore)})");
            if (r.CreatedAt > now + MaxBackdating)
                throw new BotStoreValidationException($"{At(r)}.id is not valid: the timestamp in the id ({Show(r.CreatedAt)}) is more than an hour ahead of the database's clock");
        }
    }
}
