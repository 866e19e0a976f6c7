"""The whole pipeline: request → plan → melody → arrangement → draft → audio and files → piece.

`Composer` owns what is expensive to load (the melody engines, the synth) and is reused across
requests: the CLI makes one per process, the bot's worker keeps one for its lifetime. Composing
is split in two so a server can batch the model (`compose_scores` takes many requests) and still
finish, cancel or time out each piece on its own (`finish`).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from composer.arrange import arrange, arrange_band, band_score
from composer.audio.encode import encode_audio
from composer.audio.mix import MixSettings, mix, mix_with_stems
from composer.audio.render import render_buses, render_tracks, synth_free
from composer.audio.upload_fit import fit_audio
from composer.catalog import Catalog, default_catalog
from composer.errors import MuseError
from composer.formats.abc_notation import melody_abc
from composer.formats.description import describe, text_file
from composer.formats.midi import midi_bytes
from composer.formats.piano_roll import draw_piano_roll
from composer.formats.score_json import score_to_json
from composer.melody import MelodyEngine, get_engine
from composer.music.score import Score
from composer.options import AUDIO_FORMATS
from composer.piece import Draft, Piece
from composer.plan import Plan, make_plan
from composer.request import CompositionRequest
from composer.sing import prepare as prepare_vocals
from composer.sing import with_syllable_plan

log = logging.getLogger(__name__)


_SIDE = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="muse-documents")


class _Clock:
    """Seconds per named stage, lap after lap."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._last
        self._last = now


def mix_settings(plan: Plan) -> MixSettings:
    """Effects for a plan: the voice colours the lead, the larger of theme and voice reverb wins."""
    return MixSettings(
        lead_effects=plan.voice.spec.get("effects", {}),
        reverb=max(plan.theme.spec.get("effects", {}).get("reverb", 0.3),
                   plan.voice.spec.get("effects", {}).get("reverb", 0.0)),
        tempo=plan.tempo,
    )


def draft_of(request: CompositionRequest, plan: Plan, score: Score, engine: dict[str, Any]) -> Draft:
    """A draft from an arranged score: the words set (when a voice sings), MIDI and description."""
    sung = prepare_vocals(plan, score)  # fills score.lyrics before the MIDI is written
    description = describe(plan, score) + (sung.describe() if sung else "")
    return Draft(request, plan, score, midi_bytes(score), description, dict(engine), sung=sung)


