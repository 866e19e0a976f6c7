"""The job queue: fair admission, persisted jobs, tickets in order, cancellation and restart.

Jobs live in storage from the moment they are accepted, so a restart composes and delivers
whatever was queued or running. In memory the queue keeps the order and fairness; the runner
(`bot.job_runner`) takes batches from it and `bot.job_delivery` posts and records the pieces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import discord

from bot.admission import Admission, refusal_line
from bot.config import Limits, ScaleOut
from bot.delivery import Reply
from bot.errors import BotError
from bot.job_runner import JobRunner
from bot.job_sharing import Duplicate, JobSharing, Refused
from bot.jobspec import JobSpec
from bot.progress import Progress
from bot.tasks import spawn
from bot.views import progress_view
from bot.worker import ComposerWorker
from composer import MuseError
from storage import Database, Job, NewJob

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Ticket:
    """One accepted job as the running process tracks it."""

    job: Job
    spec: JobSpec
    reply: Reply
    progress: Progress
    state: str = "queued"  # queued | running | delivering | done | failed
    accepted_at: float = field(default_factory=time.monotonic)
    cancelled: bool = False  # set by Cancel: a running job renders nothing more

    @property
    def id(self) -> int:
        return self.job.id

    @property
    def background(self) -> bool:
        """Muse's own work (a jam's example): outside members' limits, silent until it is delivered."""
        return self.spec.priority > 0

    @property
    def pieces(self) -> int:
        return self.spec.request.variations if self.spec.mode != "remix" else 1


@dataclass
class QueueStats:
    accepted: int = 0
    delivered: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: list[int] = field(default_factory=list)  # pieces per compose batch
    delivery_s: list[float] = field(default_factory=list)  # accepted → delivered, per job
    observers: list[Callable[[str, float], None]] = field(default_factory=list)  # e.g. bot.metrics

    def note(self, event: str, value: float = 1.0) -> None:
        """Tell observers (Prometheus, when the health port is set) of batch, deferred, delivered,
        failed, cancelled or refused; with none attached this does nothing."""
        for observer in self.observers:
            observer(event, value)


class QueueRefusal(BotError):
    """The shared database refused a job this process had room for (another process took the slot)."""


