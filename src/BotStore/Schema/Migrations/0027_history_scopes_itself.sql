-- The session history scopes its transaction itself, as the append does since 0026: one statement per history read.
--
-- Why: through PgBouncer 1.18 in transaction mode the client prepares nothing, so every statement of a batch is
-- parsed, bound and planned on the server and passes PgBouncer as its own protocol messages. The history read was two
-- statements (TenantScope.ScopeSql, then this function). pgbench sending those two (-M extended, 8 clients, one
-- pipeline per read, 1M messages) through PgBouncer ran 4,863 and 5,382 reads/s where the function alone ran 6,842 and
-- 6,937; on a direct connection the same pair ran at 0.74x of the plain history SQL prepared (bench/README.md, pooled).
--
-- What changes: the function first does exactly what the scope statement did (the transaction switches to
-- botstore_app so row-level security applies to the statements below, sets the tenant, enters it on this shard:
-- botstore_enter_tenant waits while a move fences the tenant and raises BS001 when it has left this shard), then
-- reads as before. It runs as its caller (SECURITY INVOKER), so switching the role is allowed, and the settings last
-- until the transaction ends, as the scope statement's did. VOLATILE, since it takes a lock and sets the role (it was
-- STABLE); its statements' plans stay in the server connection's PL/pgSQL cache. A caller that scoped the transaction
-- already (multi-step work) loses nothing: the same settings again and a second shared lock on the same key.
CREATE OR REPLACE FUNCTION botstore_session_history(tenant BIGINT, session UUID, from_time TIMESTAMPTZ, to_time TIMESTAMPTZ,
    after_index INTEGER, before_index INTEGER, take INTEGER, newest_first BOOLEAN)
    RETURNS TABLE (id UUID, session_id UUID, message_index INTEGER, created_at TIMESTAMPTZ, role SMALLINT,
                   message_type SMALLINT, is_read BOOLEAN, content TEXT, metadata JSONB)
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    low  TIMESTAMPTZ;
    high TIMESTAMPTZ;
BEGIN
    PERFORM set_config('role', 'botstore_app', true), set_config('botstore.tenant_id', tenant::text, true),
            botstore_enter_tenant(tenant);
    SELECT greatest(s.created_at - interval '1 hour', from_time),
           least(greatest(s.last_activity_at, now()) + interval '1 hour', to_time)
    INTO low, high
    FROM user_sessions s
    WHERE s.tenant_id = tenant AND s.id = session;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF newest_first THEN
        RETURN QUERY
        SELECT m.id, m.session_id, m.message_index, m.created_at, m.role, m.message_type, m.is_read, m.content, m.metadata
        FROM message_history m
        WHERE m.tenant_id = tenant AND m.session_id = session AND m.created_at >= low AND m.created_at <= high
          AND m.message_index > after_index AND m.message_index < before_index
        ORDER BY m.message_index DESC
        LIMIT take;
    ELSE
        RETURN QUERY
        SELECT m.id, m.session_id, m.message_index, m.created_at, m.role, m.message_type, m.is_read, m.content, m.metadata
        FROM message_history m
        WHERE m.tenant_id = tenant AND m.session_id = session AND m.created_at >= low AND m.created_at <= high
          AND m.message_index > after_index AND m.message_index < before_index
        ORDER BY m.message_index
        LIMIT take;
    END IF;
    IF NOT FOUND THEN
        RETURN NEXT;
    END IF;
END;
$$;
