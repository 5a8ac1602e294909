namespace BotStore;

/// <summary>The base of every error BotStore raises on purpose. The CLI prints <see cref="Exception.Message"/> as one line; the API maps the subtype to an HTTP status.</summary>
public class BotStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BotStoreException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The input is not acceptable (an unknown enum name, a malformed id, a value out of range). Nothing was written.</summary>
public class BotStoreValidationException(string message, Exception? inner = null) : BotStoreException(message, inner);

/// <summary>The input is larger than a documented limit (the API answers 413). Nothing was written.</summary>
public class BotStoreTooLargeException(string message) : BotStoreValidationException(message);

/// <summary>The thing asked for does not exist, or belongs to another tenant (the two are indistinguishable on purpose).</summary>
public class BotStoreNotFoundException(string message) : BotStoreException(message);

/// <summary>The request conflicts with the current state: an illegal transition, a second decision, a duplicate key.</summary>
public class BotStoreConflictException(string message, Exception? inner = null) : BotStoreException(message, inner);

/// <summary>The database cannot be reached or is restarting; the caller may retry. Nothing was acknowledged.</summary>
public class BotStoreUnavailableException(string message, Exception? inner = null) : BotStoreException(message, inner);

/// <summary>BotStore is configured wrongly or the machine lacks something it needs (a binary, a free port, a writable folder).</summary>
public class BotStoreConfigurationException(string message, Exception? inner = null) : BotStoreException(message, inner);

/// <summary>The schema in the database does not match the migrations this build carries.</summary>
public class BotStoreMigrationException(string message, Exception? inner = null) : BotStoreException(message, inner);

/// <summary>
/// A shard's connections failed a moment ago, so its tenants' calls are refused at once for a short while instead of
/// each waiting for its own connection error (see <see cref="Sharding.ShardRouter"/>). The API answers 503 with
/// Retry-After set to <see cref="RetryAfter"/>; other shards are not affected.
/// </summary>
public sealed class BotStoreShardUnavailableException(string shard, string message, TimeSpan retryAfter, Exception? inner = null)
    : BotStoreUnavailableException(message, inner)
{
    /// <summary>The shard that is unavailable.</summary>
    public string Shard { get; } = shard;

    /// <summary>When the shard will be tried again.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
