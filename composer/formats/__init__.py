"""A score written out: MIDI, ABC, score JSON, piano-roll picture, description."""
