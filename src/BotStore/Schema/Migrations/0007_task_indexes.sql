-- botstore:no-transaction
-- Indexes for tasks, approvals and memories, built CONCURRENTLY so writes go on while they build. Measured on
-- 200k tasks across 100 tenants (see docs/tasks.md).
--
-- A tenant's active tasks by status and priority. The seed's idx_tasks_status (status, priority) WHERE status < 5
-- has no tenant_id: it suits a platform-wide dispatcher, but a per-tenant list must filter every other tenant's
-- active tasks out of it (or read all the tenant's tasks, finished ones included, and sort them). id completes the
-- order for keyset pages.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_tasks_tenant_active ON auto_tasks (tenant_id, status, priority, id) WHERE status < 5;

-- All approvals of a task, and the foreign key task_approvals -> auto_tasks: without it each deleted task
-- (erasure) seq-scans task_approvals (5.7 ms a task at 85k approvals; idx_approvals_pending holds pending ones only).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_approvals_task ON task_approvals (tenant_id, task_id, id);

-- The foreign key auto_tasks -> user_sessions: without it each deleted session (erasure) seq-scans auto_tasks
-- (39 ms a session at 200k tasks).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_tasks_session ON auto_tasks (tenant_id, session_id) WHERE session_id IS NOT NULL;

-- The approval sweeper: overdue pending approvals of every tenant, soonest first, without reading every pending one.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_approvals_expiry ON task_approvals (expires_at) WHERE status = 0;

-- The memory sweeper: expired memories of every tenant.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_memories_expiry ON bot_memories (expires_at) WHERE expires_at IS NOT NULL;
