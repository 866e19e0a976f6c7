"""Several bot processes on one database: each is a Database here (its own pool, on PostgreSQL).

On PostgreSQL rows are picked with SKIP LOCKED, so a process never waits for, nor takes, a row
another one is changing, and limits are checked under per-member and per-guild advisory locks;
on SQLite each write transaction locks the whole file, which gives the same results more slowly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database, NewJob, open_database

LIMITS = dict(member_active_max=1, guild_active_max=1000, queue_max=1000, cooldown_s=0.0)


async def _two_processes(target: Path | str) -> AsyncIterator[tuple[Database, Database]]:
    """Two live processes, "one" and "two" (each has a fresh heartbeat)."""
    async with open_database(target) as one, open_database(target) as two:
        await one.jobs.heartbeat("one", "0")
        await two.jobs.heartbeat("two", "1")
        yield one, two


@pytest.fixture
async def pair(db_target: Path | str) -> AsyncIterator[tuple[Database, Database]]:
    async for both in _two_processes(db_target):
        yield both


@pytest.fixture
async def pg_pair(pg_migrated_url: str) -> AsyncIterator[tuple[Database, Database]]:
    async for both in _two_processes(pg_migrated_url):
        yield both


def job(requester_id: int, guild_id: int | None = 10) -> NewJob:
    return NewJob(requester_id=requester_id, guild_id=guild_id, payload={"n": requester_id})


async def _hold_rows(db: Database, sql: str, locked: asyncio.Event, release: asyncio.Event) -> None:
    """Lock rows in an open transaction until told to let go (another process mid-change)."""
    async with db.write() as conn:
        await conn.execute_fetchall(sql)
        locked.set()
        await release.wait()


async def test_claim_next_passes_over_a_row_another_process_holds(pg_pair) -> None:
    one, two = pg_pair
    first = await one.jobs.enqueue(job(1))
    second = await one.jobs.enqueue(job(2))
    locked, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(
        _hold_rows(one, f"SELECT id FROM jobs WHERE id = {first.id} FOR UPDATE", locked, release)
    )
    await locked.wait()
    claimed = await asyncio.wait_for(two.jobs.claim_next(owner="two"), 5)  # does not wait for the lock
    assert claimed is not None and claimed.id == second.id
    assert await asyncio.wait_for(two.jobs.claim(first.id, owner="two"), 5) is None
    release.set()
    await holder
    again = await one.jobs.claim_next(owner="one")
    assert again is not None and again.id == first.id


async def test_concurrent_claim_next_never_returns_the_same_job(pair) -> None:
    one, two = pair
    for i in range(60):
        await one.jobs.enqueue(job(i))
    claimed: list[tuple[str, int]] = []

    async def worker(db: Database, name: str) -> None:
        while (j := await db.jobs.claim_next(owner=name)) is not None:
            claimed.append((name, j.id))
            assert j.owner == name

    await asyncio.gather(*(worker(db, name) for db, name in [(one, "one"), (two, "two")] * 6))
    ids = [i for _, i in claimed]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 60
    if one.dialect.name == "postgresql":  # (SQLite may hand one connection every job in a row)
        assert {name for name, _ in claimed} == {"one", "two"}  # both processes got work


async def test_member_limit_of_one_admits_exactly_one_across_processes(pair) -> None:
    one, two = pair
    for member in range(5):
        results = await asyncio.gather(
            *(db.jobs.enqueue_admitted(job(100 + member), owner=f"p{i}", **LIMITS)
              for i, db in enumerate([one, two] * 5))
        )
        admitted = [r for r in results if not isinstance(r, str)]
        assert len(admitted) == 1, results
        assert sorted(r for r in results if isinstance(r, str)) == ["member"] * 9
    assert await one.jobs.count_active_by() == 5


async def test_guild_limit_holds_across_processes(pair) -> None:
    one, two = pair
    limits = dict(LIMITS, member_active_max=10, guild_active_max=3)
    results = await asyncio.gather(
        *(db.jobs.enqueue_admitted(job(200 + i, guild_id=77), owner="p", **limits)
          for i, db in enumerate([one, two] * 6))
    )
    assert len([r for r in results if not isinstance(r, str)]) == 3
    assert await two.jobs.count_active_by(guild_id=77) == 3


async def test_adopting_processes_split_the_orphans(pg_pair) -> None:
    one, two = pg_pair
    ids = [(await one.jobs.enqueue(job(i), owner="dead")).id for i in range(40)]
    locked, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(
        _hold_rows(one, f"SELECT id FROM jobs WHERE id <= {ids[19]} FOR UPDATE", locked, release)
    )
    await locked.wait()
    adopted_two, _ = await asyncio.wait_for(two.jobs.adopt_orphans(owner="two", stale_s=10, max_attempts=3), 5)
    assert [j.id for j in adopted_two] == ids[20:]  # the held rows are left to whoever holds them
    release.set()
    await holder
    adopted_one, _ = await one.jobs.adopt_orphans(owner="one", stale_s=10, max_attempts=3)
    assert [j.id for j in adopted_one] == ids[:20]


async def test_adopting_at_the_same_time_never_shares_a_job(pair) -> None:
    one, two = pair
    for round_ in range(5):
        ids = {(await one.jobs.enqueue(job(i), owner=f"dead-{round_}")).id for i in range(30)}
        (a, _), (b, _) = await asyncio.gather(
            one.jobs.adopt_orphans(owner="one", stale_s=10, max_attempts=3),
            two.jobs.adopt_orphans(owner="two", stale_s=10, max_attempts=3),
        )
        assert not {j.id for j in a} & {j.id for j in b}
        assert ids <= {j.id for j in a} | {j.id for j in b}


async def test_exactly_one_process_delivers(pair) -> None:
    one, two = pair
    made = await one.jobs.enqueue(job(1))
    results = await asyncio.gather(*(db.jobs.mark_delivered(made.id) for db in [one, two] * 4))
    assert sorted(results) == [False] * 7 + [True]
