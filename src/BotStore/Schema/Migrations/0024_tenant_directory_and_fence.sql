-- Shards: the tenant directory (which shard holds each tenant) and the fence (tenants that have left this shard).
--
-- Every database gets both tables; the directory is read and written only on the directory database (the first
-- configured shard, or BotStore:DirectoryShard), the fence on every shard. See docs/sharding.md.

-- The directory. Tenant ids are handed out here (botstore_next_tenant_id() on the directory database), so two
-- shards never hold the same id; a tenant's rows are then written on its shard with that id. `moved_at` is set by a
-- move's compare-and-set switch.
CREATE TABLE tenant_directory (
    tenant_id   BIGINT PRIMARY KEY,
    shard       TEXT NOT NULL CHECK (shard <> ''),
    placed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    moved_at    TIMESTAMPTZ
);
-- "The active shard with the fewest tenants" counts by shard.
CREATE INDEX idx_tenant_directory_shard ON tenant_directory (shard);

-- The fence: tenants that have LEFT this shard. Nearly always empty, so the check below is one index probe into a
-- one-page table.
CREATE TABLE tenant_fence (
    tenant_id   BIGINT PRIMARY KEY,
    moved_to    TEXT NOT NULL,
    moved_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON tenant_fence TO botstore_app;

-- Entering a tenant, called by the scope statement of every tenant transaction (TenantScope.ScopeSql), so it runs
-- inside that transaction, also through PgBouncer in transaction mode:
-- 1. a shared transaction-scoped advisory lock on (the move lock class, tenant): a mover holding the exclusive lock
--    on its direct connection makes this tenant's transactions here wait (the write fence; other tenants take
--    other keys and never wait). lock_timeout bounds the wait; the caller turns 55P03 raised here into 503 with
--    Retry-After. The key is 0x6d76 ('mv') in the top 16 bits and the tenant id below (ids stay under 2^48):
--    ShardRouter.MoveLockKey in C#.
-- 2. SQLSTATE BS001 when the tenant has left this shard: the caller forgets its cached directory entry and retries
--    once on the shard the directory names now, so a stale cache can never read or write here.
-- STABLE is wrong for a lock taker; VOLATILE (the default) it is. Plain SQL cannot raise, hence PL/pgSQL; its plan
-- for the probe is cached per server connection.
CREATE FUNCTION botstore_enter_tenant(tenant BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql
    SET lock_timeout = '3s'
AS $$
DECLARE
    target TEXT;
BEGIN
    IF tenant < 0 OR tenant >= 281474976710656 THEN
        RAISE EXCEPTION 'tenant id % is out of range', tenant USING ERRCODE = '22003';
    END IF;
    PERFORM pg_advisory_xact_lock_shared((x'6d76000000000000'::bigint) | tenant);
    SELECT f.moved_to INTO target FROM tenant_fence f WHERE f.tenant_id = tenant;
    IF FOUND THEN
        RAISE EXCEPTION 'tenant % has moved to shard %', tenant, target
            USING ERRCODE = 'BS001', DETAIL = target;
    END IF;
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION botstore_enter_tenant(BIGINT) TO botstore_app;