class Composer:
    def __init__(self, catalog: Catalog | None = None, engines: dict[str, MelodyEngine] | None = None,
                 early_band: bool = True):
        self.catalog = catalog or default_catalog()
        # render a lone piece's band while its melody is written; off where drafts leave the process
        # between composing and finishing (the composer tier), which would render the band twice
        self.early_band = early_band
        self._engines: dict[str, MelodyEngine] = dict(engines or {})
        self._engine_lock = threading.Lock()  # a background preload and a request never load one twice

    def engine(self, name: str) -> MelodyEngine:
        with self._engine_lock:
            if name not in self._engines:
                self._engines[name] = get_engine(name)
            return self._engines[name]

    def warm_up(self, engine: str) -> None:
        """Load what understanding needs (the sentence-embedding model), the melody engine and the
        synth, so neither a server's first answer nor its first piece waits on them."""
        from composer.audio.render import borrow_synth
        from composer.understanding.understand import understand

        understand("warm up", {}, self.catalog)
        self.engine(engine)
        with borrow_synth():
            pass

    def preload(self, engine: str) -> None:
        """Start loading the synth and the melody engine in the background while the caller
        understands the prompt: a one-piece process (`muse compose`) waits on neither afterwards.
        A load that fails there is tried again, and reported, when the piece needs it."""
        from composer.audio.render import preload_synth
        from composer.melody import ENGINES

        preload_synth()
        if engine not in ENGINES:
            return  # understanding names the mistake
        threading.Thread(target=self._preload_engine, args=(engine,), name="muse-engine-load", daemon=True).start()

    def _preload_engine(self, name: str) -> None:
        try:
            self.engine(name)
        except Exception:  # noqa: BLE001 - compose_scores loads it again and raises the error itself
            log.debug("background load of the %s engine failed", name, exc_info=True)

    # -- whole pieces ----------------------------------------------------------------------
    def compose(self, request: CompositionRequest, understand_s: float = 0.0,
                size_limit_bytes: int | None = None) -> list[Piece]:
        """The request and its variations, finished; the model writes all their melodies in one pass."""
        # each variation's manifest still says how many were asked for
        drafts = self.compose_scores([replace(r, variations=request.variations)
                                      for r in request.variation_requests()])
        pieces = [self.finish(d, size_limit_bytes=size_limit_bytes) for d in drafts]
        for piece in pieces:
            piece.timings_s = {"understand": understand_s, **piece.timings_s,
                               "total": understand_s + piece.timings_s["total"]}
        return pieces

    def remix(self, parent: CompositionRequest, request: CompositionRequest, stored_score: bytes | None = None,
              engine: dict[str, Any] | None = None) -> Draft:
        """The remix `request` of the piece `parent` made (see composer.remix for which keep the notes)."""
        from composer.remix import remix_draft

        started = time.perf_counter()
        draft = remix_draft(self.compose_scores, self.catalog, parent, request, stored_score, engine)
        draft.compose_s = time.perf_counter() - started
        return draft

    # -- symbolic stages ---------------------------------------------------------------------
    def compose_scores(self, requests: list[CompositionRequest], catalog: Catalog | None = None) -> list[Draft]:
        """Plan, write melodies (batched per engine) and arrange; no audio yet."""
        clock = _Clock()
        catalog = catalog or self.catalog
        requests = [r.seeded() for r in requests]
        # a singing voice's plan carries its lyrics' syllables, so the melody is written for the words
        plans = [with_syllable_plan(make_plan(r, catalog.theme_of(r), catalog.voice(r.voice), random.Random(r.seed)))
                 for r in requests]
        clock.lap("plan")
        # a lone piece's band does not wait for its melody: it renders on the other core meanwhile
        early = self._start_band(requests[0], plans[0]) if self.early_band and len(requests) == 1 else None
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
        clock.lap("melody")
        drafts = [draft_of(r, plan, arrange(plan, melody, r.seed, early[0] if early else None), infos[r.engine])
                  for r, plan, melody in zip(requests, plans, melodies)]
        if early:
            drafts[0].band_audio = early[1]
        clock.lap("arrange")
        shares = {stage: seconds / max(1, len(drafts)) for stage, seconds in clock.laps.items()}
        for draft in drafts:
            draft.stages_s = dict(shares)
            draft.compose_s = sum(shares.values())
        return drafts

    @staticmethod
    def _start_band(request: CompositionRequest, plan: Plan) -> tuple[list, Any] | None:
        """The band's tracks, and their rendering started on a side thread (a Future of the bus);
        None when the piece will not render a plain band bus (no audio, stems, a singing voice), or
        when every synth is busy rendering other pieces (a loaded server gains nothing from it)."""
        if request.format not in AUDIO_FORMATS or request.stems or plan.voice.sings or not synth_free():
            return None
        band = arrange_band(plan, request.seed)
        return band, _SIDE.submit(render_tracks, band_score(plan, band), band)

    # -- audio and files ---------------------------------------------------------------------
    def render(self, draft: Draft) -> np.ndarray:
        """Master audio (float32 stereo) for a draft."""
        master, _, _ = self._render(draft, stems=False)
        return master

    def _render(self, draft: Draft, stems: bool) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
        """(master, stems, seconds of it spent singing)."""
        plan, score = draft.plan, draft.score
        settings = mix_settings(plan)
        if draft.sung is not None:
            from composer.sing.mixdown import render_song

            song = render_song(score, draft.sung, plan.voice.name, settings)
            return song.master, {"vocals": song.vocals, "accompaniment": song.accompaniment}, song.sing_s
        if stems:  # the melody instrument and the band, for remixing elsewhere
            return (*mix_with_stems(render_buses(score, separate_lead=True), settings, score.duration_s), 0.0)
        if draft.band_audio is not None:  # rendered while the melody was written: only the lead is left
            band = draft.band_audio.result()
            buses = {"band": band, "lead": render_tracks(score, [t for t in score.tracks if t.bus == "lead"])}
        else:
            buses = render_buses(score, separate_lead=settings.lead_needs_own_bus)
        return mix(buses, settings, score.duration_s), {}, 0.0

    def finish(self, draft: Draft, *, size_limit_bytes: int | None = None) -> Piece:
        """Render and encode every artifact of a draft. With a size limit, the audio is fitted under it
        (a lower bitrate, then a shorter preview) and the piece says what was given up."""
        request = draft.request
        began = time.perf_counter()
        # the picture and the documents need no audio: drawn on a side thread while FluidSynth and
        # the encoder (which release the GIL) work on this one
        documents_done = _SIDE.submit(self._documents, draft)
        audio, stems, sing_s = (self._render(draft, request.stems) if request.format in AUDIO_FORMATS
                                else (None, {}, 0.0))
        rendered = time.perf_counter()
        artifacts = {"midi": draft.midi}
        audio_format, fit_notes = None, ()
        if audio is not None:
            data = encode_audio(audio, request.format)
            audio_format = request.format
            if size_limit_bytes is not None:
                data, audio_format, note = fit_audio(data, audio, request.format, size_limit_bytes)
                fit_notes = (note,) if note else ()
            if data:
                artifacts["audio"] = data
        documents, picture_s = documents_done.result()
        artifacts.update(documents)
        stem_bytes = {name: encode_audio(part, "wav") for name, part in stems.items()} if request.stems else {}
        encoded = time.perf_counter()
        timings = {"compose": draft.compose_s, "render": rendered - began, "encode": encoded - rendered}
        timings["total"] = sum(timings.values())
        timings.update(draft.stages_s)
        if sing_s:
            timings["sing"] = sing_s
        timings["picture"] = picture_s
        log.info("composed %s seed=%s in %.2fs", request.theme, request.seed, timings["total"])
        return Piece(request, draft.score, draft.description, draft.engine, artifacts, stem_bytes,
                     audio_format, fit_notes, timings, draft.sung)

    @staticmethod
    def _documents(draft: Draft) -> tuple[dict[str, bytes], float]:
        """The picture, the text file, the score JSON (for remixes) and, for format text, the ABC melody;
        and the seconds the picture took."""
        request, score, plan = draft.request, draft.score, draft.plan
        started = time.perf_counter()
        subtitle = (f"{request.theme} · {request.voice} · {score.key_name} · {request.tempo} BPM · "
                    f"{request.meter} · {round(score.duration_s)} s · seed {request.seed}")
        sections = [(s.name, s.start_bar * plan.bar_quarters) for s in plan.sections]
        out = {"image": draw_piano_roll(score, subtitle, sections)}
        picture_s = time.perf_counter() - started
        out |= {"text": text_file(plan, score, draft.description, draft.engine, request.seed).encode("utf-8")}
        try:
            out["score"] = score_to_json(score)
        except MuseError as exc:  # the piece is still delivered; a remix of it composes again
            log.warning("score of %s not kept: %s", request.prompt[:40], exc)
        if request.format == "text":
            out["abc"] = melody_abc(score).encode("utf-8")
        return out, picture_s
