"""Corpus preparation and training of the melody model; imports composer, never imported by it."""
