"""Numbered SQL migrations (`migrations/NNNN_name.sql`), tracked with PRAGMA user_version.

Each file runs in one IMMEDIATE transaction together with its version bump, so a
crash or a failing statement leaves the database at the previous version. The
version is re-read inside the transaction, so two processes starting at once
apply each migration exactly once.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from importlib import resources

import aiosqlite

from storage.errors import MigrationError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Split the script into single statements (sqlite3 runs one per execute)."""
        out: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                out.append(buffer.strip())
                buffer = ""
        leftover = "".join(line for line in buffer.splitlines() if not line.strip().startswith("--"))
        if leftover.strip():
            raise MigrationError(f"migration {self.version:04d}_{self.name}: unterminated statement")
        return out


@cache
def all_migrations() -> tuple[Migration, ...]:
    """Every SQLite migration shipped with this code, checked to be numbered 1..N without gaps."""
    return load_migrations("migrations")


def load_migrations(*folder: str) -> tuple[Migration, ...]:
    """The numbered scripts in a folder of the package (PostgreSQL's live in migrations/postgres)."""
    directory = resources.files("storage").joinpath(*folder)
    found: list[Migration] = []
    for entry in directory.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migrations are not numbered 1..N: expected {expected:04d}, found {migration.version:04d}")
    return tuple(found)


def latest_version() -> int:
    return len(all_migrations())


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(conn: aiosqlite.Connection, target: int | None = None) -> tuple[int, int]:
    """Bring the schema up to `target` (default: latest); returns (from_version, to_version)."""
    migrations = all_migrations()
    target = len(migrations) if target is None else target
    start = await user_version(conn)
    for migration in migrations[start:target]:
        try:
            await conn.execute("BEGIN IMMEDIATE")
            if await user_version(conn) >= migration.version:  # another process got here first
                await conn.execute("ROLLBACK")
                continue
            for statement in migration.statements():
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version:d}")
            await conn.execute("COMMIT")
        except BaseException as exc:  # failed, cancelled or interrupted: undo before anything else
            await asyncio.shield(conn.rollback())
            if isinstance(exc, sqlite3.Error):
                raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
            raise
    return start, max(start, await user_version(conn))
