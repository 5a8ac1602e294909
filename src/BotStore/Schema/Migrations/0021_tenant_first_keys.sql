-- Ids are unique per tenant: the two tables whose ids come from clients (message_history, analytics_events) get
-- primary keys that start with tenant_id, like every other table's.
--
-- With PRIMARY KEY (id, created_at) a tenant that sent another tenant's message id got a unique violation (the id
-- exists, somewhere), and an event with another tenant's id was skipped as a duplicate: an existence oracle across
-- tenants. Keyed by (tenant_id, id, created_at), another tenant's id is simply free. created_at stays in the key
-- because a partitioned table's unique keys must contain its partition key. The key is also the replica identity
-- a logical-replication row filter on tenant_id needs (the filter's columns must be in it).
--
-- Lookups by id always carry the tenant and the created_at from the UUIDv7, so they probe this index as before.

ALTER TABLE message_history DROP CONSTRAINT message_history_pkey;
ALTER TABLE message_history ADD CONSTRAINT message_history_pkey PRIMARY KEY (tenant_id, id, created_at);

ALTER TABLE analytics_events DROP CONSTRAINT analytics_events_pkey;
ALTER TABLE analytics_events ADD CONSTRAINT analytics_events_pkey PRIMARY KEY (tenant_id, id, created_at);
