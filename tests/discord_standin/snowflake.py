"""Snowflake ids minted from the current time.

discord.py reads creation times out of ids (``Interaction.expires_at`` is the
id's time plus 15 minutes), so ids must carry a real timestamp for
``is_expired()`` to behave; ``age_s`` back-dates one to test expiry paths.
"""

from __future__ import annotations

import itertools
import time

DISCORD_EPOCH_MS = 1420070400000

_counter = itertools.count()


def snowflake(age_s: float = 0.0) -> int:
    """A fresh, unique id whose embedded time is ``age_s`` seconds ago."""
    ms = int(time.time() * 1000 - age_s * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def snowflake_time_s(value: int) -> float:
    """Unix time (seconds) embedded in a snowflake."""
    return ((int(value) >> 22) + DISCORD_EPOCH_MS) / 1000.0
