"""Muse's Discord bot and the `muse` command line."""
