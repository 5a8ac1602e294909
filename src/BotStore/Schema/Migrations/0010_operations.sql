-- Operations: the journal of scheduled maintenance and partition runs, and a guard on partition policies.

-- Retention counts whole months back from the current one, premake counts months ahead. A retention shorter than
-- the premake window keeps less history than the runway BotStore builds ahead of it, which is a mistyped policy
-- rather than an intention: refuse it here as the manager refuses it at start-up.
ALTER TABLE partitioned_tables ADD CONSTRAINT ck_partitioned_tables_retention_covers_premake
    CHECK (retention_months IS NULL OR retention_months >= premake_months);

-- One row per run of a task (run_id NULL) and one per step of that run (run_id = the run's id), e.g. one REINDEX of
-- one index. A row is written when its work starts (outcome 'running') and completed when it ends, so a crash
-- leaves a visible 'running' row rather than nothing. Few rows a week: readable TEXT beats SMALLINT codes here.
CREATE TABLE maintenance_runs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       BIGINT REFERENCES maintenance_runs (id) ON DELETE CASCADE,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    task         TEXT NOT NULL CHECK (task ~ '^[a-z][a-z_]*$'),
    target       TEXT,
    outcome      TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
    host         TEXT,
    detail       TEXT,
    error        TEXT,
    CONSTRAINT ck_maintenance_runs_finished CHECK ((finished_at IS NULL) = (outcome = 'running'))
);
CREATE INDEX idx_maintenance_runs_task ON maintenance_runs (task, started_at DESC) WHERE run_id IS NULL;
CREATE INDEX idx_maintenance_runs_steps ON maintenance_runs (run_id) WHERE run_id IS NOT NULL;
-- The cluster task asks "was this partition clustered since it closed?".
CREATE INDEX idx_maintenance_runs_target ON maintenance_runs (task, target, started_at DESC) WHERE run_id IS NOT NULL;
