"""Running jobs: take a fair batch, compose it in one model pass, finish its pieces side by side.

A batch takes at most one job per member (so each member has one running at a time), oldest
first, up to `batch_max` pieces. After the batch's model pass each job is finished by a task of its
own: its pieces are rendered and encoded on the worker's render threads, `render_threads` pieces
at a time in the order they were composed, so the pieces of a batch are finished concurrently. A
job keeps its member's running slot until all its pieces are finished. Cancel stops a job before
each piece that has not started rendering; the model pass and every piece have the job timeout;
one bad piece fails only its job. The next model pass starts while the render threads are still
busy with the last batch, once no more of its pieces wait for a thread than there are threads,
so composing overlaps finishing and at most that many composed pieces wait. Deliveries run as
their own tasks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Callable

import discord

from bot.job_delivery import deliver
from bot.tasks import spawn
from bot.worker import Finished
from composer import Draft, MuseError
from composer.log_json import bind_job
from storage import InvalidStateError

if TYPE_CHECKING:
    from bot.job_queue import JobQueue, Ticket

log = logging.getLogger(__name__)

FAILED_LINE = "Sorry, something went wrong composing this piece; it has been logged."
TIMEOUT_LINE = "Sorry, that piece took too long to make; try a shorter one."


class JobRunner:
    def __init__(self, queue: "JobQueue"):
        self.queue = queue
        self._threads = queue.worker.render_threads
        self._render_slots = asyncio.Semaphore(self._threads)  # one per render thread, taken in order
        self._waiting_pieces = 0  # composed (or about to be) and not yet rendering
        self._room = asyncio.Event()  # few enough pieces wait for a render thread to compose more
        self._room.set()
        self._finishing: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Compose forever: take a fair batch, compose it in one pass, hand its jobs to be finished."""
        queue = self.queue
        try:
            while True:
                await self._room.wait()
                batch = self._take_batch() if queue.waiting else []
                if not batch:  # nothing waiting, or everyone waiting already has a job running
                    queue.wake.clear()
                    await queue.wake.wait()
                    continue
                try:
                    await self._process(batch)
                except Exception as exc:  # the runner must outlive one bad batch (e.g. storage busy)
                    log.error("a batch failed", exc_info=exc, extra={"job_ids": [t.id for t in batch]})
                    for ticket in batch:
                        if ticket.state in ("queued", "running"):
                            await self.fail(ticket, exc)
        finally:  # stopping: jobs not finished stay running in storage and run again after a restart
            for task in list(self._finishing):
                task.cancel()

    def _take_batch(self) -> list["Ticket"]:
        queue = self.queue
        batch: list[Ticket] = []
        members = {t.job.requester_id for t in queue.running.values()}
        pieces = 0
        for ticket in list(queue.waiting):
            if ticket.job.requester_id in members and not ticket.background:
                continue  # one job per member at a time; Muse's own background work batches freely
            if batch and pieces + ticket.pieces > queue.limits.batch_max:
                break
            batch.append(ticket)
            members.add(ticket.job.requester_id)
            pieces += ticket.pieces
        for ticket in batch:
            queue.waiting.remove(ticket)
        return batch

    async def _process(self, batch: list["Ticket"]) -> None:
        """Claim and compose a batch, then start finishing each of its jobs (without waiting for them)."""
        claimed = await self._claim(batch)
        drafts = await self._compose(claimed)
        for ticket in claimed:
            if ticket.state != "running":  # failed with the model pass
                continue
            if ticket.cancelled:
                self._stop(ticket)
                continue
            self._count_waiting(ticket.pieces)
            task = spawn(self._finish_job(ticket, drafts.get(ticket.id)), name=f"finish-job-{ticket.id}")
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    def _count_waiting(self, pieces: int) -> None:
        self._waiting_pieces += pieces
        if self._waiting_pieces > self._threads:
            self._room.clear()
        else:
            self._room.set()

    async def _claim(self, batch: list["Ticket"]) -> list["Ticket"]:
        claimed = []
        for ticket in batch:
            if await self.queue.sharing.claim(ticket.id) is None:  # cancelled (or taken) while it waited
                self.queue.forget(ticket)
                continue
            ticket.state = "running"
            self.queue.running[ticket.id] = ticket
            ticket.progress.update("Composing…")
            claimed.append(ticket)
        self.queue.announce_positions()
        return claimed

    async def _compose(self, claimed: list["Ticket"]) -> dict[int, list[Draft]]:
        """Every piece of the batch's compose and variation jobs, in one pass of the model."""
        plain = [t for t in claimed if t.spec.mode != "remix"]
        if not plain:
            return {}
        requests = [r for t in plain for r in t.spec.request.variation_requests()]
        try:
            job_ids = [t.id for t in plain for _ in range(t.pieces)]
            drafts, _ = await asyncio.wait_for(self.queue.worker.compose(requests, job_ids),
                                               self.queue.limits.job_timeout_s)
        except Exception as exc:
            for ticket in plain:
                await self.fail(ticket, exc)
            return {}
        self.queue.stats.batches.append(len(requests))
        self.queue.stats.note("batch", len(requests))
        log.debug("composed %d pieces in one pass", len(requests), extra={"job_ids": [t.id for t in plain]})
        out = {}
        for ticket in plain:
            out[ticket.id], drafts = drafts[: ticket.pieces], drafts[ticket.pieces:]
        return out

    async def _finish_job(self, ticket: "Ticket", drafts: list[Draft] | None) -> None:
        """Finish one job's pieces on the render threads and hand them to delivery, or fail the job."""
        bind_job(ticket.id)  # this task's log records (and its delivery task's) carry the job id
        unstarted = ticket.pieces  # counted as waiting by _process until each starts rendering

        def started() -> None:
            nonlocal unstarted
            unstarted -= 1
            self._count_waiting(-1)

        try:
            finished = await self._finish(ticket, drafts, started)
        except Exception as exc:
            await self.fail(ticket, exc)
            return
        finally:
            self._count_waiting(-unstarted)  # pieces that never started (cancelled, failed remix)
        if ticket.cancelled:
            self._stop(ticket)
            return
        worker_s = sum(f.piece.timings_s.get("total", 0.0) + f.piece.timings_s.get("store", 0.0) for f in finished)
        self.queue.job_s = 0.8 * self.queue.job_s + 0.2 * worker_s
        ticket.state = "delivering"
        del self.queue.running[ticket.id]
        self.queue.wake.set()
        spawn(deliver(self.queue, ticket, finished), name=f"deliver-job-{ticket.id}")

    async def _finish(self, ticket: "Ticket", drafts: list[Draft] | None,
                      started: Callable[[], None]) -> list[Finished]:
        worker, timeout_s = self.queue.worker, self.queue.limits.job_timeout_s
        if ticket.spec.mode == "remix":
            spec = ticket.spec
            parent = await self.queue.db.compositions.get(spec.parent_id) if spec.parent_id is not None else None
            drafts = [await asyncio.wait_for(worker.remix(spec.request, parent, spec.parent_request), timeout_s)]
        assert drafts is not None
        ticket.progress.update("Rendering…")
        # every piece runs to its end before the job fails, so none is still counted as waiting
        results = await asyncio.gather(*(self._finish_piece(ticket, d, started) for d in drafts),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [f for f in results if f is not None]

    async def _finish_piece(self, ticket: "Ticket", draft: Draft, started: Callable[[], None]) -> Finished | None:
        """One piece on a render thread once one is free; None when the job was cancelled before."""
        async with self._render_slots:
            started()
            if ticket.cancelled:
                return None
            finish = self.queue.worker.finish(draft, ticket.spec.reply.filesize_limit)
            return await asyncio.wait_for(finish, self.queue.limits.job_timeout_s)

    async def fail(self, ticket: "Ticket", exc: BaseException) -> None:
        if isinstance(exc, MuseError):
            line = f"Sorry: {exc}"
        elif isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            line = TIMEOUT_LINE
        else:
            log.error("job %s failed", ticket.id, exc_info=exc, extra={"job_id": ticket.id})
            line = FAILED_LINE
        queue = self.queue
        queue.running.pop(ticket.id, None)
        ticket.state = "failed"
        queue.stats.failed += 1
        queue.stats.note("failed")
        try:
            await queue.db.jobs.fail(ticket.id, str(exc) or type(exc).__name__)
        except InvalidStateError:
            pass  # cancelled meanwhile
        except Exception:
            log.exception("could not mark job %s failed", ticket.id)
        await ticket.progress.close()
        try:
            await ticket.reply.fail(line)
        except discord.HTTPException as http_exc:
            log.warning("could not tell the requester of job %s: %s", ticket.id, http_exc)
        queue.forget(ticket)

    def _stop(self, ticket: "Ticket") -> None:
        """A running job was cancelled: free its slot and let the next one in."""
        log.info("job %s cancelled while running; stopped before rendering more", ticket.id)
        self.queue.forget(ticket)
