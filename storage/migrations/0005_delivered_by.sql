-- 0005: which process marked a job delivered. Marking is then safe to repeat for that process:
-- a call retried after the database lost its COMMIT answer (a restart) finds its own mark and
-- posts, where any other process still finds the piece taken.

ALTER TABLE jobs ADD COLUMN delivered_by TEXT;
