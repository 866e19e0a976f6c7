"""Muse's memory: history, themes, jams and jobs in SQLite, plus content-addressed files.

The same repositories run on PostgreSQL when `open_database` is given a `postgresql://` URL
(the scale-out mode, MUSE_DATABASE_URL; see `storage.postgres`); SQLite stays the default.

Usage::

    async with open_database(database_path(data_dir())) as db:  # or open_database("postgresql://…")
        piece = await db.compositions.add(NewComposition(owner_id=..., prompt=..., request={...}))
        page = await db.compositions.history_for_user(owner_id)

`storage` never imports `composer` or `bot`; requests and theme specs are plain dicts.
"""

from storage.artifacts import Artifact, ArtifactStore, PruneReport
from storage.db import Database, connect, is_postgres_url, open_database
from storage.errors import (
    ArtifactError,
    BusyError,
    ConflictError,
    InvalidStateError,
    InvalidValueError,
    MigrationError,
    NotFoundError,
    SchemaTooNewError,
    StorageError,
)
from storage.migrations import latest_version
from storage.models import (
    Composition,
    Guild,
    JamEntry,
    JamRound,
    JamSchedule,
    Job,
    JobStatus,
    NewComposition,
    NewJob,
    NewSavedTheme,
    Page,
    StoredFile,
    SavedTheme,
    User,
    Visibility,
)
from storage.paths import artifacts_dir, data_dir, database_path

__all__ = [
    "Artifact", "ArtifactError", "ArtifactStore", "BusyError", "Composition", "ConflictError",
    "Database", "Guild", "InvalidStateError", "InvalidValueError", "JamEntry", "JamRound",
    "JamSchedule", "Job", "JobStatus", "MigrationError", "NewComposition", "NewJob", "NewSavedTheme",
    "NotFoundError", "Page", "PruneReport", "SchemaTooNewError", "StorageError", "StoredFile",
    "SavedTheme", "User", "Visibility", "artifacts_dir", "connect", "data_dir", "database_path",
    "is_postgres_url", "latest_version", "open_database",
]
