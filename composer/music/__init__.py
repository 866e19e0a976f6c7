"""The music model every stage shares: keys, meters, chords, notes and scores."""
