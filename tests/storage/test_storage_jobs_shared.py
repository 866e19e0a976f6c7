"""Jobs shared by several bot processes: owners, delivery keys, limits checked in the database,
heartbeats, adoption of a stopped process's jobs, exactly-once delivery. Run on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import ConflictError, Database, JobStatus, NewJob, open_database

T0 = 1_800_000_000.0
LIMITS = dict(member_active_max=2, guild_active_max=3, queue_max=5, cooldown_s=10.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tdb(db_target: Path | str, clock: Clock) -> AsyncIterator[Database]:
    """A database whose clock the test moves."""
    async with open_database(db_target, clock=clock) as database:
        yield database


def job(requester_id: int = 1, guild_id: int | None = 10, **overrides: object) -> NewJob:
    return NewJob(requester_id=requester_id, guild_id=guild_id, payload={"prompt": "x"}, **overrides)  # type: ignore[arg-type]


async def _processes(db: Database) -> dict[str, tuple[str, float, float]]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT * FROM bot_processes ORDER BY name")
    return {r["name"]: (r["shard_ids"], r["started_at"], r["heartbeat_at"]) for r in rows}


async def test_owner_and_delivery_key_are_kept(db) -> None:
    made = await db.jobs.enqueue(job(delivery_key="interaction:1"), owner="bot-a")
    assert (made.owner, made.delivery_key, made.delivered_at) == ("bot-a", "interaction:1", None)
    assert await db.jobs.get(made.id) == made
    plain = await db.jobs.enqueue(job())  # the one-process default: no owner, no key
    assert (plain.owner, plain.delivery_key) == (None, None)
    await db.jobs.enqueue(job())  # many jobs without a key are fine


async def test_a_repeated_delivery_key_is_refused(db) -> None:
    await db.jobs.enqueue(job(delivery_key="interaction:7"))
    with pytest.raises(ConflictError):
        await db.jobs.enqueue(job(requester_id=2, delivery_key="interaction:7"))
    with pytest.raises(ConflictError):
        await db.jobs.enqueue_admitted(job(requester_id=3, delivery_key="interaction:7"), owner="b", **LIMITS)
    assert await db.jobs.count_active_by() == 1


async def test_admission_limits_in_the_database(tdb, clock: Clock) -> None:
    admit = tdb.jobs.enqueue_admitted
    first = await admit(job(1), owner="bot-a", **LIMITS)
    assert not isinstance(first, str) and first.owner == "bot-a" and first.status is JobStatus.QUEUED
    assert await admit(job(1), owner="bot-a", **LIMITS) == "cooldown"
    clock.now += 10
    assert not isinstance(await admit(job(1), owner="bot-a", **LIMITS), str)
    clock.now += 10
    assert await admit(job(1), owner="bot-a", **LIMITS) == "member"  # two active already
    assert not isinstance(await admit(job(2), owner="bot-b", **LIMITS), str)
    assert await admit(job(3), owner="bot-b", **LIMITS) == "guild"  # three active in guild 10
    assert not isinstance(await admit(job(3, guild_id=11), owner="bot-b", **LIMITS), str)
    assert not isinstance(await admit(job(4, guild_id=None), owner="bot-b", **LIMITS), str)  # a DM
    assert await admit(job(5, guild_id=12), owner="bot-b", **LIMITS) == "queue"  # five active in all
    assert await admit(job(1), owner="bot-a", background=True, **LIMITS) == "queue"

    await tdb.jobs.cancel(first.id)
    assert not isinstance(await admit(job(5, guild_id=12), owner="bot-b", **LIMITS), str)
    assert await tdb.jobs.count_active_by(requester_id=1) == 1
    assert await tdb.jobs.count_active_by(guild_id=10) == 2
    assert await tdb.jobs.count_active_by(requester_id=3, guild_id=11) == 1
    assert await tdb.jobs.count_active_by() == 5


async def test_background_jobs_skip_member_guild_and_cooldown(tdb) -> None:
    limits = dict(LIMITS, member_active_max=1, guild_active_max=1)
    assert not isinstance(await tdb.jobs.enqueue_admitted(job(1), owner=None, **limits), str)
    for _ in range(4):
        made = await tdb.jobs.enqueue_admitted(job(1), owner=None, background=True, **limits)
        assert not isinstance(made, str)
    assert await tdb.jobs.enqueue_admitted(job(1), owner=None, background=True, **limits) == "queue"


async def test_claims_record_the_owner(db) -> None:
    a = await db.jobs.enqueue(job(1), owner="bot-a")
    b = await db.jobs.enqueue(job(2))
    claimed = await db.jobs.claim(b.id, owner="bot-b")
    assert claimed is not None and claimed.owner == "bot-b" and claimed.status is JobStatus.RUNNING
    kept = await db.jobs.claim_next()  # no owner given: the job keeps the one it has
    assert kept is not None and kept.id == a.id and kept.owner == "bot-a"
    assert await db.jobs.claim_next(owner="bot-c") is None


async def test_requeue_running_only_takes_the_owners_jobs(db) -> None:
    mine = await db.jobs.enqueue(job(1), owner="bot-a")
    theirs = await db.jobs.enqueue(job(2), owner="bot-b")
    await db.jobs.claim(mine.id)
    await db.jobs.claim(theirs.id)
    assert [j.id for j in await db.jobs.requeue_running(owner="bot-a")] == [mine.id]
    assert (await db.jobs.get(theirs.id)).status is JobStatus.RUNNING  # type: ignore[union-attr]
    assert [j.id for j in await db.jobs.requeue_running()] == [theirs.id]  # the default: every running job


async def test_heartbeat_and_forget(tdb, clock: Clock) -> None:
    await tdb.jobs.heartbeat("bot-a", "0,1")
    clock.now += 5
    await tdb.jobs.heartbeat("bot-a", "0,1,2")
    await tdb.jobs.heartbeat("bot-b", "")
    assert await _processes(tdb) == {"bot-a": ("0,1,2", T0, T0 + 5), "bot-b": ("", T0 + 5, T0 + 5)}
    await tdb.jobs.forget_process("bot-a")
    await tdb.jobs.forget_process("never-there")
    assert list(await _processes(tdb)) == ["bot-b"]


async def test_adopt_orphans_of_stopped_processes(tdb, clock: Clock) -> None:
    await tdb.jobs.heartbeat("dead", "0")
    await tdb.jobs.heartbeat("alive", "1")
    await tdb.jobs.heartbeat("me", "2")
    dead_queued = await tdb.jobs.enqueue(job(1), owner="dead")
    dead_running = await tdb.jobs.enqueue(job(2), owner="dead")
    await tdb.jobs.claim(dead_running.id)
    alive_running = await tdb.jobs.enqueue(job(3), owner="alive")
    await tdb.jobs.claim(alive_running.id)
    mine = await tdb.jobs.enqueue(job(4), owner="me")
    nobodys = await tdb.jobs.enqueue(job(5))  # owner NULL: no process vouches for it
    finished = await tdb.jobs.enqueue(job(6), owner="dead")
    await tdb.jobs.claim(finished.id)
    await tdb.jobs.complete(finished.id)

    clock.now += 30
    await tdb.jobs.heartbeat("alive", "1")
    await tdb.jobs.heartbeat("me", "2")
    adopted, given_up = await tdb.jobs.adopt_orphans(owner="me", stale_s=10, max_attempts=3)
    assert [j.id for j in adopted] == [dead_queued.id, dead_running.id, nobodys.id]
    assert given_up == []
    assert all(j.owner == "me" and j.status is JobStatus.QUEUED and j.started_at is None for j in adopted)
    assert (await tdb.jobs.get(alive_running.id)).owner == "alive"  # type: ignore[union-attr]
    assert (await tdb.jobs.get(mine.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert (await tdb.jobs.get(finished.id)).status is JobStatus.DONE  # type: ignore[union-attr]
    assert await tdb.jobs.adopt_orphans(owner="me", stale_s=10, max_attempts=3) == ([], [])


async def test_adoption_is_bounded_by_attempts(tdb, clock: Clock) -> None:
    doomed = await tdb.jobs.enqueue(job(1), owner="gone")
    for attempt in range(3):
        await tdb.jobs.claim(doomed.id)
        if attempt < 2:
            await tdb.jobs.fail(doomed.id, "replica died", retry=True)
    queued = await tdb.jobs.enqueue(job(2), owner="gone")
    adopted, given_up = await tdb.jobs.adopt_orphans(owner="me", stale_s=10, max_attempts=3)
    assert [j.id for j in adopted] == [queued.id]
    assert [(j.id, j.status, j.attempts, j.error) for j in given_up] == [
        (doomed.id, JobStatus.FAILED, 3, "gave up after 3 attempts")
    ]
    assert given_up[0].finished_at is not None


async def test_a_clean_stop_hands_jobs_over_at_once(tdb) -> None:
    await tdb.jobs.heartbeat("leaving", "0")
    left = await tdb.jobs.enqueue(job(1), owner="leaving")
    assert await tdb.jobs.adopt_orphans(owner="me", stale_s=10, max_attempts=3) == ([], [])
    await tdb.jobs.forget_process("leaving")
    adopted, _ = await tdb.jobs.adopt_orphans(owner="me", stale_s=10, max_attempts=3)
    assert [j.id for j in adopted] == [left.id]


async def test_mark_delivered_once(tdb, clock: Clock) -> None:
    made = await tdb.jobs.enqueue(job())
    assert await tdb.jobs.mark_delivered(made.id)
    clock.now += 1
    assert not await tdb.jobs.mark_delivered(made.id)
    assert (await tdb.jobs.get(made.id)).delivered_at.timestamp() == T0  # type: ignore[union-attr]
    assert not await tdb.jobs.mark_delivered(9999)
