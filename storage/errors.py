"""Typed storage failures, so callers can map each to one short line for a member."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every failure raised by `storage`."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer Muse; opening it could corrupt data it relies on."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"database {path} is at schema version {found}, but this Muse only knows "
            f"versions up to {known}; upgrade Muse instead of downgrading the database"
        )
        self.path = path
        self.found = found
        self.known = known


class MigrationError(StorageError):
    """A migration script failed; the database stays at the last good version."""


class NotFoundError(StorageError):
    """The row asked for does not exist (or is not visible to the caller)."""


class ConflictError(StorageError):
    """The write would break a uniqueness rule (same theme name, second jam entry, ...)."""


class InvalidStateError(StorageError):
    """The row is not in a state that allows the change (finishing a cancelled job, ...)."""


class ArtifactError(StorageError):
    """An artifact file could not be written, read or verified."""


class InvalidValueError(StorageError):
    """A value cannot be stored as given (lone surrogate, NaN in JSON, id out of 64-bit range)."""


class BusyError(StorageError):
    """Another process held the database longer than the busy timeout."""



class ConnectionLostError(BusyError):
    """The database server could not be reached or dropped the connection (a restart, a failover).
    Nothing of the failed call was committed unless the loss hit the commit itself."""
