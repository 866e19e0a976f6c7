"""Many tasks writing and reading at once: no 'database is locked', no lost writes."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from storage import NewJob, open_database

TASKS = 50
WRITES_PER_TASK = 10


async def _hammer(dbs, make_piece) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    pieces: list[int] = []
    jobs: list[int] = []
    rng = random.Random(7)

    async def task(n: int) -> None:
        db = dbs[n % len(dbs)]
        owner = n % 5
        for k in range(WRITES_PER_TASK):
            if k % 2:
                jobs.append((await db.jobs.enqueue(NewJob(requester_id=owner, payload={"n": n, "k": k}))).id)
            else:
                pieces.append((await db.compositions.add(make_piece(owner_id=owner, prompt=f"{n}/{k}"))).id)
            page = await db.compositions.history_for_user(owner, limit=20)
            assert all(c.owner_id == owner for c in page.items)
            await db.jobs.count_active(owner)
            if rng.random() < 0.3:
                await asyncio.sleep(0)

    await asyncio.gather(*(task(n) for n in range(TASKS)))
    return pieces, jobs


async def _check(db, pieces: list[int], jobs: list[int]) -> None:  # type: ignore[no-untyped-def]
    assert len(pieces) + len(jobs) == TASKS * WRITES_PER_TASK == 500
    assert len(set(pieces)) == len(pieces) and len(set(jobs)) == len(jobs)
    total = sum([await db.compositions.count_for_user(owner) for owner in range(5)])
    assert total == len(pieces)
    for piece_id in pieces:
        assert await db.compositions.get(piece_id) is not None
    active = {j.id for j in await db.jobs.list_active()}
    assert active == set(jobs)
    assert await db.integrity_check() == "ok"


async def test_500_writes_from_50_tasks_on_one_connection(db, make_piece) -> None:
    pieces, jobs = await _hammer([db], make_piece)
    await _check(db, pieces, jobs)


async def test_500_writes_from_50_tasks_on_two_connections(db_target: Path | str, make_piece) -> None:
    """Two connections (pools, on PostgreSQL) contend for the database, as the bot and `muse db prune`
    would, or two bot processes."""
    async with open_database(db_target) as one, open_database(db_target) as two:
        pieces, jobs = await _hammer([one, two], make_piece)
        await _check(two, pieces, jobs)


async def test_cancelled_writers_leave_no_half_rows(db, make_piece) -> None:
    """The bot cancels jobs; a write cancelled mid-transaction must not poison the connection."""
    for delay_ticks in range(30):
        task = asyncio.create_task(db.compositions.add(make_piece(prompt=f"cancel {delay_ticks}")))
        for _ in range(delay_ticks):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    after = await db.compositions.add(make_piece(prompt="after"))
    async with db.read() as conn:
        async with conn.execute(
            "SELECT count(*) FROM compositions c WHERE (SELECT count(*) FROM composition_files f "
            "WHERE f.composition_id = c.id) != 2"
        ) as cur:
            assert (await cur.fetchone())[0] == 0  # every stored piece has both its files
    assert (await db.compositions.get(after.id)) is not None
    assert await db.integrity_check() == "ok"
