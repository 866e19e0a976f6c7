"""Measurements Muse reports about itself (theme distinctness, voice timbre, model quality)."""
