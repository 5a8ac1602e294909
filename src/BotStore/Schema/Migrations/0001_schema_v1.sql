-- Schema v1: the seed's tables, enums, indexes, partitioning and autovacuum settings.
-- Column order: 8-byte fixed columns, then 16-byte uuids (byte-aligned), then 4-, 2- and 1-byte columns, then
-- variable-length ones, so PostgreSQL wastes no alignment padding. Enum CHECKs and comments are generated from
-- the C# enum catalog (`botstore enums --sql`) and tests compare them with it.

-- The millisecond timestamp inside a UUIDv7. message_history and analytics_events require created_at to equal it,
-- so (id, created_at) is as unique as id and a retried write with the same id finds the same partition.
CREATE FUNCTION uuid7_time(id uuid) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_timestamp((('x' || substr(encode(uuid_send(id), 'hex'), 1, 12))::bit(48)::bigint)::double precision / 1000);

CREATE TABLE tenants (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    is_active       BOOLEAN NOT NULL DEFAULT true,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

CREATE TABLE bots (
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    id              UUID NOT NULL,
    llm_provider    SMALLINT NOT NULL,
    is_active       BOOLEAN NOT NULL DEFAULT true,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    config          JSONB,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ck_bots_llm_provider CHECK (llm_provider BETWEEN 0 AND 9)
);
CREATE INDEX idx_bots_active ON bots (tenant_id, is_active) WHERE is_active = true;

CREATE TABLE bot_channels (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    id              UUID NOT NULL,
    bot_id          UUID NOT NULL,
    channel         SMALLINT NOT NULL,
    is_active       BOOLEAN NOT NULL DEFAULT true,
    config          JSONB,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, bot_id, channel),
    FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
    CONSTRAINT ck_bot_channels_channel CHECK (channel BETWEEN 0 AND 9)
);

CREATE TABLE users (
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    id              UUID NOT NULL,
    external_id     TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    display_name    TEXT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_id)
);

CREATE TABLE user_sessions (
    tenant_id        BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    last_activity_at TIMESTAMPTZ NOT NULL,
    id               UUID NOT NULL,
    user_id          UUID NOT NULL,
    bot_id           UUID NOT NULL,
    message_count    INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    channel          SMALLINT NOT NULL,
    title            TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
    CONSTRAINT ck_user_sessions_channel CHECK (channel BETWEEN 0 AND 9)
);
CREATE INDEX idx_sessions_user ON user_sessions (user_id, created_at DESC);
CREATE INDEX idx_sessions_tenant ON user_sessions (tenant_id, created_at DESC);
-- The seed INCLUDEs (title, message_count, last_activity_at). A session list needs the id, and the tenant filter
-- and row-level-security policy read tenant_id: without both, no real query could be answered index-only.
CREATE INDEX idx_sessions_covering ON user_sessions (user_id, created_at DESC)
    INCLUDE (title, message_count, last_activity_at, id, tenant_id);
ALTER TABLE user_sessions SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);

