-- 0002: remember which piece a remix or variation came from, and let the queue
-- count a member's active jobs (fairness limits) without scanning the table.

ALTER TABLE compositions
    ADD COLUMN parent_id INTEGER REFERENCES compositions(id) ON DELETE SET NULL;
CREATE INDEX compositions_by_parent ON compositions(parent_id) WHERE parent_id IS NOT NULL;

CREATE INDEX jobs_by_requester ON jobs(requester_id, status);
