"""How this process shares the job table with other bot processes, or does not.

In the default one-process mode the job table belongs to this process alone: a restart queues
again whatever was queued or running, and the in-memory `Admission` is the whole truth about
limits. In the scale-out mode (PostgreSQL, several shard processes) the table is the source of
truth for everyone: each job names the process that holds it, limits are checked and the job
inserted in one transaction, each process writes a heartbeat, and the jobs of a process whose
heartbeat stopped are adopted by a live one and run again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from bot.config import Limits, ScaleOut
from storage import ConflictError, Database, Job, NewJob

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0  # how often a process says it is alive
STALE_S = 10.0  # a process silent this long is taken for dead and its jobs adopted
MAX_ATTEMPTS = 3  # a job is composed at most this many times (a dying process or replica each cost one)


class Refused(Exception):
    """The database refused a job for a limit; `reason` is member, cooldown, guild or queue."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Duplicate(Exception):
    """The same interaction or message was already accepted (by this process or another)."""


def process_name(scale: ScaleOut) -> str:
    """Unique per process start, readable in logs: host, shards, pid and a random tail."""
    shards = "-".join(map(str, scale.shard_ids)) if scale.shard_ids else "all"
    return f"{socket.gethostname()}:shards-{shards}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobSharing:
    def __init__(self, db: Database, scale: ScaleOut, limits: Limits, *, name: str | None = None,
                 heartbeat_s: float = HEARTBEAT_S, stale_s: float = STALE_S, max_attempts: int = MAX_ATTEMPTS):
        self.db = db
        self.shared = scale.database_url is not None
        self.limits = limits
        self.owner = (name or process_name(scale)) if self.shared else None
        self.shard_ids = ",".join(map(str, scale.shard_ids)) if scale.shard_ids else ""
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self.max_attempts = max_attempts
        self.adopted = 0  # jobs taken over from dead processes (reported by the fault benchmarks)
        self.given_up = 0

    async def enqueue(self, new: NewJob, *, background: bool) -> Job:
        """Persist a job. Shared: the limits are checked in the same transaction, across processes."""
        try:
            if not self.shared:
                return await self.db.jobs.enqueue(new)
            limits = self.limits
            result = await self.db.jobs.enqueue_admitted(
                new, owner=self.owner, member_active_max=limits.member_active_max,
                guild_active_max=limits.guild_active_max, queue_max=limits.queue_max,
                cooldown_s=limits.cooldown_s, background=background)
        except ConflictError as exc:
            if new.delivery_key is None:
                raise
            # Ours after all? A call retried after its COMMIT was lost finds the job it had stored.
            found = await self.db.jobs.get_by_key(new.delivery_key)
            if found is not None and found.owner == self.owner and found.requester_id == new.requester_id:
                log.info("job %s was stored by a first try whose answer was lost; keeping it", found.id,
                         extra={"job_id": found.id})
                return found
            raise Duplicate(new.delivery_key) from exc
        if isinstance(result, str):
            raise Refused(result)
        return result

    async def recover(self) -> list[Job]:
        """At start: the jobs this process should run. Shared: only its own and those of dead processes."""
        if not self.shared:
            await self.db.jobs.requeue_running()
            return await self.db.jobs.list_active()
        await self.db.jobs.heartbeat(self.owner, self.shard_ids)
        return await self.adopt()

    async def adopt(self) -> list[Job]:
        """Take over the jobs of processes whose heartbeat stopped; fail those out of attempts."""
        assert self.owner is not None
        adopted, failed = await self.db.jobs.adopt_orphans(owner=self.owner, stale_s=self.stale_s,
                                                           max_attempts=self.max_attempts)
        self.adopted += len(adopted)
        self.given_up += len(failed)
        for job in failed:
            log.warning("job %s gave up after %d attempts", job.id, job.attempts, extra={"job_id": job.id})
        if adopted:
            log.info("adopted %d jobs of stopped processes", len(adopted))
        return adopted

    async def run(self, on_adopted: Callable[[list[Job]], Awaitable[None]]) -> None:
        """Shared mode: heartbeat and adopt orphans forever (a task of the bot)."""
        if not self.shared:
            return
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.db.jobs.heartbeat(self.owner, self.shard_ids)
                adopted = await self.adopt()
                if adopted:
                    await on_adopted(adopted)
            except Exception:  # the database restarting: try again at the next beat
                log.warning("heartbeat or adoption failed; trying again in %.0f s", self.heartbeat_s,
                            exc_info=True)

    async def leave(self) -> None:
        """A clean stop: forget this process so its queued jobs are adopted at once, not after STALE_S."""
        if self.shared:
            try:
                await self.db.jobs.forget_process(self.owner)
            except Exception:
                log.warning("could not remove this process from the process table", exc_info=True)

    async def claim(self, job_id: int) -> Job | None:
        return await self.db.jobs.claim(job_id, owner=self.owner)

    async def first_delivery(self, job_id: int) -> bool:
        """True once per job: shared mode never posts a piece twice, even if two processes finish it."""
        if not self.shared:
            return True
        return await self.db.jobs.mark_delivered(job_id, by=self.owner)