-- message_index is unique within a session by construction (appends lock the session row); PostgreSQL cannot
-- enforce (session_id, message_index) unique on a table partitioned by created_at.
CREATE TABLE message_history (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    id              UUID NOT NULL,
    session_id      UUID NOT NULL,
    user_id         UUID NOT NULL,
    message_index   INTEGER NOT NULL CHECK (message_index >= 0),
    role            SMALLINT NOT NULL,
    message_type    SMALLINT NOT NULL DEFAULT 0,
    is_read         BOOLEAN NOT NULL DEFAULT false,
    content         TEXT NOT NULL,
    metadata        JSONB,
    PRIMARY KEY (id, created_at),
    FOREIGN KEY (tenant_id, session_id) REFERENCES user_sessions (tenant_id, id),
    CONSTRAINT ck_message_history_created_at CHECK (created_at = uuid7_time(id)),
    CONSTRAINT ck_message_history_role CHECK (role IN (1, 2, 3, 4, 9, 10)),
    CONSTRAINT ck_message_history_message_type CHECK (message_type BETWEEN 0 AND 8)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_messages_session ON message_history (session_id, message_index);
CREATE INDEX idx_messages_unread ON message_history (user_id, created_at) WHERE is_read = false;
CREATE INDEX idx_messages_created_brin ON message_history USING BRIN (created_at);

CREATE TABLE auto_tasks (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    id              UUID NOT NULL,
    bot_id          UUID NOT NULL,
    session_id      UUID,
    status          SMALLINT NOT NULL DEFAULT 0,
    priority        SMALLINT NOT NULL DEFAULT 1,
    execution_mode  SMALLINT NOT NULL DEFAULT 1,
    intent_type     SMALLINT NOT NULL DEFAULT 0,
    risk_level      SMALLINT NOT NULL DEFAULT 0,
    progress        SMALLINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    error           TEXT,
    payload         JSONB,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES user_sessions (tenant_id, id),
    CONSTRAINT ck_auto_tasks_status CHECK (status BETWEEN 0 AND 7),
    CONSTRAINT ck_auto_tasks_priority CHECK (priority BETWEEN 0 AND 4),
    CONSTRAINT ck_auto_tasks_execution_mode CHECK (execution_mode BETWEEN 0 AND 2),
    CONSTRAINT ck_auto_tasks_intent_type CHECK (intent_type BETWEEN 0 AND 8),
    CONSTRAINT ck_auto_tasks_risk_level CHECK (risk_level BETWEEN 0 AND 4)
);
CREATE INDEX idx_tasks_status ON auto_tasks (status, priority) WHERE status < 5;

CREATE TABLE task_approvals (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    decided_at      TIMESTAMPTZ,
    id              UUID NOT NULL,
    task_id         UUID NOT NULL,
    status          SMALLINT NOT NULL DEFAULT 0,
    risk_level      SMALLINT NOT NULL DEFAULT 0,
    step            TEXT NOT NULL CHECK (length(step) BETWEEN 1 AND 500),
    reason          TEXT,
    decided_by      TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES auto_tasks (tenant_id, id),
    CONSTRAINT ck_task_approvals_status CHECK (status BETWEEN 0 AND 4),
    CONSTRAINT ck_task_approvals_risk_level CHECK (risk_level BETWEEN 0 AND 4)
);
CREATE INDEX idx_approvals_pending ON task_approvals (task_id, expires_at) WHERE status = 0;

CREATE TABLE bot_memories (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ,
    id              UUID NOT NULL,
    bot_id          UUID NOT NULL,
    user_id         UUID,
    memory_type     SMALLINT NOT NULL,
    key             TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
    value           JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE NULLS NOT DISTINCT (tenant_id, bot_id, memory_type, user_id, key),
    FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT ck_bot_memories_memory_type CHECK (memory_type BETWEEN 0 AND 4)
);

CREATE TABLE kb_documents (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    synced_at       TIMESTAMPTZ,
    size_bytes      BIGINT,
    id              UUID NOT NULL,
    bot_id          UUID NOT NULL,
    sync_status     SMALLINT NOT NULL DEFAULT 1,
    path            TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 1000),
    content_hash    TEXT,
    error           TEXT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, bot_id, path),
    FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
    CONSTRAINT ck_kb_documents_sync_status CHECK (sync_status BETWEEN 0 AND 4)
);

