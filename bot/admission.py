"""Who may queue another job right now: per-member and per-server caps, a process-wide cap,
and a per-member cooldown. Refusals are one polite line that says when to try again."""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Callable

from bot.config import Limits


class Admission:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._by_member: Counter[int] = Counter()
        self._by_guild: Counter[int] = Counter()
        self._total = 0
        self._last_accepted: dict[int, float] = {}

    def refusal(self, member_id: int, guild_id: int | None, wait_s: float) -> str | None:
        """None when the member may queue a job now; otherwise the line to tell them.

        `wait_s` is the queue's estimate of how long until a slot frees up.
        """
        limits = self.limits
        if self._by_member[member_id] >= limits.member_active_max:
            return refusal_line("member", limits, wait_s, active=self._by_member[member_id])
        since = self._clock() - self._last_accepted.get(member_id, -math.inf)
        if since < limits.cooldown_s:
            return refusal_line("cooldown", limits, limits.cooldown_s - since)
        if guild_id is not None and self._by_guild[guild_id] >= limits.guild_active_max:
            return refusal_line("guild", limits, wait_s)
        if self._total >= limits.queue_max:
            return refusal_line("queue", limits, wait_s)
        return None

    def take(self, member_id: int, guild_id: int | None, *, cooldown: bool = True) -> None:
        self._by_member[member_id] += 1
        if guild_id is not None:
            self._by_guild[guild_id] += 1
        self._total += 1
        if cooldown:
            self._last_accepted[member_id] = self._clock()

    def release(self, member_id: int, guild_id: int | None) -> None:
        self._by_member[member_id] -= 1
        if self._by_member[member_id] <= 0:
            del self._by_member[member_id]
        if guild_id is not None:
            self._by_guild[guild_id] -= 1
            if self._by_guild[guild_id] <= 0:
                del self._by_guild[guild_id]
        self._total -= 1

    @property
    def active(self) -> int:
        return self._total


def refusal_line(reason: str, limits: Limits, wait_s: float, *, active: int | None = None) -> str:
    """The polite line for a refusal, whether this process or the shared database refused."""
    retry_s = max(1, math.ceil(wait_s))
    if reason == "member":
        have = f"You already have {active} pieces" if active is not None else "You already have pieces"
        return f"{have} on the way (at most {limits.member_active_max}); try again in about {retry_s} s."
    if reason == "cooldown":
        return f"One moment between requests, please: try again in {retry_s} s."
    if reason == "guild":
        return f"Muse is busy in this server right now; try again in about {retry_s} s."
    return f"Muse is busy right now; try again in about {retry_s} s."
