"""JobSharing on a real database: the shared job table's rules as the bot uses them."""

from __future__ import annotations

import pytest

from bot.config import Limits, ScaleOut
from bot.job_sharing import Duplicate, JobSharing, Refused
from storage import NewJob, open_database

SHARED = ScaleOut(database_url="postgresql://muse@db/muse")  # only the switch is read; the db is passed in


def _job(key: str | None = "interaction:1", user: int = 7) -> NewJob:
    return NewJob(requester_id=user, payload={"mode": "compose"}, guild_id=5, channel_id=6, delivery_key=key)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request, tmp_path):
    target = tmp_path / "muse.sqlite3" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    async with open_database(target) as database:
        yield database


async def test_a_retry_whose_first_commit_was_lost_keeps_the_stored_job(db) -> None:
    sharing = JobSharing(db, SHARED, Limits(cooldown_s=3.0), name="shard-0")
    first = await sharing.enqueue(_job(), background=False)  # stored; pretend its answer never came back
    again = await sharing.enqueue(_job(), background=False)
    assert again.id == first.id and len(await db.jobs.list_active()) == 1


async def test_the_same_key_from_another_process_is_a_duplicate(db) -> None:
    await JobSharing(db, SHARED, Limits(), name="shard-0").enqueue(_job(), background=False)
    with pytest.raises(Duplicate):
        await JobSharing(db, SHARED, Limits(), name="shard-1").enqueue(_job(), background=False)


async def test_limits_hold_across_processes(db) -> None:
    limits = Limits(member_active_max=1, cooldown_s=0.0)
    await JobSharing(db, SHARED, limits, name="shard-0").enqueue(_job("interaction:1"), background=False)
    with pytest.raises(Refused) as refused:
        await JobSharing(db, SHARED, limits, name="shard-1").enqueue(_job("interaction:2"), background=False)
    assert refused.value.reason == "member"


async def test_a_silent_process_s_jobs_are_adopted_and_given_up_after_the_attempts(db) -> None:
    clock = [1000.0]
    db.clock = lambda: clock[0]
    dead = JobSharing(db, SHARED, Limits(), name="dead", max_attempts=1)
    live = JobSharing(db, SHARED, Limits(), name="live", stale_s=10.0, max_attempts=1)
    await db.jobs.heartbeat("dead", "1")
    queued = await dead.enqueue(_job("interaction:1"), background=False)
    running = await dead.enqueue(_job("interaction:2", user=8), background=False)
    await dead.claim(running.id)
    await db.jobs.heartbeat("live", "0")
    assert await live.adopt() == []  # the dead one beat a moment ago
    clock[0] += 11
    await db.jobs.heartbeat("live", "0")
    assert [j.id for j in await live.adopt()] == [queued.id]
    assert live.given_up == 1 and (await db.jobs.get(running.id)).status.value == "failed"


async def test_one_delivery_per_job(db) -> None:
    sharing = JobSharing(db, SHARED, Limits(), name="shard-0")
    job = await sharing.enqueue(_job(), background=False)
    assert await sharing.first_delivery(job.id)
    assert not await JobSharing(db, SHARED, Limits(), name="shard-1").first_delivery(job.id)


async def test_retried_claims_and_marks_of_the_same_process_stand(db) -> None:
    """What a call retried after a lost COMMIT answer sees: its own claim and mark, still its own."""
    mine = JobSharing(db, SHARED, Limits(), name="shard-0")
    job = await mine.enqueue(_job(), background=False)
    assert (await mine.claim(job.id)).id == job.id
    assert (await mine.claim(job.id)).id == job.id  # the retry keeps the job it took
    assert await JobSharing(db, SHARED, Limits(), name="shard-1").claim(job.id) is None
    assert await mine.first_delivery(job.id)
    assert await mine.first_delivery(job.id)  # the retry still posts
    assert not await JobSharing(db, SHARED, Limits(), name="shard-1").first_delivery(job.id)
