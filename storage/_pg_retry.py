"""Riding out a PostgreSQL restart: repository calls that lost their connection are tried again.

A restart or failover drops every connection and refuses new ones for a moment; without this,
each job step that touched the database then would fail its job. Each repository method is one
transaction, and a server that stops rolls back what it had not committed, so calling the method
again is safe. The one call that cannot be sure is one whose COMMIT was lost in flight; the
job table's own guards (conditional status updates, the delivery key, `mark_delivered`) keep
that from running or posting a job twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from storage.errors import ConnectionLostError

log = logging.getLogger(__name__)

T = TypeVar("T")

RECONNECT_S = 60.0  # how long a call keeps trying before it gives up and raises
_FIRST_DELAY_S = 0.05
_MAX_DELAY_S = 1.0


def patient(method: Callable[..., Awaitable[T]], within_s: float = RECONNECT_S) -> Callable[..., Awaitable[T]]:
    """`method`, tried again with backoff while the server is unreachable, for up to `within_s`."""

    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> T:
        deadline = time.monotonic() + within_s
        delay = _FIRST_DELAY_S
        while True:
            try:
                return await method(*args, **kwargs)
            except ConnectionLostError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("%s: %s; trying again in %.2f s", method.__qualname__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY_S)

    return call


def make_patient(repo: object, within_s: float = RECONNECT_S) -> None:
    """Wrap every public coroutine method of one repository instance."""
    for name, member in inspect.getmembers(type(repo), inspect.iscoroutinefunction):
        if not name.startswith("_"):
            setattr(repo, name, patient(getattr(repo, name), within_s))
