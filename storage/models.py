"""Plain dataclasses crossing the storage boundary: no SQL rows, no music theory.

Requests, theme specs and timings are opaque JSON-able dicts owned by `composer`.
Timestamps are timezone-aware UTC datetimes; Discord ids are ints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]


class Visibility(str, enum.Enum):
    """Who may see a custom theme besides its owner."""

    PRIVATE = "private"
    GUILD = "guild"
    PUBLIC = "public"


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str = ""
    preferences: JSON = field(default_factory=dict)  # e.g. default voice; opaque to storage
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Guild:
    id: int
    name: str = ""
    settings: JSON = field(default_factory=dict)  # e.g. per-guild limits; opaque to storage
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One output file of a composition; `path` is relative to MUSE_DATA_DIR."""

    kind: str  # "midi", "audio", "image", "text", "abc", "score" (the notes as JSON), ...
    path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewComposition:
    owner_id: int
    prompt: str
    request: JSON
    seed: int | None = None
    engine: str = ""
    checkpoint: str | None = None
    engine_version: str | None = None
    description: str = ""
    files: tuple[StoredFile, ...] = ()  # read back sorted by kind
    timings_s: dict[str, float] = field(default_factory=dict)
    guild_id: int | None = None
    channel_id: int | None = None
    parent_id: int | None = None  # the piece this one remixes or varies

    def file(self, kind: str) -> StoredFile | None:
        return next((f for f in self.files if f.kind == kind), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Composition(NewComposition):
    id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page of history, newest first; pass `next_before_id` to get the next page."""

    items: tuple[Composition, ...]
    next_before_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSavedTheme:
    owner_id: int
    name: str
    spec: JSON
    schema_version: int
    visibility: Visibility = Visibility.PRIVATE
    guild_id: int | None = None  # the server it belongs to when visibility is GUILD


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedTheme(NewSavedTheme):
    id: int
    share_code: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class JamSchedule:
    guild_id: int
    channel_id: int
    time_of_day: str  # "HH:MM", local to `timezone`
    timezone: str  # IANA name, e.g. "Europe/Paris"
    theme_pool: tuple[str, ...] = ()
    enabled: bool = True
    created_by: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JamRound:
    id: int
    guild_id: int
    round_key: str  # e.g. the local date "2025-03-14": one round per key, so restarts never double-post
    channel_id: int
    prompt: str
    theme: str | None
    message_id: int | None
    opens_at: datetime
    closes_at: datetime
    closed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class JamEntry:
    id: int
    round_id: int
    user_id: int
    composition_id: int | None
    message_id: int | None
    created_at: datetime
    votes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    requester_id: int
    payload: JSON  # the request and delivery details; opaque to storage
    kind: str = "compose"
    guild_id: int | None = None
    channel_id: int | None = None  # where to deliver if the interaction token has expired
    interaction_token: str | None = field(default=None, repr=False)  # a credential: keep out of logs
    token_expires_at: datetime | None = None
    delivery_key: str | None = None  # e.g. the interaction id: a second job with the same key is refused


@dataclass(frozen=True, slots=True, kw_only=True)
class Job(NewJob):
    id: int
    status: JobStatus
    attempts: int
    error: str | None
    composition_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    owner: str | None = None  # the bot process holding the job (scale-out mode); None with one process
    delivered_at: datetime | None = None  # set once, just before the piece is posted
