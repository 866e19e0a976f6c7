"""Calls the jam round runner when each server's daily jam is due.

The database is the single source of truth: `start` rebuilds every job from the schedules the
caller loaded (`JamRepo.list_enabled`), and the cog calls `upsert`/`remove` after each change it
stores. There is deliberately no persistent APScheduler job store: it would be a second copy of
the schedules that can disagree with the table (a schedule edited while the bot was down, a
pickled job from an older version of this code), and the question it would answer on restart, "was
today's jam missed?", is answered by `missed_fire` plus storage's one-round-per-(guild, round_key)
rule, which also makes a repeated `on_due` harmless.

Each `on_due(schedule, fire_time)` runs as its own task whose failure is logged (bot.tasks.spawn);
`fire_time` is the scheduled moment (aware), so `timing.round_key(schedule, fire_time)` names the
round even when the call comes late.

With several bot processes (one per range of Gateway shards) each schedules only the servers
whose shard it runs (`owns`, see bot.shards); should two still fire for one server, the same
database rule lets exactly one of them post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jam.timing import jam_trigger, last_fire, missed_fire, next_fire, parse_timezone, round_key
from bot.tasks import spawn
from storage import JamSchedule

log = logging.getLogger(__name__)

OnDue = Callable[[JamSchedule, datetime], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def job_id(guild_id: int) -> str:
    return f"jam:{guild_id}"


class JamScheduler:
    """One APScheduler job per server with an enabled jam; `on_due` is called when one is due."""

    def __init__(self, on_due: OnDue, *, grace_s: float = 3600, clock: Callable[[], datetime] | None = None,
                 owns: Callable[[int], bool] | None = None):
        self._on_due = on_due
        self._owns = owns or (lambda guild_id: True)  # the guilds on this process's shards
        self._grace_s = grace_s  # how late a jam may still be posted (downtime, a blocked loop)
        self._clock = clock or _utc_now  # injectable so tests can restart "at" any moment
        self._scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._schedules: dict[int, JamSchedule] = {}  # what each job fires with, by guild
        self._tasks: set[asyncio.Task[Any]] = set()  # on_due calls in flight, cancelled at shutdown

    async def start(self, schedules: list[JamSchedule]) -> None:
        """Schedule every enabled jam, then post once for each jam missed within the grace period
        (the bot was down at jam time); the database turns a second post for a day into a no-op."""
        self._scheduler.start()
        now = self._clock()
        for schedule in schedules:
            if not schedule.enabled or not self._owns(schedule.guild_id):
                continue
            self._add_job(schedule, now)
            missed = missed_fire(schedule, now, self._grace_s)
            if missed is not None:
                log.info("jam for guild %s was due at %s while Muse was down: posting it now",
                         schedule.guild_id, missed.isoformat())
                self._call(schedule, missed)

    def upsert(self, schedule: JamSchedule) -> None:
        """Apply a stored change: a new time or zone takes effect from the next fire; disabled stops it
        (and a server on another process's shard is that process's to schedule)."""
        if not schedule.enabled or not self._owns(schedule.guild_id):
            self.remove(schedule.guild_id)
            return
        self._add_job(schedule, self._clock())

    def remove(self, guild_id: int) -> None:
        self._schedules.pop(guild_id, None)
        try:
            self._scheduler.remove_job(job_id(guild_id))
        except JobLookupError:
            pass

    def next_run(self, guild_id: int) -> datetime | None:
        """When this server's next jam is due, in its own time zone (None: no jam)."""
        job = self._scheduler.get_job(job_id(guild_id))
        schedule = self._schedules.get(guild_id)
        if job is None or schedule is None or job.next_run_time is None:
            return None
        return job.next_run_time.astimezone(parse_timezone(schedule.timezone))

    async def shutdown(self, *, wait_s: float = 0.0) -> None:
        """Stop firing; give the on_due calls in flight `wait_s` to finish, then cancel them. A
        cancelled post is retried by the next start when it is still within the grace period."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler stops in a callback on the loop
        tasks = list(self._tasks)
        if tasks and wait_s > 0:
            await asyncio.wait(tasks, timeout=wait_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _add_job(self, schedule: JamSchedule, now: datetime) -> None:
        if not self._scheduler.running:
            raise RuntimeError("JamScheduler.start() must run before jams are added")
        parse_timezone(schedule.timezone)  # a bad zone fails here, in the caller, not at fire time
        self._schedules[schedule.guild_id] = schedule
        self._scheduler.add_job(
            self._due, jam_trigger(schedule), args=[schedule.guild_id], id=job_id(schedule.guild_id),
            name=f"daily jam of guild {schedule.guild_id}", next_run_time=next_fire(schedule, now),
            misfire_grace_time=self._grace_s, coalesce=True, max_instances=1, replace_existing=True,
        )

    async def _due(self, guild_id: int) -> None:
        """The job: hand the fire to its own task, so a slow round never holds up the scheduler."""
        schedule = self._schedules.get(guild_id)
        if schedule is not None:
            self._call(schedule, last_fire(schedule, self._clock()))

    def _call(self, schedule: JamSchedule, fire_time: datetime) -> None:
        task = spawn(self._run(schedule, fire_time),
                     name=f"jam guild {schedule.guild_id} round {round_key(schedule, fire_time)}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, schedule: JamSchedule, fire_time: datetime) -> None:
        await self._on_due(schedule, fire_time)  # inside the task, so even a synchronous raise is logged
