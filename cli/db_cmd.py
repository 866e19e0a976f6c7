"""`muse db upgrade` and `muse db prune`: schema migrations and retention from the shell.

The database is the SQLite file in MUSE_DATA_DIR, or the PostgreSQL database named by
MUSE_DATABASE_URL when that is set (the scale-out mode); generated files stay in MUSE_DATA_DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from storage import ArtifactStore, StorageError, connect, data_dir, database_path, is_postgres_url, open_database

DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_MAX_TOTAL_MB = 2048.0
_DAY_S = 86400.0
_MB = 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "db", help="manage the database in MUSE_DATA_DIR (default ./data), or at MUSE_DATABASE_URL when set")
    actions = parser.add_subparsers(dest="db_action", required=True, parser_class=type(parser))

    upgrade = actions.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(run=run_upgrade)

    prune = actions.add_parser("prune", help="delete old generated files and finished jobs")
    prune.add_argument("--max-age-days", type=_non_negative, default=DEFAULT_MAX_AGE_DAYS,
                       help=f"delete files unused for longer than this (default {DEFAULT_MAX_AGE_DAYS:g})")
    prune.add_argument("--max-total-mb", type=_non_negative, default=DEFAULT_MAX_TOTAL_MB,
                       help=f"then delete the least recently used until the rest fit (default {DEFAULT_MAX_TOTAL_MB:g})")
    prune.add_argument("--dry-run", action="store_true", help="report what would go, delete nothing")
    prune.set_defaults(run=run_prune)


def run_upgrade(args: argparse.Namespace) -> int:
    return _guarded(_upgrade)


def run_prune(args: argparse.Namespace) -> int:
    return _guarded(lambda: _prune(args.max_age_days * _DAY_S, int(args.max_total_mb * _MB), args.dry_run))


def _guarded(make_coro) -> int:  # type: ignore[no-untyped-def]
    """Storage failures (a too-new database, a locked file) become one `error:` line, exit 2."""
    try:
        return asyncio.run(make_coro())
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _database(root: Path | None = None) -> Path | str:
    """MUSE_DATABASE_URL when set (PostgreSQL), else the SQLite file in the data dir."""
    url = os.environ.get("MUSE_DATABASE_URL", "").strip()
    if url:
        if not is_postgres_url(url):
            raise StorageError("MUSE_DATABASE_URL must be a postgresql:// URL (leave it unset for SQLite)")
        return url
    return database_path(root if root is not None else data_dir())


async def _upgrade() -> int:
    db = await connect(_database(), migrate=False)
    try:
        before, after = await db.migrate()
    finally:
        await db.close()
    shown = db.path  # for PostgreSQL, the URL without its password
    if before == after:
        print(f"{shown}: schema version {after}, up to date")
    else:
        print(f"{shown}: upgraded schema from version {before} to {after}")
    return 0


async def _prune(max_age_s: float, max_total_bytes: int, dry_run: bool) -> int:
    root = data_dir()
    store = ArtifactStore(root)
    report = await asyncio.to_thread(
        store.prune, max_age_s=max_age_s, max_total_bytes=max_total_bytes, dry_run=dry_run
    )
    jobs = 0
    if not dry_run:
        async with open_database(_database(root)) as db:
            cutoff = datetime.fromtimestamp(db.clock() - max_age_s, tz=timezone.utc)
            jobs = await db.jobs.purge_finished(finished_before=cutoff)
    verb = "would delete" if dry_run else "deleted"
    print(
        f"{verb} {report.deleted_files} files ({report.deleted_bytes / _MB:.1f} MB); "
        f"kept {report.kept_files} files ({report.kept_bytes / _MB:.1f} MB); "
        f"removed {report.stale_temp_files} stale temp files and {jobs} finished jobs"
    )
    return 0


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more, got {text!r}")
    return value
