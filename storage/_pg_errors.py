"""asyncpg failures as storage's typed errors, matching what the SQLite path raises.

Constraint violations are ConflictError (as sqlite3.IntegrityError is); lock and serialization
timeouts and a lost or refused connection are BusyError, because trying again later can work;
values PostgreSQL cannot hold (a NUL in text, an id past 64 bits, a lone surrogate) are
InvalidValueError. A lost connection also tells the pool to replace every connection it holds:
after a server restart they are all dead, and the next call should not find one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from asyncpg import exceptions as pg

from storage.errors import BusyError, ConflictError, ConnectionLostError, InvalidValueError, StorageError

_RETRIABLE = (
    pg.SerializationError,
    pg.DeadlockDetectedError,
    pg.LockNotAvailableError,
    pg.QueryCanceledError,
    pg.TooManyConnectionsError,
)
_CONNECTION_LOST = (
    pg.ConnectionDoesNotExistError,
    pg.PostgresConnectionError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.CannotConnectNowError,  # starting up or shutting down
    OSError,  # refused, reset, timed out (TimeoutError is an OSError)
)


def is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True
    if isinstance(exc, pg.InternalClientError) and "another operation" in str(exc):
        return True  # a connection the server dropped mid-query, reused before the pool noticed
    return isinstance(exc, _CONNECTION_LOST)


def translate(exc: BaseException) -> StorageError | None:
    """The StorageError to raise instead of `exc`, or None to let `exc` through unchanged."""
    if isinstance(exc, StorageError):
        return None
    if isinstance(exc, pg.IntegrityConstraintViolationError):
        return ConflictError(str(exc))
    if is_connection_lost(exc):
        return ConnectionLostError(f"database connection lost or refused: {exc or type(exc).__name__}")
    if isinstance(exc, _RETRIABLE):
        return BusyError(f"database is busy: {exc}")
    if isinstance(exc, (pg.DataError, UnicodeEncodeError, OverflowError)):
        return InvalidValueError(f"cannot store value: {exc}")
    if isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError)):
        return StorageError(f"database error: {exc}")
    return None


@asynccontextmanager
async def typed_errors(pool: asyncpg.Pool | None = None) -> AsyncIterator[None]:
    """Around every use of a pooled connection: raise the typed error, and on a lost connection
    have `pool` replace all its connections at their next use."""
    try:
        yield
    except BaseException as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        if pool is not None and is_connection_lost(exc):
            await pool.expire_connections()
        raise mapped from exc
