namespace BotStore.Tooling.Conversion;

/// <summary>One distinct value of a column: how many rows hold it, its number (null when the mapping does not cover it) and a row key holding it.</summary>
public sealed record ValueCount(string? Value, long Rows, short? Number, string SampleKey);

/// <summary>A column the plan would convert.</summary>
/// <param name="Column">The column.</param>
/// <param name="Type">Its type now.</param>
/// <param name="Domain">The catalog domain, or null for an explicit value list.</param>
/// <param name="Mapping">Text value to number.</param>
/// <param name="Values">The distinct values in the table, most frequent first.</param>
/// <param name="Unmapped">Values the mapping does not cover: <c>apply</c> refuses until they are mapped (<c>--map-unknown</c>) or changed.</param>
/// <param name="NotNull">Whether the column is NOT NULL.</param>
/// <param name="Default">Its default now.</param>
/// <param name="NewDefault">Its default as a number.</param>
/// <param name="SavingPerRow">Heap bytes per row this column alone saves, as <c>audit storage</c> measures it (null when the audit did not measure it).</param>
public sealed record ColumnConversionPlan(string Column, string Type, string? Domain, IReadOnlyDictionary<string, short> Mapping,
    IReadOnlyList<ValueCount> Values, IReadOnlyList<string> Unmapped, bool NotNull, string? Default, short? NewDefault, double? SavingPerRow);

/// <summary>An object that depends on a converted column and what happens to it.</summary>
/// <param name="Kind">index, check, view, foreign key, trigger...</param>
/// <param name="Name">Its name.</param>
/// <param name="Definition">Its definition now.</param>
/// <param name="Rewritten">What it becomes on the SMALLINT column, when it is rebuilt.</param>
/// <param name="Problem">Why <c>apply</c> cannot handle it, when it cannot.</param>
public sealed record DependentPlan(string Kind, string Name, string Definition, string? Rewritten, string? Problem);

/// <summary>The plan of one table.</summary>
/// <param name="Table">Schema-qualified table.</param>
/// <param name="Rows">Rows (counted).</param>
/// <param name="Key">Primary key columns (empty: the table cannot be converted).</param>
/// <param name="Partitions">Leaf partitions (1 for a plain table).</param>
/// <param name="Columns">Columns to convert, together in one pass.</param>
/// <param name="Dependents">Indexes, constraints, views and triggers on them.</param>
/// <param name="Problems">What stops <c>apply</c>; empty when it can run.</param>
/// <param name="SavingPerRow">
/// Heap bytes per row all the columns together save once converted and finished, as <c>audit storage</c> measures
/// it for the row <c>apply</c> leaves (the SMALLINTs at the end, each dropped text column a NULL in every row).
/// </param>
/// <param name="EstimatedDuration">Rough backfill time at the given batch size and pause.</param>
/// <param name="InProgress">The step of a conversion already under way, if any.</param>
public sealed record TableConversionPlan(string Table, long Rows, IReadOnlyList<string> Key, int Partitions,
    IReadOnlyList<ColumnConversionPlan> Columns, IReadOnlyList<DependentPlan> Dependents, IReadOnlyList<string> Problems,
    double? SavingPerRow, TimeSpan EstimatedDuration, string? InProgress)
{
    /// <summary>Heap bytes the table saves at its current size.</summary>
    public double? SavingForTable => SavingPerRow * Rows;
}

/// <summary>What <c>plan</c> found.</summary>
/// <param name="Tables">Tables with columns to convert.</param>
/// <param name="EnumLikeWithoutDomain">Enum-like text columns (per <c>audit storage</c>) that map onto no domain: <c>--map</c> them to convert them.</param>
public sealed record ConversionPlan(IReadOnlyList<TableConversionPlan> Tables, IReadOnlyList<string> EnumLikeWithoutDomain);
