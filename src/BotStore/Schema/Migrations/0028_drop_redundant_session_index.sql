-- botstore:no-transaction
-- The seed's idx_sessions_user (user_id, created_at DESC) has the very keys its idx_sessions_covering starts with, and
-- the covering index holds everything the narrow one does and more: every query it could serve, the covering index
-- serves (the index report and the dashboard's "Duplicate indexes" check have flagged it since 0001). Keeping it only
-- costs writes: a session's counters move with every append and every bulk batch, and that UPDATE is not HOT (the
-- covering index INCLUDEs the counters), so each one also inserted into this index, at random places (user ids are
-- random). Measured on 20,000 sessions moved in one UPDATE (the counters' UPDATE of a bulk batch): 197-254 ms with
-- it, 158-159 ms without.
-- CONCURRENTLY: sessions keep taking writes while it goes (a plain DROP INDEX waits for, and then blocks, them all).
DROP INDEX CONCURRENTLY IF EXISTS idx_sessions_user;
