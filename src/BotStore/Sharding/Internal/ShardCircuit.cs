using System.Globalization;

namespace BotStore.Sharding.Internal;

/// <summary>
/// Fail-fast for one shard's tenant traffic. After a connection failure the shard is "open" for
/// <see cref="FailFastFor"/>: its calls are refused at once (<see cref="BotStoreShardUnavailableException"/>, 503 with
/// Retry-After) instead of each waiting for its own connection error and holding a request thread meanwhile. Then one
/// call goes through as the probe while the others are still refused: if the shard answers, it is closed again; if the
/// connection fails, it stays open for another interval. So a shard that is back is served again by itself.
/// </summary>
internal sealed class ShardCircuit(string shard, bool named, TimeSpan failFastFor, TimeProvider time)
{
    private readonly Lock _lock = new();
    private volatile bool _open;
    private bool _probing;
    private long _openedAt;
    private string _reason = "";

    public TimeSpan FailFastFor => failFastFor;

    /// <summary>Whether the shard is failing fast now.</summary>
    public bool IsOpen => _open;

    /// <summary>
    /// Lets a call through, or refuses it at once. Returns true when the call is the probe after an interval (its
    /// outcome decides), false for an ordinary call.
    /// </summary>
    /// <exception cref="BotStoreShardUnavailableException">The shard failed a moment ago and is not being tried yet.</exception>
    public bool Enter()
    {
        if (!_open)
            return false;
        lock (_lock)
        {
            if (!_open)
                return false;
            var since = time.GetElapsedTime(_openedAt);
            if (since >= failFastFor && !_probing)
            {
                _probing = true;
                return true;
            }
            var wait = failFastFor - since;
            var who = named ? $"shard '{shard}' is unavailable" : "the database is unavailable";
            throw new BotStoreShardUnavailableException(shard,
                string.Create(CultureInfo.InvariantCulture,
                    $"{who}: a connection failed {since.TotalSeconds:0.#} s ago ({_reason}); failing fast, it is tried again within {Math.Max(0, wait.TotalSeconds):0.#} s"),
                wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait);
        }
    }

    /// <summary>
    /// Records how a call that <see cref="Enter"/> let through ended (null: the shard answered). A connection failure
    /// opens the circuit; an answer, even an error, closes it; a cancelled probe leaves the next call to probe.
    /// </summary>
    public void Exit(bool probe, Exception? error)
    {
        if (error is not null && PostgresErrors.IsConnectionFailure(error))
        {
            lock (_lock)
            {
                _openedAt = time.GetTimestamp();
                _reason = (PostgresErrors.Translate(error) ?? error).Message;
                _probing = false;
                _open = true;
            }
        }
        else if (error is OperationCanceledException)
        {
            if (probe)
            {
                lock (_lock)
                    _probing = false;
            }
        }
        else if (probe)
        {
            // Only the probe closes the circuit: a call that started before the failure and answered says nothing of now.
            lock (_lock)
            {
                _open = false;
                _probing = false;
            }
        }
    }
}
