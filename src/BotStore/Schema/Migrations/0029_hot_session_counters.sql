-- botstore:no-transaction
-- Session counters move with every message, so their UPDATE should be HOT: a new row version on the same page and
-- no index entry. PostgreSQL allows that only when no index holds a changed column, and the seed's
-- idx_sessions_covering INCLUDEs message_count and last_activity_at: every append and every bulk batch then wrote a
-- new entry into all three session indexes for every session it moved, and left the versions it replaced for the
-- next foreign-key check and index scan to step over. A bulk load of 1M messages over 20,000 sessions, in ten
-- batches, moved every session ten times: its COPYs slowed from 1.06 to 1.43 s per batch through the run and the
-- counters' UPDATE took 150-290 ms; with this migration the COPYs stay at 1.02-1.14 s and the UPDATE under 100 ms.
-- The index-only scan the two columns bought for a user's session list was rare on a live table anyway: the
-- visibility-map bit it needs is cleared by each update of a page, and the sessions a user lists are the active ones.
-- So the index keeps the seed's keys and title (which seldom changes) and the list reads the two counters from the
-- heap page the index points to. fillfactor = 80 leaves room on each page for the new versions (new pages only; the
-- table is not rewritten: old pages gain room as versions are pruned).
-- Rebuilt CONCURRENTLY under a new name, then swapped, so sessions keep taking writes. Each statement is safe to
-- run again after an interruption: a half-built index of an earlier attempt is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS idx_sessions_covering_next;
CREATE INDEX CONCURRENTLY idx_sessions_covering_next ON user_sessions (user_id, created_at DESC) INCLUDE (title, id, tenant_id);
DROP INDEX CONCURRENTLY IF EXISTS idx_sessions_covering;
ALTER INDEX idx_sessions_covering_next RENAME TO idx_sessions_covering;
ALTER TABLE user_sessions SET (fillfactor = 80);
