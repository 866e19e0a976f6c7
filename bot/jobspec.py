"""What a stored job holds: the resolved request, where to reply, and what kind of job it is.

The payload is plain JSON (storage treats it as opaque), so a job survives a restart:
the next process rebuilds the request and the reply target from it. The interaction
token is not in here; storage keeps it in its own column, out of logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from composer.request import CompositionRequest

DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024

MODES = ("compose", "variation", "remix")


@dataclass(frozen=True)
class ReplyTo:
    """Where the answer goes: the interaction's original response, or a status message."""

    kind: str  # "interaction" (edit @original) or "message" (edit our status message)
    channel_id: int | None
    application_id: int | None = None
    message_id: int | None = None  # the status message, for kind "message"
    filesize_limit: int = DEFAULT_FILESIZE_LIMIT

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "channel_id": self.channel_id, "application_id": self.application_id,
                "message_id": self.message_id, "filesize_limit": self.filesize_limit}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ReplyTo":
        return cls(**{k: data.get(k) for k in ("kind", "channel_id", "application_id", "message_id")},
                   filesize_limit=int(data.get("filesize_limit") or DEFAULT_FILESIZE_LIMIT))


@dataclass(frozen=True)
class JobSpec:
    mode: str  # compose | variation | remix
    request: CompositionRequest  # seed already drawn, so a restart composes the same piece
    reply: ReplyTo
    parent_id: int | None = None  # the piece a variation or remix comes from
    changes: dict[str, Any] = field(default_factory=dict)  # remix: tempo, pitch, key, voice, theme

    def to_payload(self) -> dict[str, Any]:
        return {"mode": self.mode, "request": {**self.request.to_manifest(), "engine": self.request.engine,
                                               "notes": list(self.request.notes)},
                "reply": self.reply.to_json(), "parent_id": self.parent_id, "changes": dict(self.changes)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "JobSpec":
        data = dict(payload["request"])
        notes = tuple(data.pop("notes", ()) or ())
        request = CompositionRequest.from_manifest(data)
        if notes:
            from dataclasses import replace

            request = replace(request, notes=notes)
        return cls(mode=payload["mode"], request=request, reply=ReplyTo.from_json(payload["reply"]),
                   parent_id=payload.get("parent_id"), changes=dict(payload.get("changes") or {}))
