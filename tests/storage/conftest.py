"""Fixtures for storage tests: a real SQLite file in tmp_path, or a real PostgreSQL database, never a mock.

`db` and `db_target` run each repository test on both backends; tests about the SQLite file
itself (pragmas, WAL, crashes, file migrations) use `sqlite_db` or `db_path`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database, NewComposition, StoredFile, open_database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "muse.sqlite3"


_SHARED = "storage_shared"
# Every table but the version record, emptied and its ids restarted; lock_timeout so that a pool a
# broken test left open fails this loudly instead of hanging.
_EMPTY_ALL_TABLES = """SET lock_timeout = '10s';
DO $$ BEGIN
  EXECUTE (SELECT 'TRUNCATE ' || string_agg(quote_ident(tablename), ', ') || ' RESTART IDENTITY CASCADE'
           FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version');
END $$;"""


@pytest.fixture(scope="session")
def pg_shared_url(pg_server) -> str:  # type: ignore[no-untyped-def]
    """One migrated PostgreSQL database that repository tests share, emptied before each of them:
    a fresh, migrated database per test costs several times more."""
    url = pg_server.fresh_database(_SHARED)

    async def migrate() -> None:
        async with open_database(url):
            pass

    asyncio.run(migrate())
    return url


@pytest.fixture
def pg_migrated_url(pg_server, pg_shared_url: str) -> str:  # type: ignore[no-untyped-def]
    """A migrated PostgreSQL database with no rows in it. (Tests about PostgreSQL migrations
    themselves use `pg_url`, a fresh database without even the schema.)"""
    pg_server.run_sql(_SHARED, _EMPTY_ALL_TABLES)
    return pg_shared_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """Where a test's database lives: a new SQLite file, or an empty, migrated PostgreSQL database."""
    if request.param == "sqlite":
        return db_path
    return request.getfixturevalue("pg_migrated_url")  # the server starts only when a test needs it


@pytest.fixture
async def db(db_target: Path | str) -> AsyncIterator[Database]:
    async with open_database(db_target) as database:
        yield database


@pytest.fixture
async def sqlite_db(db_path: Path) -> AsyncIterator[Database]:
    async with open_database(db_path) as database:
        yield database


def piece(owner_id: int = 1, prompt: str = "happy birthday", **overrides: object) -> NewComposition:
    """A plausible composition; the request dict is opaque to storage."""
    fields: dict[str, object] = dict(
        owner_id=owner_id,
        prompt=prompt,
        request={"prompt": prompt, "theme": "birthday", "voice": "male", "tempo": 120, "key": "F major"},
        seed=1234,
        engine="model",
        checkpoint="muse-5m-v1",
        engine_version="0.1.0",
        description="A cheerful waltz in F major",
        files=(
            StoredFile("midi", "artifacts/ab/" + "ab" * 32 + ".mid", "ab" * 32, 1024),
            StoredFile("audio", "artifacts/cd/" + "cd" * 32 + ".mp3", "cd" * 32, 200_000),
        ),
        timings_s={"understand": 0.01, "compose": 0.8, "total": 1.4},
        guild_id=100,
        channel_id=200,
    )
    fields.update(overrides)
    return NewComposition(**fields)  # type: ignore[arg-type]


@pytest.fixture
def make_piece():  # type: ignore[no-untyped-def]
    """The `piece` factory, as a fixture so test modules need not import conftest."""
    return piece