class JobQueue:
    def __init__(self, db: Database, worker: ComposerWorker, limits: Limits, scale: ScaleOut = ScaleOut()):
        self.db = db
        self.worker = worker
        self.limits = limits
        self.admission = Admission(limits)
        self.sharing = JobSharing(db, scale, limits)
        self.stats = QueueStats()
        self.client: discord.Client | None = None
        self.waiting: list[Ticket] = []
        self.running: dict[int, Ticket] = {}
        self._tickets: dict[int, Ticket] = {}
        self.wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.job_s = 1.0  # moving average of one job's worker time, for "try again in N s"
        self.runner = JobRunner(self)

    # -- admission -----------------------------------------------------------------------
    def reserve(self, member_id: int, guild_id: int | None) -> str | None:
        """Take a slot for a member now (before any await), or return the polite refusal."""
        busy = sum(not t.background for t in (*self.waiting, *self.running.values()))  # members go first
        line = self.admission.refusal(member_id, guild_id, busy * self.job_s / max(1, self.limits.batch_max) + self.job_s)
        if line is None:
            self.admission.take(member_id, guild_id)
            self._idle.clear()
        else:
            self.stats.note("refused")
        return line

    def unreserve(self, member_id: int, guild_id: int | None) -> None:
        self.admission.release(member_id, guild_id)
        self._check_idle()

    async def submit(self, spec: JobSpec, *, requester_id: int, guild_id: int | None, channel_id: int | None,
                     token: str | None = None, token_expires_at: datetime | None = None,
                     key: str | None = None) -> Ticket | None:
        """Persist a reserved job and queue it; its reply shows the position from now on.

        `key` names what asked (an interaction, a message, a jam round): the same key is accepted
        once across all processes, and a repeat returns None. In the scale-out mode the database
        checks the limits again across processes and may refuse (`QueueRefusal`)."""
        new = NewJob(requester_id=requester_id, payload=spec.to_payload(), guild_id=guild_id,
                     channel_id=channel_id, interaction_token=token, token_expires_at=token_expires_at,
                     delivery_key=key)
        try:
            job = await self.sharing.enqueue(new, background=spec.priority > 0)
        except BaseException as exc:
            if not spec.priority:
                self.unreserve(requester_id, guild_id)
            if isinstance(exc, Duplicate):
                log.info("%s was accepted already; not queued again", key)
                return None
            if isinstance(exc, Refused):
                self.stats.note("refused")  # the shared database refused what this process admitted
                raise QueueRefusal(refusal_line(exc.reason, self.limits, self.job_s)) from None
            raise
        if job.id in self._tickets:  # the same job stored twice over (a repeated key): already queued
            if not spec.priority:
                self.unreserve(requester_id, guild_id)
            return None
        ticket = self._track(job, spec)
        self.stats.accepted += 1
        return ticket

    async def submit_background(self, spec: JobSpec, *, requester_id: int, guild_id: int | None,
                                channel_id: int | None, key: str | None = None) -> Ticket | None:
        """Queue work Muse asks for itself (a jam's example piece): it takes no member's or server's
        slot, waits behind members' jobs and edits nothing until its piece is delivered."""
        assert spec.priority > 0, "background work has a lower priority than members' requests"
        self._idle.clear()
        return await self.submit(spec, requester_id=requester_id, guild_id=guild_id, channel_id=channel_id, key=key)

    def _track(self, job: Job, spec: JobSpec) -> Ticket:
        assert self.client is not None, "attach the queue to a client first"
        reply = Reply(self.client, spec.reply, job.requester_id, job.interaction_token, job.token_expires_at)
        view = progress_view(job.id)
        edit = _silent if spec.priority > 0 else (lambda text: reply.progress(text, view))
        progress = Progress(edit, self.limits.progress_interval_s)
        ticket = Ticket(job, spec, reply, progress)
        self._tickets[job.id] = ticket
        # members first: background work waits behind every member's job, in order within its kind
        index = next((i for i, t in enumerate(self.waiting) if t.spec.priority > spec.priority), len(self.waiting))
        self.waiting.insert(index, ticket)
        self.announce_positions()
        self.wake.set()
        return ticket

    def position(self, job_id: int) -> int | None:
        return next((i + 1 for i, t in enumerate(self.waiting) if t.id == job_id), None)

    def announce_positions(self) -> None:
        for i, ticket in enumerate(t for t in self.waiting if not t.background):
            ahead = i + len(self.running)
            ticket.progress.update(f"Queued: position {i + 1} ({ahead} ahead of you). I'll post the piece here."
                                   if ahead else "Starting…")

    # -- restart ---------------------------------------------------------------------------
    async def restore(self) -> int:
        """Queue again whatever a previous process accepted but did not finish (scale-out: this
        process's own jobs and those of processes that stopped)."""
        return await self.adopt(await self.sharing.recover())

    async def adopt(self, jobs: list[Job]) -> int:
        """Track jobs taken from storage: after a restart, or adopted from a stopped process."""
        restored = 0
        for job in jobs:
            if job.id in self._tickets:
                continue
            try:
                spec = JobSpec.from_payload(job.payload)
            except (MuseError, KeyError, TypeError, ValueError) as exc:
                log.warning("job %s cannot be restored: %s", job.id, exc)
                await self.db.jobs.claim(job.id)
                await self.db.jobs.fail(job.id, f"unreadable payload: {exc}")
                continue
            if not spec.priority:
                self.admission.take(job.requester_id, job.guild_id, cooldown=False)
            self._idle.clear()
            self._track(job, spec)
            restored += 1
        if restored:
            log.info("restored %d unfinished jobs", restored)
        return restored

    # -- cancellation ----------------------------------------------------------------------
    async def cancel(self, job_id: int, requester_id: int) -> bool:
        """Cancel a queued or running job of this member; False when there is none."""
        if not await self.db.jobs.cancel(job_id, requester_id=requester_id):
            return False
        ticket = self._tickets.get(job_id)
        if ticket is not None:
            ticket.cancelled = True
            await ticket.progress.close()
            if ticket in self.waiting:
                self.waiting.remove(ticket)
                self.forget(ticket)
                self.announce_positions()
            # a running ticket renders none of its pieces that have not started (those under way finish)
        self.stats.cancelled += 1
        self.stats.note("cancelled")
        return True

    # -- the worker loop and bookkeeping ---------------------------------------------------
    async def run(self) -> None:
        """Compose forever (see `JobRunner.run`); in the scale-out mode also beat the heartbeat and
        adopt the jobs of processes that stopped."""
        beat = spawn(self.sharing.run(self.adopt), name="job-sharing") if self.sharing.shared else None
        try:
            await self.runner.run()
        finally:
            if beat is not None:
                beat.cancel()

    def forget(self, ticket: Ticket) -> None:
        """The job is over (delivered, failed or cancelled): free its slot and let the next one in."""
        if self._tickets.pop(ticket.id, None) is not None and not ticket.background:
            self.admission.release(ticket.job.requester_id, ticket.job.guild_id)
        self.running.pop(ticket.id, None)
        ticket.state = "done"
        self.wake.set()
        self._check_idle()

    def _check_idle(self) -> None:
        if self.admission.active == 0 and not self._tickets:
            self._idle.set()

    async def wait_idle(self, timeout_s: float | None = None) -> None:
        """Until nothing is queued, running or being delivered (tests and benchmarks drain with it)."""
        await asyncio.wait_for(self._idle.wait(), timeout_s)

    def describe(self) -> dict[str, Any]:
        return {"waiting": len(self.waiting), "running": len(self.running), "active": self.admission.active}


async def _silent(text: str) -> None:
    """Background work shows no queue position or progress: only its finished piece."""
