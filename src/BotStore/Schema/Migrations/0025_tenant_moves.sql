-- What an online tenant move (`botstore tenants move`) needs: logical replication with a row filter per tenant,
-- and a journal to resume or roll back an interrupted move.
--
-- PostgreSQL 15 refuses to publish UPDATE and DELETE of a table whose publication row filter uses a column outside
-- the table's replica identity. Every tenant table's primary key starts with tenant_id (0021 made the last two so),
-- and the default replica identity is the primary key; partitions get the parent's primary key when they are
-- attached (botstore_create_partition), so existing and future partitions qualify too. api_tokens is keyed by the
-- token hash and its tenant_id may be NULL (administrator tokens), so no unique index can carry tenant_id: the
-- whole row is its identity (FULL). The table is tiny, so the target's lookups by full row cost nothing.
ALTER TABLE api_tokens REPLICA IDENTITY FULL;

-- Those of the given tables (and of their partitions) whose replica identity does not contain tenant_id: a tenant
-- move refuses to start while this returns rows, and names them. The move passes its tables (the tenant tables;
-- the directory, fence and journal tables also have a tenant_id column but are never published).
CREATE FUNCTION botstore_replica_identity_problems(tables TEXT[])
    RETURNS TABLE (table_name TEXT, replica_identity TEXT)
    LANGUAGE sql STABLE
    SET search_path FROM CURRENT
AS $$
    SELECT c.relname::text,
           CASE c.relreplident WHEN 'd' THEN 'default, and no primary key with tenant_id' WHEN 'n' THEN 'nothing'
                               WHEN 'i' THEN 'an index without tenant_id' ELSE c.relreplident::text END
    FROM unnest(tables) AS t(name)
    CROSS JOIN LATERAL pg_partition_tree(t.name::regclass) AS p
    JOIN pg_class c ON c.oid = p.relid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = CASE t.name WHEN 'tenants' THEN 'id' ELSE 'tenant_id' END AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p')
      AND c.relreplident <> 'f'
      AND NOT EXISTS (
          SELECT 1 FROM pg_index i
          WHERE i.indrelid = c.oid
            AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))
            AND a.attnum = ANY (i.indkey))
    ORDER BY 1
$$;

DO $$
DECLARE
    bad TEXT;
BEGIN
    SELECT string_agg(table_name || ' (' || replica_identity || ')', ', ') INTO bad
    FROM botstore_replica_identity_problems(ARRAY['tenants', 'api_tokens', 'bots', 'bot_channels', 'users', 'user_sessions',
        'message_history', 'auto_tasks', 'task_approvals', 'bot_memories', 'kb_documents', 'analytics_events']);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'replica identity without tenant_id: %', bad;
    END IF;
END;
$$;

-- One row per move; the row of a move in progress (finished_at NULL) is unique per tenant, so a second move of
-- the same tenant cannot start. step is the last step reached (see TenantMover.Steps); it lives on the directory
-- database, beside tenant_directory, and is written in short autocommit statements.
CREATE TABLE tenant_moves (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    -- The publication, slot and subscription of the move.
    replication_name TEXT NOT NULL,
    step        TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    finished_at TIMESTAMPTZ,
    outcome     TEXT CHECK (outcome IN ('moved', 'rolled_back')),
    fence_ms    DOUBLE PRECISION,
    detail      JSONB,
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
CREATE UNIQUE INDEX tenant_moves_in_progress ON tenant_moves (tenant_id) WHERE finished_at IS NULL;
