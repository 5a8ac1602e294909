-- Monitoring extensions, where the server has them: pg_stat_statements (slow queries; it also needs
-- shared_preload_libraries, which the embedded cluster sets) and pgstattuple (pgstatindex, the exact measure of
-- btree bloat the reindex task prefers). Creating either needs a superuser; a role that may not is told so in a
-- NOTICE and the migration still succeeds, since BotStore works without them (reports say what is missing).
DO $$
DECLARE
    ext TEXT;
BEGIN
    FOREACH ext IN ARRAY ARRAY['pg_stat_statements', 'pgstattuple'] LOOP
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = ext) THEN
            BEGIN
                EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I', ext);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'BotStore: extension % is available but this role may not create it (a superuser can: CREATE EXTENSION %)', ext, ext;
            END;
        END IF;
    END LOOP;
END
$$;
