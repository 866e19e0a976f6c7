"""What a stored job holds: the resolved request, where to reply, and what kind of job it is.

The payload is plain JSON (storage treats it as opaque), so a job survives a restart:
the next process rebuilds the request and the reply target from it. The interaction
token is not in here; storage keeps it in its own column, out of logs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from composer import CompositionRequest, default_catalog, resolve_remix

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
    request: CompositionRequest  # resolved, seed drawn: a restart composes the same piece
    reply: ReplyTo
    parent_id: int | None = None  # the piece a variation or remix comes from
    parent_request: CompositionRequest | None = None  # remix: the parent's request (the piece may be deleted)
    priority: int = 0  # 0: a member asked; 1: background work (the jam's example) waits behind members
    jam_round_id: int | None = None  # the piece is the member's entry in this jam round

    def to_payload(self) -> dict[str, Any]:
        return {"mode": self.mode, "request": _request_json(self.request), "reply": self.reply.to_json(),
                "parent_id": self.parent_id,
                "parent_request": _request_json(self.parent_request) if self.parent_request else None,
                "priority": self.priority, "jam_round_id": self.jam_round_id}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "JobSpec":
        request = _request_from_json(payload["request"])
        parent = payload.get("parent_request")
        parent_request = _request_from_json(parent) if parent else None
        if payload["mode"] == "remix" and parent_request is None:  # stored before remixes were resolved once
            parent_request, request = request, resolve_remix(request, payload.get("changes") or {},
                                                             default_catalog())
        return cls(mode=payload["mode"], request=request, reply=ReplyTo.from_json(payload["reply"]),
                   parent_id=payload.get("parent_id"), parent_request=parent_request,
                   priority=int(payload.get("priority") or 0), jam_round_id=payload.get("jam_round_id"))


def _request_json(request: CompositionRequest) -> dict[str, Any]:
    return {**request.to_manifest(), "engine": request.engine, "stems": request.stems, "notes": list(request.notes)}


def _request_from_json(data: dict[str, Any]) -> CompositionRequest:
    values = dict(data)
    notes = tuple(values.pop("notes", ()) or ())
    return replace(CompositionRequest.from_manifest(values), notes=notes)
