namespace BotStore.Tooling.LoadGeneration;

/// <summary>Where a load stands, reported as it goes.</summary>
/// <param name="Phase">What is being written: <c>directory</c> (tenants, bots, users, memories) or <c>conversations</c>.</param>
/// <param name="MessagesDone">Messages written so far, including those of earlier, interrupted runs.</param>
/// <param name="MessagesTotal">Messages the load writes in all.</param>
/// <param name="DaysDone">Days of history committed.</param>
/// <param name="DaysTotal">Days of history in all.</param>
public sealed record LoadProgress(string Phase, long MessagesDone, long MessagesTotal, int DaysDone, int DaysTotal);

/// <summary>One table after a load.</summary>
/// <param name="Table">The table (partitions included).</param>
/// <param name="RowsLoaded">Rows this load (over all its runs) wrote into it.</param>
/// <param name="TotalBytes">Heap, indexes and TOAST of the table and its partitions, now.</param>
public sealed record LoadedTable(string Table, long RowsLoaded, long TotalBytes);

/// <summary>What a load did.</summary>
/// <param name="Parameters">The options that define the data (<see cref="LoadOptions.Describe"/>) and the seed.</param>
/// <param name="Resumed">Whether this run continued an interrupted one.</param>
/// <param name="AlreadyComplete">Whether the data set was complete already, so this run wrote nothing.</param>
/// <param name="Tables">Counts and sizes by table.</param>
/// <param name="Elapsed">This run's time.</param>
public sealed record LoadResult(string Parameters, bool Resumed, bool AlreadyComplete, IReadOnlyList<LoadedTable> Tables, TimeSpan Elapsed);
