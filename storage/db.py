"""The one aiosqlite connection per process: pragmas, version check, migrations, transactions.

`connect()` also accepts a `postgresql://` URL; then `storage.postgres` (and asyncpg) is
imported and gives a `Database` subclass with the same repositories over a connection pool.

All statements go through `Database.read()` / `Database.write()`, which serialise
use of the shared connection with an asyncio lock. Without it, one task's
statements could land inside another task's open transaction and be rolled
back with it. Across processes, WAL plus `busy_timeout` lets a reader and one
writer proceed; `BEGIN IMMEDIATE` takes the write lock up front, so a
transaction never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage import migrations
from storage.compositions import CompositionRepo
from storage.dialect import SQLITE, Dialect
from storage.errors import BusyError, ConflictError, InvalidValueError, SchemaTooNewError, StorageError
from storage.jams import JamRepo
from storage.jobs import JobRepo
from storage.themes import ThemeRepo
from storage.users import GuildRepo, UserRepo

DEFAULT_BUSY_TIMEOUT_S = 10.0


class Database:
    """A migrated connection plus the repositories that use it."""

    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Callable[[], float]) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path
        self._attach_repos(clock)

    def _attach_repos(self, clock: Callable[[], float]) -> None:
        self.clock = clock  # Unix seconds; injectable so tests can move time
        self.users = UserRepo(self)
        self.guilds = GuildRepo(self)
        self.compositions = CompositionRepo(self)
        self.themes = ThemeRepo(self)
        self.jams = JamRepo(self)
        self.jobs = JobRepo(self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run reads without interleaving with another task's open transaction."""
        async with self._lock:
            with _typed_errors():
                yield self._conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic transaction: committed when the block ends, rolled back if it raises."""
        async with self._lock:
            with _typed_errors():
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    yield self._conn
                    await self._conn.execute("COMMIT")
                except BaseException:
                    # Even when cancelled, statements already handed to aiosqlite's thread still run;
                    # rollback() is queued behind them and undoes whatever transaction is open then.
                    await asyncio.shield(self._conn.rollback())
                    raise

    async def schema_version(self) -> int:
        async with self.read() as conn:
            return await migrations.user_version(conn)

    async def migrate(self) -> tuple[int, int]:
        """Apply pending migrations; returns (from_version, to_version)."""
        async with self._lock:
            return await _check_and_migrate(self._conn, self.path)

    async def integrity_check(self) -> str:
        """'ok' when SQLite finds the file sound; otherwise its first complaint."""
        async with self.read() as conn:
            async with conn.execute("PRAGMA integrity_check") as cursor:
                row = await cursor.fetchone()
        return str(row[0]) if row else "no result"

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()


def is_postgres_url(target: object) -> bool:
    """A PostgreSQL connection URL (the one test for it: storage, `muse db` and the bot's settings)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


async def connect(
    path: Path | str,
    *,
    migrate: bool = True,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
) -> Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    `path` is a SQLite file, or a `postgresql://` URL for the PostgreSQL backend.
    Raises `SchemaTooNewError` for a database written by a newer Muse, even with
    `migrate=False` (which exists for `muse db upgrade` to report what it does).
    """
    if is_postgres_url(path):
        from storage.postgres import connect_postgres  # asyncpg only when PostgreSQL is used

        return await connect_postgres(str(path), migrate=migrate, busy_timeout_s=busy_timeout_s, clock=clock)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        conn.row_factory = aiosqlite.Row
        with _typed_errors():
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000):d}")
            await _enable_wal(conn, busy_timeout_s)
            await conn.execute("PRAGMA synchronous = NORMAL")  # safe against process crashes in WAL mode
            await conn.execute("PRAGMA foreign_keys = ON")
            if migrate:
                await _check_and_migrate(conn, path)
            else:
                await _check_not_too_new(conn, path)
    except BaseException:
        await conn.close()
        raise
    return Database(conn, path, clock)


@asynccontextmanager
async def open_database(path: Path | str, **kwargs: object) -> AsyncIterator[Database]:
    """`async with open_database(path_or_url) as db:` — connect, migrate, and always close."""
    db = await connect(path, **kwargs)  # type: ignore[arg-type]
    try:
        yield db
    finally:
        await db.close()


async def _enable_wal(conn: aiosqlite.Connection, timeout_s: float) -> None:
    """Switch to WAL, retrying: on a brand-new file that other connections are also setting
    up, SQLite can answer 'locked' here without consulting the busy timeout."""
    deadline = time.monotonic() + timeout_s
    delay_s = 0.005
    while True:
        try:
            rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay_s > deadline:
                raise
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.1)
    mode = str(next(iter(rows))[0]).lower()
    if mode != "wal":
        raise StorageError(f"cannot use WAL journal mode (got {mode!r}); is the data dir on a network file system?")


async def _check_not_too_new(conn: aiosqlite.Connection, path: Path) -> int:
    found = await migrations.user_version(conn)
    known = migrations.latest_version()
    if found > known:
        raise SchemaTooNewError(str(path), found, known)
    return found


async def _check_and_migrate(conn: aiosqlite.Connection, path: Path) -> tuple[int, int]:
    await _check_not_too_new(conn, path)
    return await migrations.apply_migrations(conn)


class _typed_errors:
    """Turn sqlite3 / encoding failures into StorageError subclasses at the boundary."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, StorageError):
            return False
        if isinstance(exc, sqlite3.IntegrityError):
            raise ConflictError(str(exc)) from exc
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            raise BusyError(f"database is busy: {exc}") from exc
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"database error: {exc}") from exc
        if isinstance(exc, (UnicodeEncodeError, OverflowError)):
            raise InvalidValueError(f"cannot store value: {exc}") from exc
        return False
