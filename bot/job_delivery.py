"""Handing a finished job over: history records, the messages with their files, the job marked done."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from bot.delivery import Outgoing
from bot.embeds import history_request, piece_embed
from bot.views import entry_view, result_view
from bot.worker import Finished
from storage import InvalidStateError, JobStatus, NewComposition

if TYPE_CHECKING:
    from bot.job_queue import JobQueue, Ticket

log = logging.getLogger(__name__)

ABC_INLINE_MAX_CHARS = 1900  # a message holds 2,000 characters


def abc_block(abc: str | None) -> str | None:
    """The ABC melody as a code block when it fits in a message; it is attached either way."""
    if not abc:
        return None
    block = f"```abc\n{abc}```"
    return block if len(block) <= ABC_INLINE_MAX_CHARS else "The melody in ABC notation is attached."


async def deliver(queue: "JobQueue", ticket: "Ticket", finished: list[Finished]) -> None:
    """Record and post the pieces of one job; a failure tells the member the piece is in /history."""
    try:
        job = await queue.db.jobs.get(ticket.id)
        if job is None or job.status is JobStatus.CANCELLED:
            return
        if not await queue.sharing.first_delivery(ticket.id):
            log.warning("job %s was delivered already; not posting it twice", ticket.id)
            return
        records = await queue.db.compositions.add_many([history_entry(ticket, f) for f in finished])
        messages = [Outgoing(content=abc_block(f.abc), embed=piece_embed(r, f.notes), files=f.attachments,
                             view=result_view(r.id)) for r, f in zip(records, finished)]
        if ticket.spec.jam_round_id is not None:  # a jam entry: recorded, and voted on under the piece
            entry = await queue.db.jams.submit(ticket.spec.jam_round_id, user_id=ticket.job.requester_id,
                                               composition_id=records[0].id)
            messages[0].view = entry_view(records[0].id, entry.id)
        await ticket.progress.close()
        await ticket.reply.deliver(messages)
        try:
            await queue.db.jobs.complete(ticket.id, composition_id=records[0].id)
        except InvalidStateError:
            pass  # cancelled in the last moment: the piece is out anyway
        delivered_s = time.monotonic() - ticket.accepted_at
        queue.stats.delivered += 1
        queue.stats.delivery_s.append(delivered_s)
        queue.stats.note("delivered", delivered_s)
        log.info("job %s delivered %.1f s after it was accepted", ticket.id, delivered_s)
    except Exception as exc:
        log.error("delivering job %s failed", ticket.id, exc_info=exc)
        queue.stats.failed += 1
        queue.stats.note("failed")
        try:
            await queue.db.jobs.fail(ticket.id, f"delivery failed: {exc}")
            await ticket.reply.fail("Sorry, your piece was made but could not be posted; it is in /history.")
        except Exception:
            log.exception("could not mark job %s failed or tell its requester", ticket.id)
    finally:
        queue.forget(ticket)


def history_entry(ticket: "Ticket", done: Finished) -> NewComposition:
    piece = done.piece
    return NewComposition(
        owner_id=ticket.job.requester_id, prompt=piece.request.prompt, request=history_request(piece),
        seed=piece.request.seed, engine=piece.engine.get("name", ""), checkpoint=piece.engine.get("checkpoint"),
        engine_version=piece.engine.get("version"), description=piece.description, files=done.stored,
        timings_s={k: round(v, 4) for k, v in piece.timings_s.items()}, guild_id=ticket.job.guild_id,
        channel_id=ticket.job.channel_id, parent_id=ticket.spec.parent_id)
