"""The small pieces of the PostgreSQL backend: placeholders, row counts, error mapping, lazy import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage._pg_conn import rowcount, to_dollar_params
from storage.postgres import redact

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM jobs WHERE id = ? AND status = ?", "SELECT * FROM jobs WHERE id = $1 AND status = $2"),
        ("SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
        ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = $1'),
        ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"),
        ("SELECT /* ? */ ?", "SELECT /* ? */ $1"),
        ("SELECT 'unterminated ?", "SELECT 'unterminated ?"),
        ("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
    ],
)
def test_placeholders_outside_quotes_and_comments(sql: str, expected: str) -> None:
    assert to_dollar_params(sql) == expected


def test_row_count_from_command_tags() -> None:
    assert [rowcount(t) for t in ("INSERT 0 1", "UPDATE 3", "DELETE 0", "SELECT 12", "BEGIN")] == [1, 3, 0, 12, -1]


def test_passwords_stay_out_of_messages() -> None:
    assert redact("postgresql://muse:s3cret@db.example:5432/muse") == "postgresql://muse:***@db.example:5432/muse"
    assert redact("postgresql://muse@127.0.0.1/muse") == "postgresql://muse@127.0.0.1/muse"


def test_missing_server_binaries_say_how_to_get_them(tmp_path: Path) -> None:
    from tests.pg_server import PgServerMissing, find_bin_dir

    with pytest.raises(PgServerMissing, match=r"make test.*postgresql"):
        find_bin_dir(str(tmp_path))


def test_the_default_path_never_imports_asyncpg(tmp_path: Path) -> None:
    """SQLite users need not install the scale-out extra: asyncpg loads only for a postgresql:// URL."""
    code = (
        "import asyncio, sys, storage\n"
        f"async def main():\n    async with storage.open_database({str(tmp_path / 'm.sqlite3')!r}) as db:\n"
        "        await db.jobs.list_active()\n"
        "asyncio.run(main())\n"
        "assert 'asyncpg' not in sys.modules and 'storage.postgres' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def test_constraint_and_value_errors_are_typed_on_postgres(pg_migrated_url: str) -> None:
    from storage import ConflictError, InvalidValueError, NewJob, open_database

    async with open_database(pg_migrated_url) as db:
        await db.users.upsert(1)
        with pytest.raises(ConflictError):  # the JSON check, as SQLite's json_valid()
            async with db.write() as conn:
                await conn.execute("INSERT INTO jobs (payload_json, requester_id, created_at) VALUES ('not json', 1, 0)")
        with pytest.raises(InvalidValueError):
            await db.jobs.enqueue(NewJob(requester_id=1 << 64, payload={}))
        with pytest.raises(InvalidValueError):
            await db.users.upsert(1, name="nul\x00")
        assert db.dialect.name == "postgresql"
