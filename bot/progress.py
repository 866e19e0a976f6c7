"""Throttled progress edits: at most one edit per interval, always ending on the latest text.

A job's reply shows its queue position and stage. Positions change often under load, so
updates are coalesced; `close()` runs before delivery so a late progress edit can never
overwrite the finished piece.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from bot.tasks import spawn

log = logging.getLogger(__name__)

Edit = Callable[[str], Awaitable[Any]]


class Progress:
    def __init__(self, edit: Edit, interval_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self._edit = edit
        self._interval_s = interval_s
        self._clock = clock
        self._latest: str | None = None
        self._sent: str | None = None
        self._last_edit_at = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._editing = False
        self.edits = 0

    def update(self, text: str) -> None:
        if self._closed:
            return
        self._latest = text
        if self._task is None or self._task.done():
            self._task = spawn(self._flush(), name="progress-edit")

    async def _flush(self) -> None:
        while not self._closed and self._latest != self._sent:
            wait_s = self._last_edit_at + self._interval_s - self._clock()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
                continue
            text = self._latest
            self._last_edit_at = self._clock()
            self._editing = True
            try:
                await self._edit(text)
            except Exception as exc:  # progress is best effort; delivery decides what matters
                log.info("progress edit failed (%s); no more progress for this job", exc)
                self._closed = True
                return
            finally:
                self._editing = False
            self._sent = text
            self.edits += 1

    async def close(self) -> None:
        """Stop editing; wait out an edit already on the wire."""
        self._closed = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if not self._editing:  # asleep between edits: nothing on the wire, stop it now
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
