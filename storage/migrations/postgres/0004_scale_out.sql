-- 0004 (PostgreSQL): as ../0004_scale_out.sql.

ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN delivery_key TEXT;
ALTER TABLE jobs ADD COLUMN delivered_at DOUBLE PRECISION;
CREATE UNIQUE INDEX jobs_by_delivery_key ON jobs(delivery_key) WHERE delivery_key IS NOT NULL;
CREATE INDEX jobs_by_owner ON jobs(owner, status);
CREATE INDEX jobs_by_guild ON jobs(guild_id, status);

CREATE TABLE bot_processes (
    name         TEXT PRIMARY KEY,
    shard_ids    TEXT NOT NULL,
    started_at   DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL
);
