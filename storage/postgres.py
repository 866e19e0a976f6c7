"""The PostgreSQL backend: the same `Database` API and repositories, over an asyncpg pool.

Used when the database target is a `postgresql://` URL (MUSE_DATABASE_URL, the scale-out mode
where several bot processes share one job table); a path keeps the default SQLite file.

Why asyncpg directly, behind a small connection adapter (`storage._pg_conn`), and not
SQLAlchemy: the repositories' SQL is already plain and almost portable (`RETURNING` and
`ON CONFLICT` work on both databases), asyncpg is the fastest PostgreSQL driver for asyncio and
the one SQLAlchemy's async PostgreSQL dialect runs on underneath, and the SQLite path stays
exactly as it was, with no new dependency in the default install. This module, and asyncpg with
it, is imported only when a postgresql:// URL is opened.

`read()` lends a pooled connection in autocommit; `write()` lends one inside a READ COMMITTED
transaction. Where concurrent processes could collide the repositories ask `dialect` for row
locks (FOR UPDATE SKIP LOCKED) or key locks (transaction-scoped advisory locks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage import _pg_migrations
from storage._pg_conn import PgConnection
from storage._pg_errors import translate, typed_errors
from storage._pg_retry import make_patient
from storage.db import DEFAULT_BUSY_TIMEOUT_S, Database
from storage.dialect import POSTGRES
from storage.errors import SchemaTooNewError, StorageError

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
_CLOSE_TIMEOUT_S = 10.0


class PgDatabase(Database):
    """A pool of connections to one PostgreSQL database, plus the repositories that use it."""

    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, shown: str, clock: Callable[[], float]) -> None:
        self._pool = pool
        self.path = shown  # type: ignore[assignment]  # the URL without its password, for messages
        self._attach_repos(clock)
        for repo in (self.users, self.guilds, self.compositions, self.themes, self.jams, self.jobs):
            make_patient(repo)  # a server restart is waited out, not turned into failed jobs

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgConnection]:  # type: ignore[override]
        async with typed_errors(self._pool), self._pool.acquire() as raw:
            yield PgConnection(raw)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[PgConnection]:  # type: ignore[override]
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with typed_errors(self._pool), self._pool.acquire() as raw, raw.transaction():
            yield PgConnection(raw)

    async def schema_version(self) -> int:
        async with self.read() as conn:
            return await _pg_migrations.schema_version(conn.raw)

    async def migrate(self) -> tuple[int, int]:
        async with self.read() as conn:
            return await _check_and_migrate(conn.raw, self.path)  # type: ignore[arg-type]

    async def integrity_check(self) -> str:
        """PostgreSQL checks its own pages; answering a query is what is left to check here."""
        async with self.read() as conn:
            return "ok" if await conn.raw.fetchval("SELECT 1") == 1 else "no result"

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), _CLOSE_TIMEOUT_S)
        except (asyncio.TimeoutError, OSError, asyncpg.InterfaceError, asyncpg.PostgresError):
            self._pool.terminate()


async def connect_postgres(
    url: str,
    *,
    migrate: bool = True,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
) -> PgDatabase:
    """Open a pool on `url` and bring the schema up to date (as `storage.connect` does for a file).

    `busy_timeout_s` bounds waiting for a row or advisory lock (lock_timeout) and for a connection.
    """
    shown = redact(url)
    try:
        pool = await asyncpg.create_pool(
            url, min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE, timeout=busy_timeout_s,
            server_settings={"lock_timeout": str(int(busy_timeout_s * 1000))},
        )
    except Exception as exc:
        mapped = translate(exc) or StorageError(str(exc))
        raise type(mapped)(f"cannot open database {shown}: {exc}") from exc
    try:
        async with typed_errors(pool), pool.acquire() as conn:
            if migrate:
                await _check_and_migrate(conn, shown)
            else:
                await _check_not_too_new(conn, shown)
    except BaseException:
        pool.terminate()
        raise
    return PgDatabase(pool, shown, clock)


def redact(url: str) -> str:
    """The URL with its password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


async def _check_not_too_new(conn: asyncpg.Connection, shown: str) -> int:
    found = await _pg_migrations.schema_version(conn)
    known = len(_pg_migrations.postgres_migrations())
    if found > known:
        raise SchemaTooNewError(shown, found, known)
    return found


async def _check_and_migrate(conn: asyncpg.Connection, shown: str) -> tuple[int, int]:
    await _check_not_too_new(conn, shown)
    return await _pg_migrations.apply_migrations(conn)
