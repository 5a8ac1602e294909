-- BotStore's statistics-based btree size estimate (the approach of the well-known catalog bloat queries, e.g.
-- ioguix's): from the index's row count (reltuples), the average width and null fraction of its columns
-- (pg_stats, kept by ANALYZE) and its fill factor, compute how many pages a freshly built index would need, and
-- compare with its size on disk. Reads no index page, so it is cheap on any size of index.
-- A leaf tuple is an 8-byte IndexTupleData header (16 with the null bitmap), then the data, MAXALIGNed (8), plus a
-- 4-byte line pointer; a page offers block_size - 24 (header) - 16 (btree special space) bytes, filled to the fill
-- factor (90 by default). Inner pages (about 1%) are left out, so the estimate leans towards reporting less bloat.
-- Deduplication (PostgreSQL 13+) packs repeated keys tighter than this: low-cardinality indexes look smaller
-- than estimated, and their bloat is under-reported, never over-reported.
-- $1: oids of btree indexes. expected_bytes is NULL when statistics are missing (never analyzed).
WITH idx AS (
    SELECT c.oid, x.indrelid, c.reltuples, pg_relation_size(c.oid) AS actual_bytes,
           current_setting('block_size')::int AS block_size,
           coalesce((SELECT substring(o FROM '^fillfactor=(\d+)$')::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
           x.indkey::int2[] AS keys
    FROM pg_index x
    JOIN pg_class c ON c.oid = x.indexrelid
    WHERE c.oid = ANY($1::oid[])
),
col AS (
    -- A key of 0 is an expression: ANALYZE keeps its statistics under the index's own name and column.
    SELECT idx.oid, s.avg_width, s.null_frac
    FROM idx
    CROSS JOIN LATERAL unnest(idx.keys) WITH ORDINALITY AS k (attnum, pos)
    JOIN pg_attribute a ON (k.attnum <> 0 AND a.attrelid = idx.indrelid AND a.attnum = k.attnum)
                        OR (k.attnum = 0 AND a.attrelid = idx.oid AND a.attnum = k.pos)
    JOIN pg_class r ON r.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace
    JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = r.relname AND s.attname = a.attname AND NOT s.inherited
),
width AS (
    SELECT oid, count(*) AS columns, sum((1 - null_frac) * avg_width) AS data_bytes, bool_or(null_frac > 0) AS nullable
    FROM col
    GROUP BY oid
)
SELECT idx.oid, idx.actual_bytes,
       CASE WHEN idx.reltuples >= 0 AND w.columns = cardinality(idx.keys) THEN
           (idx.block_size::bigint * (1 + ceil(idx.reltuples / greatest(1, floor(
               (idx.block_size - 24 - 16) * idx.fillfactor / 100.0
               / (4 + 8 * ceil(((CASE WHEN w.nullable THEN 16 ELSE 8 END) + w.data_bytes) / 8.0))
           )))))::bigint
       END AS expected_bytes
FROM idx
LEFT JOIN width w ON w.oid = idx.oid
