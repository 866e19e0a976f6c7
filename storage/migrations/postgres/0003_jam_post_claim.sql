-- 0003 (PostgreSQL): as ../0003_jam_post_claim.sql.
ALTER TABLE jam_rounds ADD COLUMN post_claimed_at DOUBLE PRECISION;
