"""PostgreSQL migrations (`migrations/postgres/NNNN_name.sql`), tracked in a `schema_version` table.

They carry the same numbers and names as the SQLite ones. Each runs in one transaction with its
version row, under a transaction-scoped advisory lock, and the version is re-read once the lock
is held: two processes starting against an empty database at once apply each migration exactly
once, and a failing script leaves the database at the previous version (DDL is transactional).
"""

from __future__ import annotations

import time
from functools import cache

import asyncpg

from storage.errors import MigrationError
from storage.migrations import Migration, load_migrations

# The two-int advisory key space never meets the one-bigint keys that `Dialect.key_lock` uses.
_LOCK = "SELECT pg_advisory_xact_lock(1836414821, 1)"  # 1836414821 = b"muse" as an int
_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""


@cache
def postgres_migrations() -> tuple[Migration, ...]:
    return load_migrations("migrations", "postgres")


async def schema_version(conn: asyncpg.Connection) -> int:
    """The newest applied migration; 0 for an empty database."""
    if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


async def apply_migrations(conn: asyncpg.Connection, target: int | None = None) -> tuple[int, int]:
    """Bring the schema up to `target` (default: latest); returns (from_version, to_version)."""
    migrations = postgres_migrations()
    target = len(migrations) if target is None else target
    start = await schema_version(conn)
    for migration in migrations[start:target]:
        try:
            async with conn.transaction():
                await conn.execute(_LOCK)
                await conn.execute(_VERSION_TABLE)
                if await schema_version(conn) >= migration.version:  # another process got here first
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version, migration.name, time.time(),
                )
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
    return start, max(start, await schema_version(conn))
