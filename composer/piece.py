"""What composing returns: a draft (the notes) and a finished piece (every file, as bytes).

Both the CLI and the bot get the same `Piece`; the CLI writes its files to a folder, the bot
uploads them and keeps them in history. Nothing outside `composer` renders or encodes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.errors import InvalidRequest
from composer.music.score import Score
from composer.plan import Plan
from composer.request import CompositionRequest

# File name suffix per artifact kind; "audio" takes the request's format.
SUFFIXES = {"midi": ".mid", "image": ".png", "text": ".txt", "abc": ".abc", "score": ".json"}
# The score JSON is for remixes; a person gets everything else.
MACHINE_KINDS = ("score",)


@dataclass
class Draft:
    """A composed score and everything known about it, before any audio exists."""

    request: CompositionRequest
    plan: Plan
    score: Score
    midi: bytes
    description: str
    engine: dict[str, Any]
    sung: Any = None  # composer.sing.SungLine when a voice sings the lyrics
    compose_s: float = 0.0  # this draft's share of the batch that composed it
    stages_s: dict[str, float] = field(default_factory=dict)  # plan, melody, arrange: shares of compose_s
    # a lone piece's band, rendering since before its melody was written (a Future of the band bus);
    # it stays in this process: a draft sent elsewhere renders its band when it is finished
    band_audio: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "band_audio": None}


@dataclass
class Piece:
    """A finished piece: the draft's facts plus every artifact in memory."""

    request: CompositionRequest
    score: Score
    description: str
    engine: dict[str, Any]
    artifacts: dict[str, bytes]  # kind → bytes: midi, audio, image, text, abc, score
    stems: dict[str, bytes] = field(default_factory=dict)  # "vocals"/"accompaniment" → WAV bytes
    audio_format: str | None = None  # the format of artifacts["audio"] (a fitted one may differ)
    fit_notes: tuple[str, ...] = ()  # what was given up to fit a size limit
    # understand, compose, render, encode, total; and the parts: plan + melody + arrange = compose,
    # sing (the voice, sung voices only) is inside render; picture is drawn beside render and encode
    timings_s: dict[str, float] = field(default_factory=dict)
    sung: Any = None  # the sung line (syllables on notes) when a voice sings

    @property
    def midi(self) -> bytes:
        return self.artifacts["midi"]

    @property
    def stem(self) -> str:
        return file_stem(self.request.prompt, self.request.seed)

    def filename(self, kind: str) -> str:
        suffix = f".{self.audio_format}" if kind == "audio" else SUFFIXES[kind]
        return self.stem + suffix

    def files(self) -> dict[str, tuple[str, bytes]]:
        """kind → (file name, bytes) of what a person gets, stems as "stem:<name>"."""
        out = {kind: (self.filename(kind), data) for kind, data in self.artifacts.items()
               if kind not in MACHINE_KINDS}
        out.update({f"stem:{name}": (f"{self.stem}-{name}.wav", data) for name, data in self.stems.items()})
        return out

    def write(self, out_dir: Path) -> dict[str, Any]:
        """Write the files into `out_dir` (each atomically); returns the manifest's `files` object."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written: dict[str, Any] = {}
        for kind, (name, data) in self.files().items():
            path = _write_atomic(out_dir / name, data)
            if kind.startswith("stem:"):
                written.setdefault("stems", {})[kind[5:]] = str(path)
            else:
                written[kind] = str(path)
        return written

    def to_manifest(self, files: dict[str, Any]) -> dict[str, Any]:
        return {"request": self.request.to_manifest(), "files": files, "description": self.description,
                "engine": self.engine, "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()}}


def file_stem(prompt: str, seed: int | None) -> str:
    """A piece's file name without suffix: the prompt's first words and the seed."""
    return f"{slug(prompt)}-{seed}"


def slug(text: str, max_words: int = 6) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    return "-".join(words)[:48].strip("-") or "muse"


def _write_atomic(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def check_output_dir(out_dir: Path) -> None:
    """Fail before composing if the output directory cannot be used, so nothing half-written remains."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidRequest(f"output path {out_dir} exists and is not a directory")
    parent = out_dir
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise InvalidRequest(f"output directory {out_dir} is not writable")
