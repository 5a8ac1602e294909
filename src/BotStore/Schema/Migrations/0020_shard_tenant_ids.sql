-- Tenant ids that carry their logical shard, so any process can route a tenant without a lookup.
--
-- id % 1024 is the tenant's logical shard; a ShardMap assigns ranges of logical shards to physical databases, and
-- every row a tenant owns lives on the database of its logical shard (tenant data kept together, no cross-shard
-- queries). Each database hands out ids only inside the logical range it owns (shard_identity, set by
-- `botstore shards init`), round-robin over that range so a later split moves a fair share of tenants.
-- A single-database deployment owns the whole range [0, 1024).

CREATE TABLE shard_identity (
    singleton       BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    logical_from    INTEGER NOT NULL DEFAULT 0,
    logical_to      INTEGER NOT NULL DEFAULT 1024,
    CHECK (0 <= logical_from AND logical_from < logical_to AND logical_to <= 1024)
);
INSERT INTO shard_identity DEFAULT VALUES;

CREATE SEQUENCE tenant_id_seq;

CREATE FUNCTION botstore_next_tenant_id() RETURNS BIGINT
    LANGUAGE sql VOLATILE
    AS $$
        SELECT q.n * 1024 + s.logical_from + (q.n % (s.logical_to - s.logical_from))
        FROM (SELECT nextval('tenant_id_seq') AS n) q, shard_identity s
    $$;

ALTER TABLE tenants ALTER COLUMN id DROP IDENTITY;
ALTER TABLE tenants ALTER COLUMN id SET DEFAULT botstore_next_tenant_id();
