"""What the bot did, in order, and bounded waits on it.

Every write the bot makes (interaction callbacks, edits, followups, channel
messages, reactions) becomes a ``Delivery``; every request the stand-in
refused becomes a ``Rejection``; every Gateway event sent becomes a
``Dispatched`` naming the shard connection it went to. Tests wait on
predicates over these lists.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .models import Attachment, Message


@dataclass
class Delivery:
    """One accepted write by the bot.

    ``kind`` is one of: ``callback``, ``edit_original``, ``delete_original``,
    ``followup``, ``edit_followup``, ``delete_followup``, ``message``,
    ``edit_message``, ``delete_message``, ``reaction``, ``typing``.
    ``message`` is a snapshot of the message right after this write.
    """

    kind: str
    route: str
    payload: dict[str, Any]
    files: list[Attachment]
    message: Message | None = None
    interaction_id: int | None = None
    channel_id: int | None = None
    callback_type: int | None = None
    at: float = field(default_factory=time.monotonic)

    # Shortcuts a test reaches for; they read the message as it stood after this write.
    @property
    def content(self) -> str:
        return self.message.content if self.message else self.payload.get('content') or ''

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else self.payload.get('embeds', [])

    @property
    def attachments(self) -> dict[str, bytes]:
        """Filename → bytes of all attachments on the message after this write."""
        return self.message.files if self.message else {}

    @property
    def uploaded(self) -> dict[str, bytes]:
        """Filename → bytes of the files uploaded in this very request."""
        return {a.filename: a.data for a in self.files}

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.payload.get('allowed_mentions')

    @property
    def pings(self) -> dict[str, Any]:
        return self.message.pings if self.message else {}

    @property
    def ephemeral(self) -> bool:
        flags = self.payload.get('flags', self.payload.get('data', {}).get('flags', 0)) or 0
        return bool(flags & 64) or bool(self.message and self.message.ephemeral)


@dataclass
class Rejection:
    """A request the stand-in answered with an error (fault, 413, expired token, ...)."""

    route: str
    method: str
    path: str
    status: int
    code: int
    reason: str
    interaction_id: int | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Dispatched:
    """One Gateway event and the shard connection (session) it was sent, or queued, to."""

    event: str
    shard: tuple[int, int]  # [shard id, shard count] the session identified with
    session_id: str
    seq: int
    guild_id: int | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class SyncCall:
    """One request that wrote application commands (``PUT`` bulk overwrite or ``POST`` one command).

    Every bot process sends the same token, so nothing in the request says which shard's process
    made it; ``peer`` (the caller's host:port) tells two HTTP clients apart, and the count is what a
    test of "only one process syncs" checks.
    """

    route: str
    guild_id: int | None
    names: list[str]
    peer: str
    at: float = field(default_factory=time.monotonic)


class Recorder:
    """Append-only logs plus a condition to wait on them; waits always have a timeout."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.rejections: list[Rejection] = []
        self.unhandled: list[str] = []
        self.dispatches: list[Dispatched] = []
        self.sync_calls: list[SyncCall] = []
        self._changed = asyncio.Condition()

    async def add_delivery(self, delivery: Delivery) -> None:
        if delivery.message is not None:
            delivery.message = copy.deepcopy(delivery.message)
        self.deliveries.append(delivery)
        await self.notify()

    async def add_rejection(self, rejection: Rejection) -> None:
        self.rejections.append(rejection)
        await self.notify()

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait until ``check()`` returns something truthy, or raise TimeoutError naming ``what``."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    result = check()
                    while not result:
                        await self._changed.wait()
                        result = check()
                    return result
            except TimeoutError:
                raise TimeoutError(f'timed out after {timeout}s waiting for {what}') from None

    async def wait_delivery(
        self, predicate: Callable[[Delivery], bool], timeout: float, what: str = 'a delivery', since: int = 0
    ) -> Delivery:
        def check() -> Delivery | None:
            return next((d for d in self.deliveries[since:] if predicate(d)), None)

        return await self.wait_until(check, timeout, what)
