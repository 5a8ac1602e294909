-- BotStore's statistics-based heap size estimate, the table counterpart of index_bloat_estimate.sql: from the row
-- count (reltuples), the columns' average width and null fraction (pg_stats) and the fill factor, how many pages
-- the rows would fill if packed, against the heap's size on disk (main fork; TOAST is left out on both sides).
-- A heap tuple is a 23-byte header plus the null bitmap, MAXALIGNed, then the data, MAXALIGNed, plus a 4-byte line
-- pointer; a page offers block_size - 24 bytes and holds at most 291 tuples.
-- $1: oids of tables. expected_bytes is NULL when statistics are missing (never analyzed).
WITH t AS (
    SELECT c.oid, c.relname, c.relnamespace, c.reltuples, pg_relation_size(c.oid) AS actual_bytes,
           current_setting('block_size')::int AS block_size,
           coalesce((SELECT substring(o FROM '^fillfactor=(\d+)$')::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
           (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
    FROM pg_class c
    WHERE c.oid = ANY($1::oid[])
),
width AS (
    SELECT t.oid, count(*) AS columns, sum((1 - s.null_frac) * s.avg_width) AS data_bytes, bool_or(s.null_frac > 0) AS nullable
    FROM t
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname AND NOT s.inherited
    GROUP BY t.oid
)
SELECT t.oid, t.actual_bytes,
       CASE WHEN t.reltuples >= 0 AND w.columns = t.columns THEN
           (t.block_size::bigint * ceil(t.reltuples / greatest(1, least(291, floor(
               (t.block_size - 24) * t.fillfactor / 100.0
               / (4 + 8 * ceil((8 * ceil((23 + CASE WHEN w.nullable THEN ceil(t.columns / 8.0) ELSE 0 END) / 8.0) + w.data_bytes) / 8.0))
           )))))::bigint
       END AS expected_bytes
FROM t
LEFT JOIN width w ON w.oid = t.oid
