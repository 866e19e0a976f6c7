"""The job queue: fair admission, persisted jobs, one composer worker that batches, delivery.

Jobs live in storage from the moment they are accepted, so a restart composes and delivers
whatever was queued or running. In memory the queue keeps the order and fairness: a batch
takes at most one job per member (so each member has one running at a time), oldest first,
up to `batch_max` pieces. Deliveries run as their own tasks while the worker moves on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import discord

from bot.admission import Admission
from bot.config import Limits
from bot.delivery import Outgoing, Reply
from bot.embeds import history_request, piece_embed
from bot.jobspec import JobSpec
from bot.progress import Progress
from bot.tasks import spawn
from bot.views import progress_view, result_view
from bot.worker import ComposerWorker, Finished
from composer.errors import MuseError
from composer.pipeline import Composition as Piece
from composer.request import SEED_RANGE
from storage import Database, InvalidStateError, Job, JobStatus, NewComposition, NewJob

log = logging.getLogger(__name__)

FAILED_LINE = "Sorry, something went wrong composing this piece; it has been logged."
TIMEOUT_LINE = "Sorry, that piece took too long to make; try a shorter one."
ABC_INLINE_MAX_CHARS = 1900  # a message holds 2,000 characters


def abc_block(abc: str | None) -> str | None:
    """The ABC melody as a code block when it fits in a message; it is attached either way."""
    if not abc:
        return None
    block = f"```abc\n{abc}```"
    return block if len(block) <= ABC_INLINE_MAX_CHARS else "The melody in ABC notation is attached."


@dataclass(eq=False)
class Ticket:
    """One accepted job as the running process tracks it."""

    job: Job
    spec: JobSpec
    reply: Reply
    progress: Progress
    state: str = "queued"  # queued | running | delivering | done
    accepted_at: float = field(default_factory=time.monotonic)
    cancelled: bool = False  # set by Cancel: a running job renders nothing more

    @property
    def id(self) -> int:
        return self.job.id

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


class JobQueue:
    def __init__(self, db: Database, worker: ComposerWorker, limits: Limits):
        self.db = db
        self.worker = worker
        self.limits = limits
        self.admission = Admission(limits)
        self.stats = QueueStats()
        self.client: discord.Client | None = None
        self._waiting: list[Ticket] = []
        self._running: dict[int, Ticket] = {}
        self._tickets: dict[int, Ticket] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._job_s = 1.0  # moving average of one job's worker time, for "try again in N s"

    # -- admission -----------------------------------------------------------------------
    def reserve(self, member_id: int, guild_id: int | None) -> str | None:
        """Take a slot for a member now (before any await), or return the polite refusal."""
        busy = len(self._waiting) + len(self._running)
        line = self.admission.refusal(member_id, guild_id, busy * self._job_s / max(1, self.limits.batch_max) + self._job_s)
        if line is None:
            self.admission.take(member_id, guild_id)
            self._idle.clear()
        return line

    def unreserve(self, member_id: int, guild_id: int | None) -> None:
        self.admission.release(member_id, guild_id)
        self._check_idle()

    async def submit(self, spec: JobSpec, *, requester_id: int, guild_id: int | None, channel_id: int | None,
                     token: str | None = None, token_expires_at: datetime | None = None) -> Ticket:
        """Persist a reserved job and queue it; its reply shows the position from now on."""
        try:
            job = await self.db.jobs.enqueue(NewJob(
                requester_id=requester_id, payload=spec.to_payload(), guild_id=guild_id, channel_id=channel_id,
                interaction_token=token, token_expires_at=token_expires_at))
        except BaseException:
            self.unreserve(requester_id, guild_id)
            raise
        ticket = self._track(job, spec)
        self.stats.accepted += 1
        return ticket

    def _track(self, job: Job, spec: JobSpec) -> Ticket:
        assert self.client is not None, "attach the queue to a client first"
        reply = Reply(self.client, spec.reply, job.requester_id, job.interaction_token, job.token_expires_at)
        view = progress_view(job.id)
        progress = Progress(lambda text: reply.progress(text, view), self.limits.progress_interval_s)
        ticket = Ticket(job, spec, reply, progress)
        self._tickets[job.id] = ticket
        self._waiting.append(ticket)
        self._announce_positions()
        self._wake.set()
        return ticket

    def position(self, job_id: int) -> int | None:
        return next((i + 1 for i, t in enumerate(self._waiting) if t.id == job_id), None)

    def _announce_positions(self) -> None:
        for i, ticket in enumerate(self._waiting):
            ahead = i + len(self._running)
            ticket.progress.update(f"Queued: position {i + 1} ({ahead} ahead of you). I'll post the piece here."
                                   if ahead else "Starting…")

    # -- restart ---------------------------------------------------------------------------
    async def restore(self) -> int:
        """Queue again whatever a previous process accepted but did not finish."""
        await self.db.jobs.requeue_running()
        restored = 0
        for job in await self.db.jobs.list_active():
            try:
                spec = JobSpec.from_payload(job.payload)
            except (MuseError, KeyError, TypeError, ValueError) as exc:
                log.warning("job %s cannot be restored: %s", job.id, exc)
                await self.db.jobs.claim(job.id)
                await self.db.jobs.fail(job.id, f"unreadable payload: {exc}")
                continue
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
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._forget(ticket)
                self._announce_positions()
            # a running ticket stops before its next render (the one under way, if any, finishes)
        self.stats.cancelled += 1
        return True

    # -- the worker ------------------------------------------------------------------------
    async def run(self) -> None:
        """Compose forever: take a fair batch, compose it in one pass, finish and deliver each job."""
        while True:
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take_batch()
            if batch:
                try:
                    await self._process(batch)
                except Exception as exc:  # the worker must outlive one bad batch (e.g. storage busy)
                    log.error("a batch failed", exc_info=exc)
                    for ticket in batch:
                        if ticket.state in ("queued", "running"):
                            await self._fail(ticket, exc)
            else:  # everyone waiting already has a job running; wait for one to finish
                self._wake.clear()
                await self._wake.wait()

    def _take_batch(self) -> list[Ticket]:
        batch: list[Ticket] = []
        members = {t.job.requester_id for t in self._running.values()}
        pieces = 0
        for ticket in list(self._waiting):
            if ticket.job.requester_id in members:
                continue
            if batch and pieces + ticket.pieces > self.limits.batch_max:
                break
            batch.append(ticket)
            members.add(ticket.job.requester_id)
            pieces += ticket.pieces
        for ticket in batch:
            self._waiting.remove(ticket)
        return batch

    async def _process(self, batch: list[Ticket]) -> None:
        claimed: list[Ticket] = []
        for ticket in batch:
            if await self.db.jobs.claim(ticket.id) is None:  # cancelled while it waited
                self._forget(ticket)
                continue
            ticket.state = "running"
            self._running[ticket.id] = ticket
            ticket.progress.update("Composing…")
            claimed.append(ticket)
        self._announce_positions()
        composed: dict[int, tuple[list[Piece], float]] = {}
        plain = [t for t in claimed if t.spec.mode != "remix"]
        if plain:
            requests = [replace(t.spec.request, seed=(t.spec.request.seed + i) % SEED_RANGE[1], variations=1)
                        for t in plain for i in range(t.pieces)]
            try:
                pieces, compose_s = await asyncio.wait_for(self.worker.compose(requests), self.limits.job_timeout_s)
                self.stats.batches.append(len(requests))
                for ticket in plain:
                    composed[ticket.id] = (pieces[: ticket.pieces], compose_s / len(requests) * ticket.pieces)
                    pieces = pieces[ticket.pieces:]
            except Exception as exc:
                for ticket in plain:
                    await self._fail(ticket, exc)
        for ticket in claimed:
            if ticket.state != "running":
                continue
            if ticket.cancelled:
                self._stop(ticket)
                continue
            started = time.monotonic()
            try:
                if ticket.spec.mode == "remix":
                    parent = (await self.db.compositions.get(ticket.spec.parent_id)
                              if ticket.spec.parent_id is not None else None)  # its stored score keeps the notes
                    piece, compose_s = await asyncio.wait_for(
                        self.worker.remix(ticket.spec.request, ticket.spec.changes, parent), self.limits.job_timeout_s)
                    composed[ticket.id] = ([piece], compose_s)
                pieces, compose_s = composed[ticket.id]
                ticket.progress.update("Rendering…")
                finished = []
                for i, piece in enumerate(pieces):
                    if ticket.cancelled:
                        break
                    done = await asyncio.wait_for(
                        self.worker.finish(piece, f"job-{ticket.id}-{i}", ticket.spec.reply.filesize_limit),
                        self.limits.job_timeout_s)
                    done.timings_s["compose"] = compose_s / len(pieces)
                    finished.append(done)
            except Exception as exc:
                await self._fail(ticket, exc)
                continue
            if ticket.cancelled:
                self._stop(ticket)
                continue
            self._job_s = 0.8 * self._job_s + 0.2 * (time.monotonic() - started + compose_s)
            ticket.state = "delivering"
            del self._running[ticket.id]
            self._wake.set()
            spawn(self._deliver(ticket, finished), name=f"deliver-job-{ticket.id}")

    async def _deliver(self, ticket: Ticket, finished: list[Finished]) -> None:
        try:
            job = await self.db.jobs.get(ticket.id)
            if job is None or job.status is JobStatus.CANCELLED:
                return
            records = await self.db.compositions.add_many([self._history_entry(ticket, f) for f in finished])
            messages = [Outgoing(content=abc_block(f.abc), embed=piece_embed(r, f.notes), files=f.attachments,
                                 view=result_view(r.id)) for r, f in zip(records, finished)]
            await ticket.progress.close()
            await ticket.reply.deliver(messages)
            try:
                await self.db.jobs.complete(ticket.id, composition_id=records[0].id)
            except InvalidStateError:
                pass  # cancelled in the last moment: the piece is out anyway
            self.stats.delivered += 1
            self.stats.delivery_s.append(time.monotonic() - ticket.accepted_at)
        except Exception as exc:
            log.error("delivering job %s failed", ticket.id, exc_info=exc)
            self.stats.failed += 1
            try:
                await self.db.jobs.fail(ticket.id, f"delivery failed: {exc}")
                await ticket.reply.fail("Sorry, your piece was made but could not be posted; it is in /history.")
            except Exception:
                log.exception("could not mark job %s failed or tell its requester", ticket.id)
        finally:
            self._forget(ticket)

    def _history_entry(self, ticket: Ticket, done: Finished) -> NewComposition:
        piece = done.composition
        return NewComposition(
            owner_id=ticket.job.requester_id, prompt=piece.request.prompt, request=history_request(piece),
            seed=piece.request.seed, engine=piece.engine.get("name", ""), checkpoint=piece.engine.get("checkpoint"),
            engine_version=piece.engine.get("version"), description=piece.description, files=done.stored,
            timings_s={k: round(v, 4) for k, v in done.timings_s.items()}, guild_id=ticket.job.guild_id,
            channel_id=ticket.job.channel_id, parent_id=ticket.spec.parent_id)

    async def _fail(self, ticket: Ticket, exc: BaseException) -> None:
        if isinstance(exc, MuseError):
            line = f"Sorry: {exc}"
        elif isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            line = TIMEOUT_LINE
        else:
            log.error("job %s failed", ticket.id, exc_info=exc)
            line = FAILED_LINE
        self._running.pop(ticket.id, None)
        ticket.state = "failed"
        self.stats.failed += 1
        try:
            await self.db.jobs.fail(ticket.id, str(exc) or type(exc).__name__)
        except InvalidStateError:
            pass  # cancelled meanwhile
        except Exception:
            log.exception("could not mark job %s failed", ticket.id)
        await ticket.progress.close()
        try:
            await ticket.reply.fail(line)
        except discord.HTTPException as http_exc:
            log.warning("could not tell the requester of job %s: %s", ticket.id, http_exc)
        self._forget(ticket)
        self._wake.set()

    def _stop(self, ticket: Ticket) -> None:
        """A running job was cancelled: free its slot and let the next one in."""
        log.info("job %s cancelled while running; stopped before rendering more", ticket.id)
        ticket.state = "done"
        self._forget(ticket)
        self._wake.set()

    def _forget(self, ticket: Ticket) -> None:
        if self._tickets.pop(ticket.id, None) is not None:
            self.admission.release(ticket.job.requester_id, ticket.job.guild_id)
        self._running.pop(ticket.id, None)
        ticket.state = "done"
        self._wake.set()
        self._check_idle()

    def _check_idle(self) -> None:
        if self.admission.active == 0 and not self._tickets:
            self._idle.set()

    async def wait_idle(self, timeout_s: float | None = None) -> None:
        """Until nothing is queued, running or being delivered (tests and benchmarks drain with it)."""
        await asyncio.wait_for(self._idle.wait(), timeout_s)

    def describe(self) -> dict[str, Any]:
        return {"waiting": len(self._waiting), "running": len(self._running), "active": self.admission.active}
