"""The few SQL differences between SQLite and PostgreSQL, kept in one place.

Repositories write one SQL text for both databases; where the two must differ (row locks that
let several processes share the job table, transaction-scoped locks on a key) they ask
`db.dialect` for the snippet instead of keeping two copies of a query.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    # Appended to a SELECT that picks rows to change: rows another transaction holds are passed
    # over instead of waited for. SQLite needs none: its write transaction locks the whole file.
    skip_locked: str
    # A statement taking a lock on one text key until the transaction ends, so two processes
    # checking the same limit take turns. None where `write()` already serialises all writers.
    key_lock: str | None


SQLITE = Dialect(name="sqlite", skip_locked="", key_lock=None)
POSTGRES = Dialect(
    name="postgresql",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    key_lock="SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
)
