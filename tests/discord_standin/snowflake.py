"""Snowflake ids minted from the current time.

discord.py reads creation times out of ids (``Interaction.expires_at`` is the
id's time plus 15 minutes), so ids must carry a real timestamp for
``is_expired()`` to behave; ``age_s`` back-dates one to test expiry paths.

The time bits also decide a guild's Gateway shard (``(id >> 22) % count``),
so ``shard=(id, count)`` back-dates by under ``count`` milliseconds to mint a
guild id that lands on a chosen shard.
"""

from __future__ import annotations

import itertools
import time

DISCORD_EPOCH_MS = 1420070400000

_counter = itertools.count()


def snowflake(age_s: float = 0.0, *, shard: tuple[int, int] | None = None) -> int:
    """A fresh, unique id whose embedded time is ``age_s`` seconds ago (routed to ``shard`` if given)."""
    ms = int(time.time() * 1000 - age_s * 1000) - DISCORD_EPOCH_MS
    if shard is not None:
        shard_id, count = shard
        if not 0 <= shard_id < count:
            raise ValueError(f'shard {shard_id} is not one of 0..{count - 1}')
        ms -= (ms - shard_id) % count
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def snowflake_time_s(value: int) -> float:
    """Unix time (seconds) embedded in a snowflake."""
    return ((int(value) >> 22) + DISCORD_EPOCH_MS) / 1000.0


def shard_of(guild_id: int, shard_count: int) -> int:
    """The Gateway shard a guild's events go to, as Discord routes them."""
    return (int(guild_id) >> 22) % shard_count
