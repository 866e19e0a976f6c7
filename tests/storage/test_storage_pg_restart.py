"""The PostgreSQL server restarts (or is down for a while) under a running bot: a connection that
died says so with a typed, retriable error (ConnectionLostError, a BusyError), repository calls
wait the outage out, the pool holds no dead connection afterwards, and committed data stays.

These restart the session's shared server; it is back up before each test ends.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from storage import BusyError, NewJob, StorageError, open_database
from storage.errors import ConnectionLostError


def job(n: int) -> NewJob:
    return NewJob(requester_id=n, payload={"n": n})


async def _eventually(call, attempts: int = 2):  # type: ignore[no-untyped-def]
    """At most the first try may fail (it found a connection the restart killed)."""
    failures: list[StorageError] = []
    for _ in range(attempts):
        try:
            return await call(), failures
        except StorageError as exc:
            failures.append(exc)
    raise AssertionError(f"still failing after {attempts} tries: {failures}")


async def test_the_pool_recovers_after_a_restart(pg_server, pg_migrated_url: str) -> None:
    async with open_database(pg_migrated_url) as db:
        made = [await db.jobs.enqueue(job(i)) for i in range(3)]
        await db.jobs.claim(made[0].id)
        # Put several idle connections in the pool: all of them die in the restart.
        await asyncio.gather(*(db.jobs.list_active() for _ in range(8)))
        pg_server.restart()

        claimed, failures = await _eventually(lambda: db.jobs.claim_next())
        assert all(isinstance(f, BusyError) for f in failures)
        assert claimed is not None and claimed.id == made[1].id
        for _ in range(5):  # no dead connection is left in the pool
            assert len(await db.jobs.list_active()) == 3
        assert (await db.jobs.get(made[0].id)).attempts == 1  # type: ignore[union-attr]


async def test_a_transaction_cut_by_a_restart_leaves_nothing(pg_server, pg_migrated_url: str) -> None:
    async with open_database(pg_migrated_url) as db:
        await db.jobs.enqueue(job(1))
        with pytest.raises(BusyError):
            async with db.write() as conn:
                await conn.execute("INSERT INTO users (id, created_at, updated_at) VALUES (77, 0, 0)")
                pg_server.restart()
                await conn.execute("INSERT INTO users (id, created_at, updated_at) VALUES (78, 0, 0)")
        assert await db.users.get(77) is None and await db.users.get(78) is None
        assert len(await db.jobs.list_active()) == 1


async def test_a_call_waits_out_a_server_that_is_down_for_a_while(pg_server, pg_migrated_url: str) -> None:
    """Repository calls are tried again while the server is away (storage._pg_retry); the
    connection itself says so at once with a typed error."""
    async with open_database(pg_migrated_url) as db:
        await db.jobs.enqueue(job(1))
        pg_server.stop()
        back: asyncio.Task[None] | None = None
        try:
            for _ in range(3):
                with pytest.raises(ConnectionLostError):
                    async with db.read() as conn:
                        await conn.execute_fetchall("SELECT 1")
            back = asyncio.create_task(asyncio.to_thread(_start_after, pg_server, 1.0))
            active = await db.jobs.list_active()  # waits until the server is back
        finally:
            if back is None:
                pg_server.start(pg_server.work)
            else:
                await back
        assert [j.requester_id for j in active] == [1]


def _start_after(pg_server, delay_s: float) -> None:  # type: ignore[no-untyped-def]
    time.sleep(delay_s)
    pg_server.start(pg_server.work)


async def test_opening_an_unreachable_server_is_a_typed_error(pg_server) -> None:
    url = pg_server.url.replace(f":{pg_server.port}/", ":1/")
    with pytest.raises(BusyError, match="cannot open database"):
        await open_database(url, busy_timeout_s=2).__aenter__()