-- Events are written at the highest rate and read in bulk by time: no foreign keys (an event may outlive what it
-- describes), BRIN on created_at, monthly partitions.
CREATE TABLE analytics_events (
    tenant_id       BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    id              UUID NOT NULL,
    bot_id          UUID,
    user_id         UUID,
    session_id      UUID,
    channel         SMALLINT NOT NULL,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    properties      JSONB,
    PRIMARY KEY (id, created_at),
    CONSTRAINT ck_analytics_events_created_at CHECK (created_at = uuid7_time(id)),
    CONSTRAINT ck_analytics_events_channel CHECK (channel BETWEEN 0 AND 9)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_analytics_date_brin ON analytics_events USING BRIN (created_at);

COMMENT ON COLUMN bots.llm_provider IS 'llm_provider: 0=openai, 1=anthropic, 2=azure_openai, 3=azure_claude, 4=google, 5=local, 6=ollama, 7=groq, 8=mistral, 9=cohere';
COMMENT ON COLUMN bot_channels.channel IS 'channel_type: 0=web, 1=whatsapp, 2=telegram, 3=msteams, 4=slack, 5=email, 6=sms, 7=voice, 8=instagram, 9=api';
COMMENT ON COLUMN user_sessions.channel IS 'channel_type: 0=web, 1=whatsapp, 2=telegram, 3=msteams, 4=slack, 5=email, 6=sms, 7=voice, 8=instagram, 9=api';
COMMENT ON COLUMN message_history.role IS 'message_role: 1=user, 2=assistant, 3=system, 4=tool, 9=episodic, 10=compact';
COMMENT ON COLUMN message_history.message_type IS 'message_type: 0=text, 1=image, 2=audio, 3=video, 4=document, 5=location, 6=contact, 7=sticker, 8=reaction';
COMMENT ON COLUMN auto_tasks.status IS 'task_status: 0=pending, 1=ready, 2=running, 3=paused, 4=waiting_approval, 5=completed, 6=failed, 7=cancelled';
COMMENT ON COLUMN auto_tasks.priority IS 'task_priority: 0=low, 1=normal, 2=high, 3=urgent, 4=critical';
COMMENT ON COLUMN auto_tasks.execution_mode IS 'execution_mode: 0=manual, 1=supervised, 2=autonomous';
COMMENT ON COLUMN auto_tasks.intent_type IS 'intent_type: 0=unknown, 1=app_create, 2=todo, 3=monitor, 4=action, 5=schedule, 6=goal, 7=tool, 8=query';
COMMENT ON COLUMN auto_tasks.risk_level IS 'risk_level: 0=none, 1=low, 2=medium, 3=high, 4=critical';
COMMENT ON COLUMN task_approvals.status IS 'approval_status: 0=pending, 1=approved, 2=rejected, 3=expired, 4=skipped';
COMMENT ON COLUMN task_approvals.risk_level IS 'risk_level: 0=none, 1=low, 2=medium, 3=high, 4=critical';
COMMENT ON COLUMN bot_memories.memory_type IS 'memory_type: 0=short, 1=long, 2=episodic, 3=semantic, 4=procedural';
COMMENT ON COLUMN kb_documents.sync_status IS 'sync_status: 0=synced, 1=pending, 2=conflict, 3=error, 4=deleted';
COMMENT ON COLUMN analytics_events.channel IS 'channel_type: 0=web, 1=whatsapp, 2=telegram, 3=msteams, 4=slack, 5=email, 6=sms, 7=voice, 8=instagram, 9=api';

-- Which tables BotStore partitions by month, how far ahead it premakes partitions, how long it keeps them, and the
-- storage options every partition gets (PostgreSQL refuses autovacuum options on a partitioned parent).
CREATE TABLE partitioned_tables (
    table_name       TEXT PRIMARY KEY,
    premake_months   SMALLINT NOT NULL DEFAULT 3 CHECK (premake_months BETWEEN 0 AND 120),
    retention_months SMALLINT CHECK (retention_months > 0),
    reloptions       TEXT[] NOT NULL DEFAULT '{}'
);
INSERT INTO partitioned_tables (table_name, reloptions) VALUES
    ('message_history', '{autovacuum_vacuum_scale_factor=0.01,autovacuum_analyze_scale_factor=0.005,autovacuum_vacuum_cost_delay=2}'),
    ('analytics_events', '{}');

CREATE TABLE message_history_default PARTITION OF message_history DEFAULT;
CREATE TABLE analytics_events_default PARTITION OF analytics_events DEFAULT;
ALTER TABLE message_history_default SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.005, autovacuum_vacuum_cost_delay = 2);
