-- Who is posting a jam round, and since when: a round opened but never posted (the bot stopped in
-- between) is posted by the next process once the claim is stale, and two live processes never
-- both post it.
ALTER TABLE jam_rounds ADD COLUMN post_claimed_at REAL;
