"""Which guilds this process serves when the bot runs a range of Gateway shards.

Discord sends a guild's events to shard `(guild_id >> 22) % shard_count`; a process that runs
`shard_ids` of `shard_count` only ever hears from those guilds, so per-guild work it starts by
itself (the daily jam) must be limited to them too, or every process would start it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.config import ScaleOut


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes a guild to."""
    return (guild_id >> 22) % shard_count


def owns_guild(scale: ScaleOut, guild_id: int) -> bool:
    """Whether this process runs the shard of `guild_id` (always, unless sharded with a subset of shards)."""
    if scale.shard_count is None or scale.shard_ids is None:
        return True
    return shard_of(guild_id, scale.shard_count) in scale.shard_ids


def guild_filter(scale: ScaleOut) -> Callable[[int], bool]:
    """`owns_guild` bound to this process's settings."""
    return lambda guild_id: owns_guild(scale, guild_id)


def describe(scale: ScaleOut) -> str:
    """"shards 0,1 of 4" / "all 4 shards" / "unsharded", for logs."""
    if scale.shard_count is None:
        return "unsharded"
    if scale.shard_ids is None:
        return f"all {scale.shard_count} shards"
    return f"shards {','.join(map(str, scale.shard_ids))} of {scale.shard_count}"
