"""The composer worker: owns the Composer and runs every blocking stage in the executor.

Composing is batched (`Composer.compose_scores` takes many requests in one pass, which is
where a neural model gains most); rendering, encoding, fitting and storing the files run
one job at a time on the same executor, never on the event loop.

Every finished piece also keeps its score as JSON (history file kind "score", never attached
or posted again), so a remix that only changes tempo, pitch or key starts from those notes.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, TypeVar

from composer.audio.upload_fit import fit_audio
from bot.remix import Remix, remix_of, retime
from composer.formats.abc_notation import melody_abc
from composer.audio.encode import AUDIO_FORMATS
from composer.errors import MuseError
from composer.pipeline import Composer, Composition
from composer.rearrange import rearrange
from composer.request import CompositionRequest
from composer.formats.score_json import score_from_json, score_to_json
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
    """A rendered piece: files stored for history, bytes to attach, and what was given up to fit."""

    composition: Composition
    stored: tuple[StoredFile, ...]
    attachments: dict[str, bytes]
    notes: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    abc: str | None = None  # the melody in ABC notation, for format "text"


class ComposerWorker:
    def __init__(self, composer: Composer, executor: Executor, artifacts: ArtifactStore, work_dir: Path):
        self.composer = composer
        self.executor = executor
        self.artifacts = artifacts
        self.work_dir = work_dir

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args))

    async def compose(self, requests: list[CompositionRequest]) -> tuple[list[Composition], float]:
        """Compose many requests in one batch; returns the pieces and the seconds it took."""
        started = time.perf_counter()
        pieces = await self._run(self.composer.compose_scores, requests)
        return pieces, time.perf_counter() - started

    async def remix(self, base: CompositionRequest, changes: dict[str, Any],
                    parent: Record | None = None) -> tuple[Composition, float]:
        """Remix `parent` (whose request is `base`): from its stored score when only tempo, pitch or
        key change, else (or when the score is missing or unusable) by composing again."""
        started = time.perf_counter()
        remix = remix_of(base, changes, self.composer.catalog)
        piece = None
        if remix.keeps_notes:
            piece = await self._run(self._keep_notes, base, remix, parent)
        if piece is None:
            (piece,) = await self._run(self.composer.compose_scores, [remix.request])
            if remix.tempo is not None:
                piece = retime(piece, remix.tempo)
        return piece, time.perf_counter() - started

    async def finish(self, piece: Composition, job_dir_name: str, limit_bytes: int) -> Finished:
        return await self._run(self._finish, piece, self.work_dir / job_dir_name, limit_bytes)

    async def read_files(self, stored: tuple[StoredFile, ...], stem: str) -> dict[str, bytes]:
        """Bytes of a stored piece's files for a re-post (files pruned by retention are skipped)."""
        return await self._run(self._read_files, stored, stem)

    # -- blocking --------------------------------------------------------------------------
    def _keep_notes(self, base: CompositionRequest, remix: Remix, parent: Record | None) -> Composition | None:
        """The remix from the parent's stored score; None (logged) when there is none to use."""
        which = f"#{parent.id}" if parent is not None else "(deleted)"
        stored = parent.file("score") if parent is not None else None
        if stored is None:
            log.info("remix of piece %s: no stored score, composing it again with its seed", which)
            return None
        try:
            if not self.artifacts.exists(stored.path):
                log.info("remix of piece %s: its score file was pruned, composing it again with its seed", which)
                return None
            score = score_from_json(self.artifacts.resolve(stored.path).read_bytes())
            engine = {"name": parent.engine, "checkpoint": parent.checkpoint, "version": parent.engine_version}
            return rearrange(score, base, remix.final_request, self.composer.catalog, engine)
        except (MuseError, StorageError, OSError) as exc:
            log.warning("remix of piece %s: stored score unusable (%s), composing it again with its seed", which, exc)
            return None

    def _finish(self, piece: Composition, job_dir: Path, limit_bytes: int) -> Finished:
        request = piece.request
        t0 = time.perf_counter()
        audio = self.composer.render(piece) if request.format in AUDIO_FORMATS else None
        t1 = time.perf_counter()
        try:
            paths = self.composer.write_files(piece, job_dir, audio)
            try:
                score_json = score_to_json(piece.score)
                paths["score"] = Path(paths["midi"]).with_suffix(".json")
                paths["score"].write_bytes(score_json)
            except MuseError as exc:  # the piece is still delivered; a remix of it composes again
                log.warning("score of %s not kept: %s", job_dir.name, exc)
            abc = None
            if request.format == "text":
                abc = melody_abc(piece.score)
                paths["abc"] = Path(paths["midi"]).with_suffix(".abc")
                paths["abc"].write_text(abc, encoding="utf-8")
            t2 = time.perf_counter()
            kinds = ATTACH_KINDS["audio" if audio is not None else request.format]
            attachments: dict[str, bytes] = {}
            notes: list[str] = []
            for kind in kinds:
                path = Path(paths[kind])
                data = path.read_bytes()
                name = path.name
                if kind == "audio":
                    data, fmt, note = fit_audio(data, audio, request.format, limit_bytes)
                    name = path.with_suffix(f".{fmt}").name
                    if note:
                        notes.append(note)
                    if not data:
                        continue
                elif len(data) > limit_bytes:
                    notes.append(f"{path.suffix} file left out: it is over Discord's upload limit")
                    continue
                attachments[name] = data
            stored = []
            for kind, path in paths.items():
                if isinstance(path, dict):
                    continue  # stems are not kept in history
                artifact = self.artifacts.put_file(Path(path))
                stored.append(StoredFile(kind, artifact.relative_path, artifact.sha256, artifact.size_bytes))
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)
        t3 = time.perf_counter()
        return Finished(piece, tuple(stored), attachments, notes,
                        {"render": t1 - t0, "encode": t2 - t1, "fit_and_store": t3 - t2}, abc)

    def _read_files(self, stored: tuple[StoredFile, ...], stem: str) -> dict[str, bytes]:
        out = {}
        for kind in REPOST_KINDS:
            for f in stored:
                if f.kind == kind and self.artifacts.exists(f.path):
                    out[f"{stem}{Path(f.path).suffix}"] = self.artifacts.resolve(f.path).read_bytes()
        return out
