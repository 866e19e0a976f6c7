"""Gateway sessions and which one an event goes to.

Each IDENTIFY opens a session for one shard ``[id, count]`` (no ``shard`` field
means ``[0, 1]``). Discord routes a guild's events to shard
``(guild_id >> 22) % count`` and DMs to shard 0; the stand-in does the same, so
two bot processes running different shards each see only their own guilds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .snowflake import shard_of

Shard = tuple[int, int]  # (shard id, shard count)


@dataclass
class Session:
    id: str
    intents: int
    shard: Shard = (0, 1)
    seq: int = 0
    sent: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame) for resume replay
    ws: web.WebSocketResponse | None = None
    identifies: int = 1
    resumes: int = 0
    guild_ids: list[int] = field(default_factory=list)  # the guilds its READY listed

    @property
    def live(self) -> bool:
        return self.ws is not None and not self.ws.closed

    def routes(self, guild_id: int | None) -> bool:
        """Whether Discord would send this guild's events (None: a DM) down this session."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))


class Sessions:
    """Every session by id, the newest one per shard, and ``current`` (the last to identify or resume)."""

    def __init__(self) -> None:
        self.by_id: dict[str, Session] = {}
        self.by_shard: dict[Shard, Session] = {}  # newest last: a re-identified shard moves to the end
        self.current: Session | None = None

    def add(self, session: Session) -> None:
        self.by_id[session.id] = session
        self.by_shard.pop(session.shard, None)
        self.by_shard[session.shard] = session
        self.current = session

    def live_on(self, shard: Shard) -> Session | None:
        """The session that holds ``shard`` with a connection still open, if any."""
        session = self.by_shard.get(shard)
        return session if session is not None and session.live else None

    def route(self, guild_id: int | None) -> Session | None:
        """The session a guild's (or a DM's) events go to; the newest such session wins."""
        for session in reversed(self.by_shard.values()):
            if session.routes(guild_id):
                return session
        return None

    def on_shard(self, shard_id: int | None) -> Session | None:
        """The newest session of shard ``shard_id`` (``None``: ``current``)."""
        if shard_id is None:
            return self.current
        return next((s for s in reversed(self.by_shard.values()) if s.shard[0] == shard_id), None)

    def detach(self, ws: web.WebSocketResponse) -> None:
        for session in self.by_id.values():
            if session.ws is ws:
                session.ws = None

    def of(self, ws: web.WebSocketResponse) -> Session | None:
        return next((s for s in self.by_id.values() if s.ws is ws), None)


def parse_shard(value: object) -> Shard | None:
    """``[id, count]`` from IDENTIFY (absent: ``(0, 1)``); None when Discord would refuse it (4010)."""
    if value is None:
        return (0, 1)
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(type(v) is int for v in value):
        return None
    shard_id, count = value
    return (shard_id, count) if count >= 1 and 0 <= shard_id < count else None
