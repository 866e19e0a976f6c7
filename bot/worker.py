"""The composer worker: asks the composer for pieces and keeps their bytes, never on the event loop.

Composing is batched (`Composer.compose_scores` takes many requests in one pass, which is where a
neural model gains most) on the composer thread; finishing (render and encode, inside `composer`)
and storing run on a pool of render threads, several pieces at once (each render borrows its own
synth, and the synth, NumPy and the encoders release the GIL). The bot only chooses what to attach
and what to keep: every artifact, the score JSON included, goes to history, so a remix that keeps
the notes starts there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from composer import AUDIO_FORMATS, Catalog, Composer, CompositionRequest, Draft, Piece, file_stem, resolve_remix, understand
from storage import ArtifactStore, StorageError, StoredFile
from storage import Composition as Record

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a delivery attaches, in order, per requested format.
ATTACH_KINDS = {"audio": ("audio", "midi", "image"), "midi": ("midi", "image"), "text": ("abc", "text", "midi")}
# What /history posts again; "score" (the notes as JSON, for remixes) and "text" stay in storage.
REPOST_KINDS = ("audio", "midi", "image", "abc")


@dataclass
class Finished:
    """A piece ready to deliver: files stored for history, bytes to attach, what was given up to fit."""

    piece: Piece
    stored: tuple[StoredFile, ...]
    attachments: dict[str, bytes]
    notes: list[str] = field(default_factory=list)

    @property
    def abc(self) -> str | None:
        data = self.piece.artifacts.get("abc")
        return data.decode("utf-8") if data is not None else None


def parent_engine(parent: Record | None) -> dict[str, Any] | None:
    """What composed a stored piece, as a remix that keeps its engine needs it."""
    if parent is None:
        return None
    return {"name": parent.engine, "checkpoint": parent.checkpoint, "version": parent.engine_version}


class ComposerWorker:
    def __init__(self, composer: Composer, executor: Executor, artifacts: ArtifactStore,
                 reader: Executor | None = None, renderers: Executor | None = None, render_threads: int = 1):
        self.composer = composer
        self.executor = executor  # model passes: one at a time, the model batches instead
        self.artifacts = artifacts
        self.reader = reader or executor  # understanding: a thread of its own in the bot
        self.renderers = renderers or executor  # finishing pieces: `render_threads` of them at once
        self.render_threads = render_threads if renderers is not None else 1

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args, **kwargs))

    async def understand(self, prompt: str, options: dict[str, Any], catalog: Catalog | None = None) -> CompositionRequest:
        """Resolve a request off the event loop (the embedding model is blocking work)."""
        return await self.think(understand, prompt, options, catalog or self.composer.catalog)

    async def resolve_remix(self, parent: CompositionRequest, changes: dict[str, Any],
                            catalog: Catalog | None = None) -> CompositionRequest:
        """Resolve a remix once, off the event loop (a new theme or voice goes through understanding)."""
        return await self.think(resolve_remix, parent, changes, catalog or self.composer.catalog)

    async def think(self, fn: Callable[..., T], *args: Any) -> T:
        """Quick blocking work a command waits on (understanding, reading an upload): the reader thread."""
        return await asyncio.get_running_loop().run_in_executor(self.reader, partial(fn, *args))

    async def compose(self, requests: list[CompositionRequest],
                      job_ids: Sequence[int | str | None] | None = None) -> tuple[list[Draft], float]:
        """Compose many requests in one batch; returns the drafts and the seconds it took. (`job_ids`,
        one per request, name the jobs in a remote composer's logs; here the log has them already.)"""
        started = time.perf_counter()
        drafts = await self._run(self.composer.compose_scores, requests)
        return drafts, time.perf_counter() - started

    async def remix(self, request: CompositionRequest, parent: Record | None,
                    parent_request: CompositionRequest) -> Draft:
        """The remix `request` of `parent` (deleted: None), from its stored score when it keeps the notes."""
        return await self._run(self._remix, request, parent, parent_request)

    async def finish(self, draft: Draft, limit_bytes: int) -> Finished:
        """Render, encode and store one piece on a render thread (the runner keeps at most
        `render_threads` of these under way)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.renderers, partial(self._finish, draft, limit_bytes))

    async def read_files(self, record: Record) -> dict[str, bytes]:
        """Bytes of a stored piece's files for a re-post (files pruned by retention are skipped)."""
        return await self._run(self._read_files, record.files, file_stem(record.prompt, record.seed))

    # -- blocking --------------------------------------------------------------------------
    def _remix(self, request: CompositionRequest, parent: Record | None, parent_request: CompositionRequest) -> Draft:
        return self.composer.remix(parent_request, request, self._stored_score(parent), parent_engine(parent))

    def _stored_score(self, parent: Record | None) -> bytes | None:
        """The parent's score JSON; None (logged) when it was never kept, was pruned or cannot be read."""
        which = f"#{parent.id}" if parent is not None else "(deleted)"
        stored = parent.file("score") if parent is not None else None
        try:
            if stored is not None and self.artifacts.exists(stored.path):
                return self.artifacts.resolve(stored.path).read_bytes()
        except (StorageError, OSError) as exc:
            log.warning("remix of piece %s: stored score unreadable (%s)", which, exc)
            return None
        log.info("remix of piece %s: no stored score; a remix that keeps the notes composes it again", which)
        return None

    def _finish(self, draft: Draft, limit_bytes: int) -> Finished:
        return self._keep(self.composer.finish(draft, size_limit_bytes=limit_bytes), limit_bytes)

    def _keep(self, piece: Piece, limit_bytes: int) -> Finished:
        """Choose what to attach and store every artifact; shared with the composer tier's worker,
        whose pieces are finished on a replica."""
        started = time.perf_counter()
        notes = list(piece.fit_notes)
        attachments: dict[str, bytes] = {}
        for kind in ATTACH_KINDS["audio" if piece.request.format in AUDIO_FORMATS else piece.request.format]:
            data = piece.artifacts.get(kind)
            if data is None:
                continue  # audio that could not fit at all: the fit note says so
            if len(data) > limit_bytes:
                notes.append(f"{Path(piece.filename(kind)).suffix} file left out: it is over Discord's upload limit")
                continue
            attachments[piece.filename(kind)] = data
        stored = []
        for kind, data in piece.artifacts.items():
            artifact = self.artifacts.put_bytes(data, suffix=Path(piece.filename(kind)).suffix)
            stored.append(StoredFile(kind, artifact.relative_path, artifact.sha256, artifact.size_bytes))
        piece.timings_s["store"] = time.perf_counter() - started
        return Finished(piece, tuple(stored), attachments, notes)

    def _read_files(self, stored: tuple[StoredFile, ...], stem: str) -> dict[str, bytes]:
        out = {}
        for kind in REPOST_KINDS:
            for f in stored:
                if f.kind == kind and self.artifacts.exists(f.path):
                    out[f"{stem}{Path(f.path).suffix}"] = self.artifacts.resolve(f.path).read_bytes()
        return out
