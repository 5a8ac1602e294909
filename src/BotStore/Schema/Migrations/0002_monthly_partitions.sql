-- Monthly partitions: the seed's create_monthly_partition(table_name, partition_date), made safe at scale.
--
-- The seed runs CREATE TABLE ... PARTITION OF, which PostgreSQL refuses once the default partition holds a row of
-- that month (premake lapsed, a clock skewed, a backfill). So the partition is built beside the parent, the
-- month's rows are moved out of the default into it, and only then attached, all in the caller's transaction:
-- no row is lost or duplicated, and afterwards the default holds none of that month.
-- Bounds are UTC months, whatever the session's TimeZone, so every server agrees where a month starts.

-- Creates the partition of table_name for the UTC month holding partition_date; returns its name, or NULL when it
-- already existed.
CREATE FUNCTION botstore_create_partition(table_name TEXT, partition_date DATE)
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
    RETURN partition_name;
END;
$$;

-- The seed's signature.
CREATE FUNCTION create_monthly_partition(table_name TEXT, partition_date DATE)
    RETURNS VOID
    LANGUAGE sql
    SET search_path FROM CURRENT
    AS $$ SELECT botstore_create_partition(table_name, partition_date) $$;

-- Creates, for every partitioned table, the partitions of the current UTC month and of its premake_months ahead;
-- returns the names it created.
CREATE FUNCTION botstore_premake_partitions(from_date DATE DEFAULT (now() AT TIME ZONE 'UTC')::date)
    RETURNS SETOF TEXT
    LANGUAGE sql
    SET search_path FROM CURRENT
AS $$
    SELECT created FROM (
        SELECT botstore_create_partition(p.table_name, (from_date + make_interval(months => m))::date) AS created
        FROM partitioned_tables p, generate_series(0, p.premake_months) AS m
        ORDER BY p.table_name, m
    ) made
    WHERE created IS NOT NULL
$$;
