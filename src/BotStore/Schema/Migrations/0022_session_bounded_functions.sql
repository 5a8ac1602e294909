-- Session history and mark-read, planned against the session's own months only, with their plans cached on the server.
--
-- Why a function: the history statement used to join user_sessions to message_history and bound created_at by
-- the session's start through the LATERAL reference (m.created_at >= s.created_at - 1 hour). That bound is only
-- known while the statement runs, so the planner planned every monthly partition (8 in a three-month database,
-- 25 with two years kept) and pruned them at execution. Planning then cost more than running: about 25 shared
-- buffers and 1 ms on a warm server connection (the BRIN metapage and index metadata of every partition), and
-- about 1,300 buffers on a server connection's first call (its catalog caches filled for every partition and
-- each of their four indexes), against 0.5 ms and 17 buffers of execution.
--
-- Here the session row is read first and the bounds become PL/pgSQL variables, which a custom plan takes as
-- constants: partitions outside [session start - 1 hour, latest activity or now + 1 hour] are pruned while
-- planning and never opened. The statement's plan lives in this server connection's PL/pgSQL plan cache, so it
-- works the same through PgBouncer in transaction mode, where clients prepare nothing.
--
-- Bounds: a message is never more than an hour older than its session's start (appends and bulk ingest refuse
-- it) and never more than an hour ahead of the database's clock when stored; last_activity_at moves past every
-- stored message. SECURITY INVOKER (the default): it runs as the caller, botstore_app, under row-level security,
-- and filters by tenant itself as every statement does.
--
-- Returns nothing when the tenant has no such session, one row of NULLs when the session has no message in the
-- page, else the page in the asked order.
CREATE FUNCTION botstore_session_history(tenant BIGINT, session UUID, from_time TIMESTAMPTZ, to_time TIMESTAMPTZ,
    after_index INTEGER, before_index INTEGER, take INTEGER, newest_first BOOLEAN)
    RETURNS TABLE (id UUID, session_id UUID, message_index INTEGER, created_at TIMESTAMPTZ, role SMALLINT,
                   message_type SMALLINT, is_read BOOLEAN, content TEXT, metadata JSONB)
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    low  TIMESTAMPTZ;
    high TIMESTAMPTZ;
BEGIN
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

GRANT EXECUTE ON FUNCTION botstore_session_history(BIGINT, UUID, TIMESTAMPTZ, TIMESTAMPTZ, INTEGER, INTEGER, INTEGER, BOOLEAN)
    TO botstore_app;

-- Marks a session's messages read up to an index, with the same bounds for the same reason (the statement it
-- replaces bounded created_at by a subquery on the session, known only at execution, so every partition was
-- planned: about 95 buffers to plan on a warm connection with 25 partitions). Answers whether the tenant has the
-- session and how many messages were unread.
CREATE FUNCTION botstore_mark_read(tenant BIGINT, session UUID, up_to_index INTEGER, OUT session_found BOOLEAN, OUT marked INTEGER)
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    owner UUID;
    low   TIMESTAMPTZ;
    high  TIMESTAMPTZ;
BEGIN
    SELECT s.user_id, s.created_at - interval '1 hour', greatest(s.last_activity_at, now()) + interval '1 hour'
    INTO owner, low, high
    FROM user_sessions s
    WHERE s.tenant_id = tenant AND s.id = session;
    session_found := FOUND;
    marked := 0;
    IF session_found THEN
        -- user_id = owner lets idx_messages_unread (user_id, created_at) WHERE is_read = false find them.
        UPDATE message_history m SET is_read = true
        WHERE m.tenant_id = tenant AND m.session_id = session AND m.message_index <= up_to_index AND m.is_read = false
          AND m.user_id = owner AND m.created_at >= low AND m.created_at <= high;
        GET DIAGNOSTICS marked = ROW_COUNT;
    END IF;
END;
$$;

GRANT EXECUTE ON FUNCTION botstore_mark_read(BIGINT, UUID, INTEGER) TO botstore_app;
