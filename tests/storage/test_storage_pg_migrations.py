"""PostgreSQL migrations: the same versions as SQLite's, upgrades that keep data, the same tables
and columns in both dialects, refusal of a newer database, and a safe concurrent first start."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from storage import MigrationError, SchemaTooNewError, connect, latest_version, open_database
from storage._pg_migrations import apply_migrations, postgres_migrations, schema_version
from storage.migrations import all_migrations
from tests.storage.test_storage_migrations import _SEEDS


def test_every_sqlite_migration_has_its_postgres_twin() -> None:
    assert [(m.version, m.name) for m in postgres_migrations()] == [(m.version, m.name) for m in all_migrations()]
    assert len(postgres_migrations()) == latest_version()


async def _pg_shape(url: str) -> dict[str, tuple[list[str], list[str]]]:
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
        indexes = await conn.fetch(  # those behind a PRIMARY KEY or UNIQUE constraint have generated names
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)")
    finally:
        await conn.close()
    shape: dict[str, tuple[list[str], list[str]]] = {}
    for row in columns:
        shape.setdefault(row["table_name"], ([], []))[0].append(row["column_name"])
    for row in indexes:
        shape[row["tablename"]][1].append(row["indexname"])
    return {table: (cols, sorted(idx)) for table, (cols, idx) in shape.items()}


def _sqlite_shape(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: ([r[1] for r in conn.execute(f"PRAGMA table_info({t})")],
                    sorted(r[1] for r in conn.execute(f"PRAGMA index_list({t})") if r[3] == "c"))
                for t in tables}


async def test_both_dialects_have_the_same_tables_columns_and_named_indexes(pg_url: str, db_path: Path) -> None:
    async with open_database(pg_url), open_database(db_path):
        pass
    pg = await _pg_shape(pg_url)
    pg.pop("schema_version")  # PostgreSQL's stand-in for PRAGMA user_version
    assert pg == _sqlite_shape(db_path)


async def _build_old(url: str, version: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await apply_migrations(conn, target=version) == (0, version)
        for statement in _SEEDS.get(version, []):
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize("start", range(latest_version()))
async def test_upgrade_from_every_earlier_version_keeps_data(pg_server, start: int) -> None:
    old = pg_server.fresh_database(f"old_v{start}")
    await _build_old(old, start)
    async with open_database(old) as db:
        assert await db.schema_version() == latest_version()
        if start >= 1:
            piece = await db.compositions.get(5)
            assert piece is not None and (piece.owner_id, piece.prompt, piece.request) == (42, "old tune", {"tempo": 90})
            assert [f.path for f in piece.files] == ["artifacts/aa/x.mid"]
            theme = await db.themes.get_by_share_code("CODE-OLD-0123456")
            assert theme is not None and (await db.themes.get_by_name(42, "night drive")) == theme
            assert (await db.jams.get_schedule(9)).theme_pool == ("jazz", "chill")  # type: ignore[union-attr]
            requeued = await db.jobs.requeue_running()
            assert [(j.payload, j.owner, j.delivery_key) for j in requeued] == [({"prompt": "old tune"}, None, None)]
    fresh = pg_server.fresh_database(f"fresh_v{start}")
    async with open_database(fresh):
        pass
    assert await _pg_shape(old) == await _pg_shape(fresh)
    pg_server.drop_database(f"old_v{start}")
    pg_server.drop_database(f"fresh_v{start}")


async def test_many_processes_starting_on_an_empty_database_at_once(pg_url: str) -> None:
    dbs = await asyncio.gather(*(connect(pg_url) for _ in range(8)))
    try:
        for db in dbs:
            assert await db.schema_version() == latest_version()
        async with dbs[0].read() as conn:
            rows = await conn.execute_fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, latest_version() + 1))  # each applied once
    finally:
        for db in dbs:
            await db.close()


async def test_newer_database_is_refused(pg_url: str) -> None:
    async with open_database(pg_url) as db:
        async with db.write() as conn:
            await conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)",
                               (latest_version() + 5,))
    for migrate in (True, False):
        with pytest.raises(SchemaTooNewError) as caught:
            await connect(pg_url, migrate=migrate)
        assert caught.value.found == latest_version() + 5 and "upgrade Muse" in str(caught.value)


async def test_failing_migration_rolls_back_whole(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await apply_migrations(conn, target=1)
        await conn.execute("CREATE TABLE jobs_by_requester (x INTEGER)")  # squats on a name 0002 creates
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="0002_remix_lineage"):
        async with open_database(pg_url):
            pass
    conn = await asyncpg.connect(pg_url)
    try:
        assert await schema_version(conn) == 1
        columns = await conn.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'compositions'")
        assert "parent_id" not in [r["column_name"] for r in columns]  # the ALTER was undone
    finally:
        await conn.close()


async def test_migrate_false_reports_and_migrate_applies(pg_url: str) -> None:
    db = await connect(pg_url, migrate=False)
    try:
        assert await db.schema_version() == 0
        assert await db.migrate() == (0, latest_version())
        assert await db.migrate() == (latest_version(), latest_version())
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()
