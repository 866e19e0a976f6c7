-- 0002 (PostgreSQL): as ../0002_remix_lineage.sql.

ALTER TABLE compositions
    ADD COLUMN parent_id BIGINT REFERENCES compositions(id) ON DELETE SET NULL;
CREATE INDEX compositions_by_parent ON compositions(parent_id) WHERE parent_id IS NOT NULL;

CREATE INDEX jobs_by_requester ON jobs(requester_id, status);
