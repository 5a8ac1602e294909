-- The planner's count of sessions in a message partition, fixed as a share of its rows instead of guessed anew by
-- every ANALYZE from its sample.
--
-- ANALYZE reads 30,000 rows of a partition (300 x default_statistics_target) however large it is, and its estimate of
-- a column's distinct values falls further below the truth as that sample becomes a smaller share of the table, the
-- more so for a column whose values each occur a few times, as a session's messages do. Measured on the bench's data
-- set (loadgen, 14.5 messages per session and month): at 1M messages the partitions' samples were 8% of their rows;
-- at 10M, 0.8%, and ANALYZE put 45,966 sessions in a month that held 263,540, so the planner expected 83 rows for a
-- session where there were 10-15. Expecting that many, it answered the history SQL with a BitmapAnd of
-- idx_messages_session and another index, which reads every row of the other condition: the tenant's messages since
-- the session's start through the primary key (706 entries for 10 rows), or, in a generic plan, the BRIN index's
-- whole month (1.6M rows, 4.6 ms). That is what made the history's p99 at 10M 2.4-3.6 times its p99 at 1M
-- (bench flatness), with the rows all in memory. With this estimate the same statement is a backward scan of
-- idx_messages_session alone: 10 buffers and 0.2-0.6 ms instead of 22 buffers and 0.5-5 ms, at any size.
--
-- A negative n_distinct is a share of the rows, so it grows with the partition as sessions do. -0.05 says 20 messages
-- per session and month. Too low a guess costs nothing here: a session's messages lie together in
-- idx_messages_session, which stays the right plan for a session of any length; too high a guess is what brought the
-- BitmapAnd. PostgreSQL keeps column options per table and gives a new table none, so each partition carries its own
-- copy: botstore_create_partition now copies the parent's column options onto every partition it makes (the parent
-- keeps n_distinct as that template and n_distinct_inherited for its own, whole-table statistics).
ALTER TABLE message_history ALTER COLUMN session_id SET (n_distinct = -0.05, n_distinct_inherited = -0.05);

-- Copies the parent's column options (except n_distinct_inherited, which only a parent uses) onto one partition.
CREATE FUNCTION botstore_copy_column_options(parent REGCLASS, partition REGCLASS)
    RETURNS VOID
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
DECLARE
    col RECORD;
BEGIN
    FOR col IN
        SELECT a.attname, array(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'n\_distinct\_inherited=%') AS options
        FROM pg_attribute a
        WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attoptions IS NOT NULL
    LOOP
        IF cardinality(col.options) > 0 THEN
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET (%s)', partition, col.attname, array_to_string(col.options, ', '));
        END IF;
    END LOOP;
END;
$$;

SELECT botstore_copy_column_options('message_history', i.inhrelid::regclass)
FROM pg_inherits i WHERE i.inhparent = 'message_history'::regclass;

-- The estimate takes effect at a partition's next ANALYZE, and autovacuum seldom analyzes a past month again. ANALYZE
-- reads a fixed sample per partition (seconds each, whatever their size) and takes a lock that lets reads and writes
-- go on.
ANALYZE message_history;

-- 0002's function, which now also copies the parent's column options onto the partition it makes.
CREATE OR REPLACE FUNCTION botstore_create_partition(table_name TEXT, partition_date DATE)
    RETURNS TEXT
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
DECLARE
    policy          partitioned_tables%ROWTYPE;
    parent          regclass;
    key_column      TEXT;
    default_name    TEXT;
    partition_name  TEXT := table_name || '_' || to_char(partition_date, 'YYYY_MM');
    month_start     DATE := date_trunc('month', partition_date)::date;
    lower_bound     TIMESTAMPTZ := month_start::timestamp AT TIME ZONE 'UTC';
    upper_bound     TIMESTAMPTZ := (month_start + 1 * INTERVAL '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
    SELECT * INTO policy FROM partitioned_tables p WHERE p.table_name = botstore_create_partition.table_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not a monthly-partitioned BotStore table (see partitioned_tables)', table_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    parent := table_name::regclass;

    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = parent AND c.relname = partition_name) THEN
        RETURN NULL;
    END IF;

    -- Serialise partition creation per table: two managers racing for the same month would both try to attach.
    PERFORM pg_advisory_xact_lock(parent::oid::bigint);
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = parent AND c.relname = partition_name) THEN
        RETURN NULL;
    END IF;

    SELECT a.attname INTO key_column
    FROM pg_partitioned_table pt JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = parent;

    SELECT c.relname INTO default_name
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';

    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)',
                   partition_name, table_name);
    -- A CHECK that matches the bounds lets ATTACH skip scanning the new partition.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I >= %L AND %I < %L)',
                   partition_name, partition_name || '_bounds', key_column, lower_bound, key_column, upper_bound);
    IF default_name IS NOT NULL THEN
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       default_name, key_column, lower_bound, key_column, upper_bound, partition_name);
    END IF;
    -- ATTACH creates the parent's indexes and foreign keys on the partition.
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   table_name, partition_name, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', partition_name, partition_name || '_bounds');
    IF cardinality(policy.reloptions) > 0 THEN
        EXECUTE format('ALTER TABLE %I SET (%s)', partition_name, array_to_string(policy.reloptions, ', '));
    END IF;
    PERFORM botstore_copy_column_options(parent, quote_ident(partition_name)::regclass);
    RETURN partition_name;
END;
$$;
