-- The conversation store: a page-ordered index of active bots, and the error raiser of bulk message ingest.
--
-- idx_bots_active stays as the seed defines it, (tenant_id, is_active) WHERE is_active = true: it answers "the
-- tenant's active bots" in no particular order. Inside it is_active is always true, so it cannot give a keyset page
-- in id order, and the planner reads the primary key and filters inactive bots instead. This index holds the same
-- rows in page order: "the tenant's next N active bots" reads exactly N entries. A deactivated bot leaves both.
CREATE INDEX idx_bots_active_page ON bots (tenant_id, id) WHERE is_active = true;

-- Raises an error from inside a set-based statement (bulk ingest checks every row of a batch in the one INSERT ...
-- SELECT that writes it). The code is a SQLSTATE the application translates (23503: refers to something missing,
-- 23514: not valid); the constraint names the offending field, e.g. messages[3].session_id. Never returns.
CREATE FUNCTION botstore_reject(code TEXT, field TEXT, message TEXT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, CONSTRAINT = field;
END;
$$;
