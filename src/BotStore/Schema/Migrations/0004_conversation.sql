-- The conversation store: a better-keyed idx_bots_active, and the error raiser of bulk message ingest.
--
-- idx_bots_active: the seed indexes (tenant_id, is_active) WHERE is_active = true. Inside that partial index
-- is_active is always true, so its second column carries nothing, and a page of a tenant's active bots in id order
-- (the keyset every list uses) still had to sort them or walk the primary key past the inactive ones. Keyed on
-- (tenant_id, id) it holds the same rows, in page order: "the tenant's next N active bots" reads exactly N entries.
-- A deactivated bot leaves it, as before.
DROP INDEX idx_bots_active;
CREATE INDEX idx_bots_active ON bots (tenant_id, id) WHERE is_active = true;

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
