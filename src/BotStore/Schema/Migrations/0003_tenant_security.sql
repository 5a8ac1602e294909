-- Tenant isolation in the database itself, beneath the application's own tenant filters.
--
-- botstore_app is the role every tenant-scoped statement runs as: no superuser, no BYPASSRLS, owns nothing, so the
-- policies below always apply to it. The application connects as the schema owner and switches to it for the
-- length of one transaction, together with the tenant: set_config('role', 'botstore_app', true) and
-- set_config('botstore.tenant_id', ..., true). Both are transaction-local, so they work through PgBouncer in
-- transaction mode and never leak into the next transaction on the same server connection.
--
-- botstore_maintainer is granted to the owner (whoever runs the migrations) for cross-tenant work: partition
-- upkeep, sweepers, erasure, load generation. FORCE ROW LEVEL SECURITY keeps a non-superuser owner under the
-- policies too, so it sees every tenant only through that grant.

DO $$
BEGIN
    CREATE ROLE botstore_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are cluster-wide: another database of this cluster created it
END $$;

DO $$
BEGIN
    CREATE ROLE botstore_maintainer NOLOGIN NOSUPERUSER NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

GRANT botstore_app TO CURRENT_USER;
GRANT botstore_maintainer TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO botstore_app;

-- The tenant of the current transaction, or NULL when none is set (which matches no row).
CREATE FUNCTION botstore_current_tenant() RETURNS BIGINT
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('botstore.tenant_id', true), '')::bigint $$;

-- Bearer tokens, stored as SHA-256 hashes (tokens are 256 random bits, so a slow hash adds nothing). A NULL
-- tenant_id marks an administrator token (/admin endpoints).
CREATE TABLE api_tokens (
    tenant_id       BIGINT REFERENCES tenants (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at      TIMESTAMPTZ,
    token_hash      BYTEA PRIMARY KEY CHECK (length(token_hash) = 32)
);
CREATE INDEX idx_api_tokens_tenant ON api_tokens (tenant_id) WHERE revoked_at IS NULL;

GRANT SELECT ON tenants TO botstore_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    bots, bot_channels, users, user_sessions, message_history, auto_tasks, task_approvals,
    bot_memories, kb_documents, analytics_events
    TO botstore_app;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = botstore_current_tenant());
CREATE POLICY maintenance ON tenants TO botstore_maintainer USING (true) WITH CHECK (true);

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['bots', 'bot_channels', 'users', 'user_sessions', 'message_history', 'auto_tasks',
                             'task_approvals', 'bot_memories', 'kb_documents', 'analytics_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = botstore_current_tenant()) '
                       'WITH CHECK (tenant_id = botstore_current_tenant())', t);
        EXECUTE format('CREATE POLICY maintenance ON %I TO botstore_maintainer USING (true) WITH CHECK (true)', t);
    END LOOP;
END $$;
