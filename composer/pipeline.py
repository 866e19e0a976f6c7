"""The whole pipeline: request → plan → melody → arrangement → MIDI → audio → files.

`Composer` owns what is expensive to load (the melody engine, the synth) and is reused across
requests: the CLI makes one per process, the bot's worker keeps one for its lifetime.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from composer.arrange import arrange
from composer.catalog import Catalog, default_catalog
from composer.formats.description import describe, text_file
from composer.audio.encode import write_audio
from composer.errors import InvalidRequest
from composer.melody import MelodyEngine, get_engine
from composer.formats.midi import midi_bytes
from composer.audio.mix import MixSettings, mix, mix_with_stems
from composer.formats.piano_roll import draw_piano_roll
from composer.plan import Plan, make_plan
from composer.audio.render import render_buses
from composer.request import SEED_RANGE, CompositionRequest
from composer.music.score import Score
from composer.sing import prepare as prepare_vocals
from composer.sing import with_syllable_plan

log = logging.getLogger(__name__)


@dataclass
class Composition:
    """One finished piece: what was asked, what was made, where the files are, how long it took."""

    request: CompositionRequest
    plan: Plan
    score: Score
    midi: bytes
    description: str
    engine: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    sung: Any = None  # composer.sing.SungLine when a voice sings the lyrics
    stems_audio: dict[str, Any] = field(default_factory=dict)  # "vocals"/"accompaniment" audio of a sung piece

    def to_manifest(self) -> dict[str, Any]:
        return {
            "request": self.request.to_manifest(),
            "files": {k: str(v) if not isinstance(v, dict) else {n: str(p) for n, p in v.items()}
                      for k, v in self.files.items()},
            "description": self.description,
            "engine": self.engine,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


def mix_settings(plan: Plan) -> MixSettings:
    """Effects for a plan: the voice colours the lead, the larger of theme and voice reverb wins."""
    return MixSettings(
        lead_effects=plan.voice.spec.get("effects", {}),
        reverb=max(plan.theme.spec.get("effects", {}).get("reverb", 0.3),
                   plan.voice.spec.get("effects", {}).get("reverb", 0.0)),
        tempo=plan.tempo,
    )


def draw_seed() -> int:
    return secrets.randbelow(SEED_RANGE[1])


def slug(text: str, max_words: int = 6) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    return "-".join(words)[:48].strip("-") or "muse"


def _write_atomic(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


class Composer:
    def __init__(self, catalog: Catalog | None = None, engines: dict[str, MelodyEngine] | None = None):
        self.catalog = catalog or default_catalog()
        self._engines: dict[str, MelodyEngine] = dict(engines or {})

    def engine(self, name: str) -> MelodyEngine:
        if name not in self._engines:
            self._engines[name] = get_engine(name)
        return self._engines[name]

    # -- symbolic stages ---------------------------------------------------------------
    def compose_scores(self, requests: list[CompositionRequest],
                       catalog: Catalog | None = None) -> list[Composition]:
        """Plan, write melodies (batched per engine) and arrange; no audio yet."""
        catalog = catalog or self.catalog
        requests = [r if r.seed is not None else r.with_seed(draw_seed()) for r in requests]
        # a singing voice's plan carries its lyrics' syllables, so the melody is written for the words
        plans = [with_syllable_plan(make_plan(r, catalog.theme(r.theme), catalog.voice(r.voice), random.Random(r.seed)))
                 for r in requests]
        melodies: list[list] = [[] for _ in requests]
        by_engine: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            by_engine.setdefault(r.engine, []).append(i)
        infos: dict[str, dict[str, Any]] = {}
        for name, indexes in by_engine.items():
            engine = self.engine(name)
            written = engine.write([plans[i] for i in indexes], [requests[i].seed for i in indexes])
            for i, notes in zip(indexes, written):
                melodies[i] = notes
            infos[name] = engine.info.to_manifest()
        out = []
        for request, plan, melody in zip(requests, plans, melodies):
            score = arrange(plan, melody, request.seed)
            sung = prepare_vocals(plan, score)  # fills score.lyrics before the MIDI is written
            description = describe(plan, score) + (sung.describe() if sung else "")
            out.append(Composition(request, plan, score, midi_bytes(score), description,
                                   infos[request.engine], sung=sung))
        return out

    # -- audio and files -----------------------------------------------------------------
    def render(self, composition: Composition):
        """Master audio (float32 stereo) for a composed score."""
        plan, score = composition.plan, composition.score
        settings = mix_settings(plan)
        if composition.sung is not None:
            from composer.sing.mixdown import render_song

            song = render_song(score, composition.sung, plan.voice.name, settings)
            composition.stems_audio = {"vocals": song.vocals, "accompaniment": song.accompaniment}
            return song.master
        if composition.request.stems:  # the melody instrument and the band, for remixing elsewhere
            master, composition.stems_audio = mix_with_stems(render_buses(score, separate_lead=True), settings,
                                                             score.duration_s)
            return master
        buses = render_buses(score, separate_lead=settings.lead_needs_own_bus)
        return mix(buses, settings, score.duration_s)

    def write_files(self, composition: Composition, out_dir: Path, audio=None) -> dict[str, Any]:
        request, score = composition.request, composition.score
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{slug(request.prompt)}-{request.seed}"
        files: dict[str, Any] = {"midi": _write_atomic(out_dir / f"{stem}.mid", composition.midi)}
        if audio is not None and request.format in ("mp3", "ogg", "wav"):
            files["audio"] = write_audio(audio, out_dir / f"{stem}.{request.format}", request.format)
        if request.stems and composition.stems_audio:
            files["stems"] = {name: write_audio(part, out_dir / f"{stem}-{name}.wav", "wav")
                              for name, part in composition.stems_audio.items()}
        subtitle = (f"{request.theme} · {request.voice} · {score.key_name} · {request.tempo} BPM · "
                    f"{request.meter} · {round(score.duration_s)} s · seed {request.seed}")
        sections = [(s.name, s.start_bar * composition.plan.bar_quarters) for s in composition.plan.sections]
        files["image"] = draw_piano_roll(score, out_dir / f"{stem}.png", subtitle, sections)
        text = text_file(composition.plan, score, composition.description, composition.engine, request.seed)
        files["text"] = _write_atomic(out_dir / f"{stem}.txt", text.encode("utf-8"))
        return files

    def compose(self, request: CompositionRequest, out_dir: Path,
                understand_s: float = 0.0, catalog: Catalog | None = None) -> list[Composition]:
        """Compose the request (and its variations) into `out_dir`; one Composition per variation."""
        base_seed = request.seed if request.seed is not None else draw_seed()
        seeds = [(base_seed + i) % SEED_RANGE[1] for i in range(request.variations)]
        started = time.perf_counter()
        # all variations in one batch: the model writes their melodies in one pass
        compositions = self.compose_scores([replace(request, seed=seed) for seed in seeds], catalog)
        compose_s = (time.perf_counter() - started) / len(seeds)
        for composition in compositions:
            began = time.perf_counter()
            audio = self.render(composition) if request.format in ("mp3", "ogg", "wav") else None
            rendered = time.perf_counter()
            composition.files = self.write_files(composition, out_dir, audio)
            written = time.perf_counter()
            composition.timings_s = {
                "understand": understand_s,
                "compose": compose_s,
                "render": rendered - began,
                "encode": written - rendered,
                "total": understand_s + compose_s + written - began,
            }
            log.info("composed %s seed=%s in %.2fs", request.theme, composition.request.seed,
                     compose_s + written - began)
        return compositions


def check_output_dir(out_dir: Path) -> None:
    """Fail before composing if the output directory cannot be used, so nothing half-written remains."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidRequest(f"output path {out_dir} exists and is not a directory")
    parent = out_dir
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise InvalidRequest(f"output directory {out_dir} is not writable")
