-- 0004: several bot processes share one job table (the scale-out mode; harmless with one process).
-- Each job names the process that holds it; a repeated interaction is refused by its delivery key;
-- a piece is posted once (delivered_at); each process writes a heartbeat so that the jobs of a
-- process that stopped are adopted by a live one.

ALTER TABLE jobs ADD COLUMN owner TEXT;               -- bot process holding the job; NULL with one process
ALTER TABLE jobs ADD COLUMN delivery_key TEXT;        -- e.g. the interaction id: one job per key
ALTER TABLE jobs ADD COLUMN delivered_at REAL;        -- set once, just before posting the piece
CREATE UNIQUE INDEX jobs_by_delivery_key ON jobs(delivery_key) WHERE delivery_key IS NOT NULL;
CREATE INDEX jobs_by_owner ON jobs(owner, status);
CREATE INDEX jobs_by_guild ON jobs(guild_id, status);

CREATE TABLE bot_processes (
    name         TEXT PRIMARY KEY,                    -- unique per process start
    shard_ids    TEXT NOT NULL,                       -- e.g. "0,1"; '' when the process runs all shards
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
