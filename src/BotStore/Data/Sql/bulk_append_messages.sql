-- Moves a batch of messages from botstore_incoming_messages (filled by binary COPY) into message_history, as the
-- tenant ($1) under its row-level-security policy, in one statement. The batch's sessions are already locked (the
-- statement before this one, in id order), so this statement's snapshot sees every message stored for them and
-- their current counters, and no other writer can move them until the transaction ends.
--
-- * ids already stored (a retried batch), and repeats of an id within the batch, are skipped;
-- * a message without message_index takes the session's next free index, in created_at order;
-- * an explicit message_index must be free: at least the session's message_count, once per session in the batch;
-- * in index order, no message may be more than an hour older than the session's latest message before it;
-- * each session's message_count and last_activity_at move past what was written.
-- A message that breaks a rule fails the whole batch through botstore_reject(), naming it by its place in the
-- batch (ord), and nothing is written.
-- Every lookup is shaped so it can only be an index probe, whatever the planner guesses about the (never analyzed)
-- temporary table: the stored-id check is a LATERAL ... LIMIT 1 per row (the primary key, in the one partition its
-- created_at names), and sessions are fetched by id = ANY(ARRAY(...)) on the primary key. A join the planner could
-- turn into a hash join would read all of the tenant's messages or sessions.
WITH fresh AS (
    SELECT DISTINCT ON (i.id) i.*
    FROM botstore_incoming_messages i
    LEFT JOIN LATERAL (
        SELECT true AS found FROM message_history m
        WHERE m.tenant_id = $1 AND m.id = i.id AND m.created_at = i.created_at
        LIMIT 1
    ) stored ON true
    WHERE stored.found IS NULL
    ORDER BY i.id, i.ord
), sessions AS (
    SELECT s.id, s.user_id, s.message_count, s.last_activity_at,
           greatest(s.message_count, f.last_explicit + 1) AS first_free
    FROM user_sessions s
    JOIN (SELECT session_id, max(message_index) AS last_explicit FROM fresh GROUP BY session_id) f ON f.session_id = s.id
    WHERE s.tenant_id = $1 AND s.id = ANY (ARRAY(SELECT DISTINCT session_id FROM fresh))
), numbered AS (
    SELECT f.*, s.user_id, s.message_count, s.last_activity_at,
           coalesce(f.message_index,
                    s.first_free - 1 + row_number() OVER (PARTITION BY f.session_id, f.message_index IS NULL
                                                          ORDER BY f.created_at, f.ord))::int AS final_index
    FROM fresh f
    LEFT JOIN sessions s ON s.id = f.session_id
), checked AS (
    SELECT n.*,
           CASE
               WHEN n.user_id IS NULL THEN botstore_reject('23503', format('messages[%s].session_id', n.ord),
                   format('session %s does not exist', n.session_id))
               WHEN n.message_index < n.message_count THEN botstore_reject('23514', format('messages[%s].message_index', n.ord),
                   format('message_index %s is taken: session %s already has %s messages', n.message_index, n.session_id, n.message_count))
               WHEN count(*) OVER (PARTITION BY n.session_id, n.final_index) > 1 THEN botstore_reject('23514', format('messages[%s].message_index', n.ord),
                   format('message_index %s appears more than once for session %s', n.final_index, n.session_id))
               WHEN n.created_at < greatest(n.last_activity_at, max(n.created_at) OVER earlier) - interval '1 hour'
                   THEN botstore_reject('23514', format('messages[%s].id', n.ord),
                   format('the timestamp in the id (%s) is more than an hour before the latest message of session %s before it (%s)',
                          n.created_at, n.session_id, greatest(n.last_activity_at, max(n.created_at) OVER earlier)))
               WHEN n.created_at > now() + interval '1 hour' THEN botstore_reject('23514', format('messages[%s].id', n.ord),
                   format('the timestamp in the id (%s) is more than an hour ahead of the database''s clock', n.created_at))
               ELSE true
           END AS accepted
    FROM numbered n
    WINDOW earlier AS (PARTITION BY n.session_id ORDER BY n.final_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), inserted AS (
    INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content, metadata)
    SELECT $1, created_at, id, session_id, user_id, final_index, role, message_type, role = 1, content, metadata
    FROM checked
    WHERE accepted
    ORDER BY created_at
    RETURNING session_id, message_index, created_at
), bumped AS (
    UPDATE user_sessions s
    SET message_count = greatest(s.message_count, b.last_index + 1),
        last_activity_at = greatest(s.last_activity_at, b.latest)
    FROM (SELECT session_id, max(message_index) AS last_index, max(created_at) AS latest FROM inserted GROUP BY session_id) b
    WHERE s.tenant_id = $1 AND s.id = b.session_id AND s.id = ANY (ARRAY(SELECT session_id FROM inserted))
)
SELECT count(*)::int FROM inserted
