-- botstore:no-transaction
-- Tenant names are unique: `tenants token NAME` and every other lookup by name must find one tenant, not refuse
-- with "more than one tenant is named ...". TenantStore.CreateAsync trims names, and the comparison is exact
-- (case and spaces count), as the lookups are.
--
-- Duplicates already there: the first statement finds them and stops the migration with one error that lists them
-- (up to 10 names with their ids) and says what to do; nothing is built, the database stays at 0022, and `migrate`
-- (or `serve`) applies this file again once the names are unique, e.g. after
--   UPDATE tenants SET name = name || ' (' || id || ')' WHERE id IN (...);
-- A duplicate written between that check and the end of the build still fails the build, with PostgreSQL's own
-- "could not create unique index" error; the invalid index it leaves is dropped by the next run (MigrationRunner).
DO $$ DECLARE dups text; BEGIN SELECT string_agg(format('%L (ids %s)', name, ids), ', ') INTO dups FROM (SELECT name, string_agg(id::text, ', ' ORDER BY id) AS ids FROM tenants GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 10) d; IF dups IS NOT NULL THEN RAISE EXCEPTION 'tenant names must be unique before migration 0023, but these are taken more than once: %', dups USING ERRCODE = 'unique_violation', HINT = 'rename all but one of each (UPDATE tenants SET name = ... WHERE id = ...), then migrate again'; END IF; END $$;

-- CONCURRENTLY: tenants keeps taking writes while the index builds (it is small, but a platform may have many).
-- The name follows PostgreSQL's convention for a UNIQUE constraint, so the error translation names the field.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tenants_name_key ON tenants (name);
