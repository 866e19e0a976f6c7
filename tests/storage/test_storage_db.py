"""Connection set-up: pragmas, data dir creation, refusing a database from a newer Muse."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import SchemaTooNewError, StorageError, connect, data_dir, database_path, latest_version, open_database
from storage.migrations import all_migrations


async def test_pragmas_are_set(sqlite_db) -> None:
    async with sqlite_db.read() as conn:
        values = {}
        for pragma in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout", "user_version"):
            async with conn.execute(f"PRAGMA {pragma}") as cursor:
                values[pragma] = (await cursor.fetchone())[0]
    assert values["journal_mode"] == "wal"
    assert values["foreign_keys"] == 1
    assert values["synchronous"] == 1  # NORMAL
    assert values["busy_timeout"] >= 1000
    assert values["user_version"] == latest_version() >= 2


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in all_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert all(m.statements() for m in all_migrations())


def test_data_dir_is_created_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "muse-data"
    root = data_dir({"MUSE_DATA_DIR": str(target)})
    assert root == target and target.is_dir()
    assert database_path(root) == target / "muse.sqlite3"


async def test_reopening_is_idempotent(db_path: Path) -> None:
    for _ in range(3):
        async with open_database(db_path) as db:
            assert await db.schema_version() == latest_version()
            assert await db.integrity_check() == "ok"


async def test_newer_database_is_refused_and_left_untouched(db_path: Path) -> None:
    async with open_database(db_path):
        pass
    newer = latest_version() + 5
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    before = db_path.read_bytes()

    for migrate in (True, False):
        with pytest.raises(SchemaTooNewError) as caught:
            await connect(db_path, migrate=migrate)
        assert isinstance(caught.value, StorageError)
        assert caught.value.found == newer and caught.value.known == latest_version()
        assert f"schema version {newer}" in str(caught.value)
        assert "upgrade Muse" in str(caught.value)

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == newer
    assert db_path.read_bytes() == before


async def test_foreign_keys_are_enforced(db) -> None:
    from storage import ConflictError

    with pytest.raises(ConflictError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO composition_files (composition_id, kind, path, sha256, size_bytes) VALUES (?, ?, ?, ?, ?)",
                (999, "midi", "x", "0" * 64, 1),
            )


async def test_failed_transaction_rolls_back(db, make_piece) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO users (id, created_at, updated_at) VALUES (7, 0, 0)")
            raise RuntimeError("boom")
    assert await db.users.get(7) is None
    await db.compositions.add(make_piece())  # the connection is still usable
