-- The message append as one server-side function: scope, fence, session lock and append in one statement whose
-- inner plans each server connection caches.
--
-- Why: through PgBouncer 1.18 in transaction mode the client prepares nothing, so the append's three statements
-- (the tenant scope, the session lock, the append itself, a CTE over the partitioned message_history) were parsed,
-- analysed and planned on every call: about 0.5 ms of planning for the append on a warm server connection against
-- its 0.5 to 1 ms of execution (EXPLAIN (ANALYZE, BUFFERS), 8 partitions; docs/api.md "Planning cost"). Here the
-- client sends one statement with nothing to plan but a function call, and PL/pgSQL keeps the plans of the
-- statements inside for the life of the server connection, whoever the client is.
--
-- What it does, in the order the client's batch did it (MessageStore.AppendAsync):
-- 1. the tenant scope, exactly TenantScope.ScopeSql: the transaction switches to botstore_app (row-level security
--    applies to every statement below), sets the tenant, and enters it on this shard (botstore_enter_tenant,
--    migration 0024: waits while a move fences the tenant, BS001 when it has left this shard). The function runs as
--    its caller (SECURITY INVOKER), so switching the role is allowed, and the settings last until the transaction
--    ends, as the scope statement's do.
-- 2. the session row locked FOR NO KEY UPDATE: appends to one session queue here and take gap-free indexes.
-- 3. the append: the id looked up first ((id, created_at) names one partition), and only when it is new the session's
--    counters moved and the message inserted. VOLATILE: every statement takes a new snapshot, so this one, started
--    after the row lock was granted, sees an append of the same id that committed while it waited (idempotent
--    retries stay one row).
--
-- Answers one row: found_session false when the tenant has no such session (nothing else is set); else the
-- session's latest activity and the database's clock (for the caller's message when the time is out of bounds),
-- and stored_session / stored_index / created: the message's session and index, created false when the id was
-- already stored (stored_session then names the session that holds it); all three NULL when the message's time is
-- out of the session's bounds and nothing was written.
CREATE FUNCTION botstore_append_message(tenant BIGINT, session UUID, message_id UUID, message_at TIMESTAMPTZ,
    message_role SMALLINT, message_kind SMALLINT, body TEXT, meta JSONB,
    OUT found_session BOOLEAN, OUT latest_activity TIMESTAMPTZ, OUT db_now TIMESTAMPTZ,
    OUT stored_session UUID, OUT stored_index INTEGER, OUT created BOOLEAN)
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM set_config('role', 'botstore_app', true), set_config('botstore.tenant_id', tenant::text, true),
            botstore_enter_tenant(tenant);
    SELECT s.last_activity_at, now() INTO latest_activity, db_now
    FROM user_sessions s WHERE s.tenant_id = tenant AND s.id = session
    FOR NO KEY UPDATE;
    found_session := FOUND;
    IF NOT found_session THEN
        RETURN;
    END IF;
    WITH existing AS (
        SELECT m.session_id, m.message_index FROM message_history m
        WHERE m.tenant_id = tenant AND m.id = message_id AND m.created_at = message_at
    ), s AS (
        UPDATE user_sessions u
        SET message_count = u.message_count + 1, last_activity_at = greatest(u.last_activity_at, message_at)
        WHERE u.tenant_id = tenant AND u.id = session AND NOT EXISTS (SELECT FROM existing)
          AND message_at >= u.last_activity_at - interval '1 hour' AND message_at <= now() + interval '1 hour'
        RETURNING u.user_id, u.message_count - 1 AS message_index
    ), inserted AS (
        INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content, metadata)
        SELECT tenant, message_at, message_id, session, s.user_id, s.message_index, message_role, message_kind, message_role = 1, body, meta FROM s
        RETURNING message_history.session_id, message_history.message_index
    )
    SELECT r.session_id, r.message_index, r.created INTO stored_session, stored_index, created
    FROM (SELECT i.session_id, i.message_index, true AS created FROM inserted i
          UNION ALL
          SELECT e.session_id, e.message_index, false FROM existing e) r;
END;
$$;

GRANT EXECUTE ON FUNCTION botstore_append_message(BIGINT, UUID, UUID, TIMESTAMPTZ, SMALLINT, SMALLINT, TEXT, JSONB) TO botstore_app;
