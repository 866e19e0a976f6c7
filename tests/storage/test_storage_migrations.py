"""Upgrading from every earlier schema version reaches the current schema with data kept."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from storage import latest_version, open_database
from storage.migrations import apply_migrations, user_version

# Rows written with the SQL each old version understood (as an old Muse would have).
_SEED_V1 = [
    "INSERT INTO users (id, name, created_at, updated_at) VALUES (42, 'ada', 1700000000, 1700000000)",
    "INSERT INTO guilds (id, name, created_at, updated_at) VALUES (9, 'jazz club', 1700000000, 1700000000)",
    """INSERT INTO compositions (id, owner_id, guild_id, channel_id, prompt, request_json, seed, engine,
                                 checkpoint, timings_json, created_at)
       VALUES (5, 42, 9, 77, 'old tune', '{"tempo": 90}', 7, 'model', 'ckpt-1', '{"total": 2.5}', 1700000001)""",
    "INSERT INTO composition_files VALUES (5, 'midi', 'artifacts/aa/x.mid', '" + "a" * 64 + "', 321)",
    """INSERT INTO themes (owner_id, guild_id, name, visibility, share_code, spec_json, schema_version,
                           created_at, updated_at)
       VALUES (42, 9, 'Night Drive', 'guild', 'CODE-OLD-0123456', '{"tempo": [80, 100]}', 1, 1700000002, 1700000002)""",
    """INSERT INTO jobs (kind, status, payload_json, requester_id, channel_id, attempts, created_at, started_at)
       VALUES ('compose', 'running', '{"prompt": "old tune"}', 42, 77, 1, 1700000003, 1700000004)""",
    """INSERT INTO jam_schedules (guild_id, channel_id, time_of_day, timezone, theme_pool_json, created_at, updated_at)
       VALUES (9, 77, '18:30', 'Europe/Paris', '["jazz", "chill"]', 1700000000, 1700000000)""",
]
_SEEDS = {1: _SEED_V1, 2: _SEED_V1, 3: _SEED_V1, 4: _SEED_V1}  # later versions only added columns, indexes, tables


async def _build_old(path: Path, version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=version)
        assert await user_version(conn) == version
        for statement in _SEEDS.get(version, []):
            await conn.execute(statement)


async def _shape(path: Path) -> dict[str, object]:
    """Columns and indexes of every table: what must match a fresh database."""
    async with aiosqlite.connect(path) as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") as cur:
            tables = [row[0] for row in await cur.fetchall()]
        shape: dict[str, object] = {}
        for table in tables:
            async with conn.execute(f"PRAGMA table_xinfo({table})") as cur:
                columns = [tuple(row) for row in await cur.fetchall()]
            async with conn.execute(f"PRAGMA index_list({table})") as cur:
                indexes = sorted(row[1] for row in await cur.fetchall())
            shape[table] = (columns, indexes)
    return shape


@pytest.mark.parametrize("start", range(latest_version()))
async def test_upgrade_from_every_earlier_version_keeps_data(tmp_path: Path, start: int) -> None:
    old = tmp_path / "old" / "muse.sqlite3"
    await _build_old(old, start)

    async with open_database(old) as db:
        assert await db.schema_version() == latest_version()
        assert await db.integrity_check() == "ok"
        if start >= 1:
            piece = await db.compositions.get(5)
            assert piece is not None
            assert (piece.owner_id, piece.guild_id, piece.prompt, piece.seed) == (42, 9, "old tune", 7)
            assert piece.request == {"tempo": 90} and piece.timings_s == {"total": 2.5}
            assert [f.path for f in piece.files] == ["artifacts/aa/x.mid"]
            assert piece.parent_id is None
            theme = await db.themes.get_by_share_code("CODE-OLD-0123456")
            assert theme is not None and theme.name == "Night Drive" and theme.spec == {"tempo": [80, 100]}
            schedule = await db.jams.get_schedule(9)
            assert schedule is not None and schedule.theme_pool == ("jazz", "chill")
            requeued = await db.jobs.requeue_running()
            assert [j.payload for j in requeued] == [{"prompt": "old tune"}]
            # New columns work on old rows: a remix of the migrated piece.
            from storage import NewComposition

            remix = await db.compositions.add(
                NewComposition(owner_id=42, prompt="old tune, faster", request={"tempo": 140}, parent_id=5)
            )
            assert (await db.compositions.get(remix.id)).parent_id == 5  # type: ignore[union-attr]
            assert [c.id for c in (await db.compositions.history_for_user(42)).items] == [remix.id, 5]

    fresh = tmp_path / "fresh" / "muse.sqlite3"
    async with open_database(fresh):
        pass
    assert await _shape(old) == await _shape(fresh)


async def test_partial_upgrade_is_resumable(tmp_path: Path) -> None:
    """Stopping after each version and reopening lands at the same place."""
    path = tmp_path / "muse.sqlite3"
    for version in range(1, latest_version() + 1):
        async with aiosqlite.connect(path, isolation_level=None) as conn:
            assert await apply_migrations(conn, target=version) == (version - 1, version)
    async with open_database(path) as db:
        assert await db.schema_version() == latest_version()


async def test_failing_migration_rolls_back_whole(tmp_path: Path) -> None:
    """A migration that breaks half-way leaves the schema and version as they were."""
    from storage import MigrationError

    path = tmp_path / "muse.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=1)
        await conn.execute("CREATE TABLE jobs_by_requester (x)")  # squats on a name 0002 creates
    with pytest.raises(MigrationError, match="0002_remix_lineage"):
        async with open_database(path):
            pass
    async with aiosqlite.connect(path) as conn:
        assert await user_version(conn) == 1
        async with conn.execute("PRAGMA table_info(compositions)") as cur:
            assert "parent_id" not in [row[1] for row in await cur.fetchall()]  # the ALTER was undone


async def test_many_connections_opening_a_fresh_file_at_once(tmp_path: Path) -> None:
    """Each migration runs once even when two connections race to apply it."""
    import asyncio

    path = tmp_path / "muse.sqlite3"
    from storage import connect

    dbs = await asyncio.gather(*(connect(path) for _ in range(8)))
    try:
        for db in dbs:
            assert await db.schema_version() == latest_version()
    finally:
        for db in dbs:
            await db.close()
