"""Measurements of what composer makes (model, singing, themes, voices); imports composer, never imported by it."""
