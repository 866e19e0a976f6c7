"""The persisted job queue: atomic claims, explicit transitions, survival across restarts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage import InvalidStateError, JobStatus, NewJob, NotFoundError, open_database


def job(requester_id: int = 1, **overrides: object) -> NewJob:
    fields: dict[str, object] = dict(
        requester_id=requester_id,
        payload={"request": {"prompt": "happy birthday"}},
        guild_id=10,
        channel_id=20,
        interaction_token="tok-secret",
        token_expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    fields.update(overrides)
    return NewJob(**fields)  # type: ignore[arg-type]


async def test_lifecycle(db) -> None:
    queued = await db.jobs.enqueue(job())
    assert queued.status is JobStatus.QUEUED and queued.attempts == 0
    assert queued.token_expires_at == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert "tok-secret" not in repr(queued)  # credentials stay out of logs

    running = await db.jobs.claim_next()
    assert running is not None and running.id == queued.id
    assert running.status is JobStatus.RUNNING and running.attempts == 1 and running.started_at
    assert await db.jobs.claim_next() is None

    done = await db.jobs.complete(running.id, composition_id=None)
    assert done.status is JobStatus.DONE and done.finished_at and done.status.is_final
    with pytest.raises(InvalidStateError):
        await db.jobs.complete(running.id)
    with pytest.raises(NotFoundError):
        await db.jobs.fail(9999, "x")


async def test_claims_are_fifo_and_specific(db) -> None:
    first, second, third = [await db.jobs.enqueue(job(requester_id=i)) for i in (1, 2, 3)]
    assert (await db.jobs.claim(third.id)).id == third.id  # type: ignore[union-attr]
    assert await db.jobs.claim(third.id) is None
    assert (await db.jobs.claim_next()).id == first.id  # type: ignore[union-attr]
    assert (await db.jobs.claim_next()).id == second.id  # type: ignore[union-attr]


async def test_cancel_beats_a_late_completion(db) -> None:
    j = await db.jobs.enqueue(job(requester_id=1))
    await db.jobs.claim_next()
    assert not await db.jobs.cancel(j.id, requester_id=2)  # only the requester
    assert await db.jobs.cancel(j.id, requester_id=1)
    with pytest.raises(InvalidStateError, match="cancelled"):
        await db.jobs.complete(j.id)
    assert not await db.jobs.cancel(j.id)


async def test_retry_then_fail(db) -> None:
    j = await db.jobs.enqueue(job())
    await db.jobs.claim_next()
    retried = await db.jobs.fail(j.id, "renderer crashed", retry=True)
    assert retried.status is JobStatus.QUEUED and retried.error == "renderer crashed"
    again = await db.jobs.claim_next()
    assert again is not None and again.attempts == 2
    failed = await db.jobs.fail(j.id, "renderer crashed twice")
    assert failed.status is JobStatus.FAILED and failed.error == "renderer crashed twice"


async def test_running_jobs_are_requeued_after_restart(db_target: Path | str) -> None:
    async with open_database(db_target) as db:
        a = await db.jobs.enqueue(job(requester_id=1))
        b = await db.jobs.enqueue(job(requester_id=2))
        c = await db.jobs.enqueue(job(requester_id=3))
        await db.jobs.claim(a.id)
        await db.jobs.claim(c.id)
        # the process dies here, without finishing a or c
    async with open_database(db_target) as db:
        requeued = await db.jobs.requeue_running()
        assert [j.id for j in requeued] == [a.id, c.id]
        assert [j.id for j in await db.jobs.list_active()] == [a.id, b.id, c.id]
        assert all(j.status is JobStatus.QUEUED for j in await db.jobs.list_active())
        again = await db.jobs.claim_next()
        assert again is not None and again.id == a.id and again.attempts == 2
        assert again.interaction_token == "tok-secret" and again.channel_id == 20


async def test_each_job_claimed_once_across_two_connections(db_target: Path | str) -> None:
    """Two processes' worth of workers racing for 40 jobs: each job runs exactly once."""
    async with open_database(db_target) as one, open_database(db_target) as two:
        for i in range(40):
            await one.jobs.enqueue(job(requester_id=i % 4))
        claimed: list[int] = []

        async def worker(db) -> None:  # type: ignore[no-untyped-def]
            while (j := await db.jobs.claim_next()) is not None:
                claimed.append(j.id)
                await db.jobs.complete(j.id)

        await asyncio.gather(*(worker(one if i % 2 else two) for i in range(8)))
        assert sorted(claimed) == list(range(1, 41))
        assert await one.jobs.list_active() == []


async def test_counts_and_purge(db) -> None:
    j1 = await db.jobs.enqueue(job(requester_id=5))
    await db.jobs.enqueue(job(requester_id=5))
    await db.jobs.enqueue(job(requester_id=6))
    assert await db.jobs.count_active(5) == 2
    assert [j.requester_id for j in await db.jobs.list_active(requester_id=6)] == [6]
    await db.jobs.claim(j1.id)
    await db.jobs.complete(j1.id)
    assert await db.jobs.count_active(5) == 1
    future = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert await db.jobs.purge_finished(finished_before=future) == 1
    assert await db.jobs.get(j1.id) is None
