"""The neural melody engine: the trained transformer writes the tune, the plan steers it.

Each distinct section (verse, chorus, bridge, ending) is written once, in order, as one tune; a
returning section repeats its first statement note for note (the model, asked to write it again,
does not recall it: see `_layout`). Intro bars are left to the band.
"""

from __future__ import annotations

import os
import random
import re
import threading
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from composer.melody import EngineInfo
from composer.melody.rhythm import beat_strength, grid_step, sung_rhythm
from composer.model.chords import quality_of
from composer.model.fast import fast_model
from composer.model.model import CheckpointError, read_checkpoint
from composer.model.paths import CHECKPOINT_DIR
from composer.model.sample import BarSpec, MelodySpec, generate
from composer.model.tokenizer import PITCH_HIGH, PITCH_LOW, TICKS_PER_QUARTER, Tokenizer, density_bin
from composer.plan import Plan, Section
from composer.music.score import Note

DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "melody"
CENTRE_PITCH = 67  # the tonic-relative register the model was trained around
DEFAULT_STYLE = "folk"  # corpus style for a theme whose melody names none (themes set melody.style)
# Meters the corpus has enough tunes in; others borrow the nearest one's header token (the bar
# length itself is enforced by the sampler whatever the token says).
TRAINED_METERS = ("2/4", "3/4", "4/4", "6/8", "6/4", "9/8", "3/8")
# Every theme's sampling temperature is multiplied by this, and top-p is this unless a theme sets
# it (both chosen on validation tunes and requests the reported evaluation does not use).
TEMPERATURE_SCALE = 1.0
TOP_P = 0.95
# Theme density (≈ notes per pulse) → the tokenizer's notes-per-quarter bins.
_DENSITY_PER_QUARTER = 1.3
_TOKEN_MARGIN = 1.3  # the model often writes busier bars than the density asks: room for 30% more notes


def checkpoint_exists(folder: Path = DEFAULT_CHECKPOINT) -> bool:
    return (folder / "model.safetensors").exists()


def model_device() -> str:
    """MUSE_MODEL_DEVICE, or by default a GPU when there is one (a GPU replica of the composer tier)
    and the CPU otherwise. The CPU path is the one every fingerprint is recorded on; it runs in
    NumPy, so torch is imported only to look for (and use) a GPU."""
    chosen = os.environ.get("MUSE_MODEL_DEVICE", "auto").strip().lower() or "auto"
    if chosen == "auto":
        return "cuda" if _gpu_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", chosen):
        raise CheckpointError(f"MUSE_MODEL_DEVICE must be auto, cpu, cuda or cuda:N, got {chosen!r}")
    if chosen.startswith("cuda") and not _gpu_available():
        raise CheckpointError(f"MUSE_MODEL_DEVICE is {chosen}, but torch sees no GPU here")
    return chosen


def _gpu_available() -> bool:
    """Whether torch sees a GPU; without importing torch where it cannot (its CPU-only build, or no
    NVIDIA device node), so a CPU host's cold start stays free of it."""
    from importlib import metadata

    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return False
    if version.endswith("+cpu") or not any(Path("/dev").glob("nvidia[0-9]*")):
        return False
    import torch

    return torch.cuda.is_available()


class ModelEngine:
    """Writes melodies with the trained checkpoint; one instance owns the loaded weights."""

    def __init__(self, checkpoint: Path = DEFAULT_CHECKPOINT, device: str | None = None):
        if not checkpoint_exists(checkpoint):
            raise CheckpointError(f"no melody model at {checkpoint}; train one with `muse train` "
                                  "or use --engine rules")
        state, self.config, self.tokenizer, meta = read_checkpoint(checkpoint)
        self.fast = fast_model(state, self.config, device or model_device())
        step = meta.get("training", {}).get("step", "?")
        try:
            shown = str(checkpoint.relative_to(CHECKPOINT_DIR.parent.parent))
        except ValueError:
            shown = str(checkpoint)
        self.info = EngineInfo(name="model", version=f"gpt2-{self.config.n_layer}x{self.config.n_embd}-step{step}",
                               checkpoint=shown)
        self._lock = threading.Lock()  # one forward pass at a time; callers batch instead
        self.temperature_scale, self.top_p = TEMPERATURE_SCALE, TOP_P

    def write(self, plans: list[Plan], seeds: list[int]) -> list[list[Note]]:
        room = self.config.n_positions
        layouts = [_layout(plan, room) for plan in plans]
        specs = [_spec(plan, layout, self.tokenizer, seed, self.temperature_scale, self.top_p)
                 for plan, layout, seed in zip(plans, layouts, seeds)]
        with self._lock, _one_thread():
            sequences = generate(self.fast, self.tokenizer, specs)
        return [_notes(plan, layout, self.tokenizer.decode(seq, plan.bar_quarters))
                for plan, layout, seq in zip(plans, layouts, sequences)]


_BLAS: list = []  # one threadpoolctl controller, made on first use (it scans the loaded libraries)


@contextmanager
def _one_thread():
    """Sampling is many tiny matrix products: extra BLAS threads only add synchronisation (on a busy
    2-core machine a 30 s piece took 12 s with two threads, 0.5 s with one)."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


def _layout(plan: Plan, room: int) -> list[tuple[Section, int | None]]:
    """Sections the tune covers, each with the index of the earlier section it repeats (None: the
    model writes it). A returning section repeats its first statement: written again by the model
    (with the first statement in its context) it kept few of its notes, so a chorus would not come
    back as the same chorus. `room` caps what the model writes."""
    body = [s for s in plan.sections if s.name != "intro"]
    first: dict[tuple, int] = {}
    layout: list[tuple[Section, int | None]] = []
    for i, section in enumerate(body):
        key = (section.name, section.bars, section.chords)
        if plan.syllables is not None:  # a sung section returns only with the same syllable pattern
            key += tuple((p.start_bar - section.start_bar, p.pattern)
                         for p in plan.syllables.in_bars(section.start_bar, section.end_bar))
        layout.append((section, first.get(key) if i < len(body) - 1 else None))
        first.setdefault(key, i)
    per_bar = _expected_tokens_per_bar(plan)
    budget = room - 8 - sum(s.bars for s, source in layout if source is None) * per_bar
    if budget < 0:  # longer than the context holds: the latest sections repeat the first ones written
        layout = _fold_to_fit(layout, budget, per_bar)
    return layout


def _fold_to_fit(layout: list[tuple[Section, int | None]], budget: float,
                 per_bar: float) -> list[tuple[Section, int | None]]:
    """Turn the latest written sections into repeats of an earlier written section of the same length."""
    out = list(layout)
    for i in range(len(out) - 2, -1, -1):
        section, source = out[i]
        if budget >= 0:
            break
        earlier = next((j for j in range(i) if out[j][1] is None and out[j][0].bars == section.bars), None)
        if source is None and earlier is not None:
            out[i] = (section, earlier)
            budget += section.bars * per_bar
    return out


def _expected_tokens_per_bar(plan: Plan) -> float:
    """A bar's prefix and its notes at about the theme's density (a singer's syllables when sung)."""
    if plan.syllables is not None:
        syllables = sum(len(p.stresses) for p in plan.syllables.phrases)
        bars = max(1, sum(s.bars for s in plan.sections if s.name != "intro"))
        return 4 + 3 * syllables / bars + 2
    per_quarter = plan.theme.spec.get("melody", {}).get("density", 1.0) * _DENSITY_PER_QUARTER / plan.meter.pulse_quarters
    return 4 + 3 * _TOKEN_MARGIN * per_quarter * plan.bar_quarters


def _transpose(plan: Plan) -> int:
    """Semitones from tonic-relative token pitch to the real pitch, centring the lead's register."""
    low, high = plan.voice.spec["lead"]["register"]
    centre = (low + high) / 2
    return plan.key.tonic + 12 * round((centre - plan.key.tonic - CENTRE_PITCH) / 12)


def _chord_rel(plan: Plan, quarters: float) -> tuple[int, str]:
    chord = plan.chord_at(quarters)
    quality = quality_of(chord.intervals)
    return ((chord.root - plan.key.tonic) % 12, "maj" if quality == "other" else quality)  # sus/aug: unseen


def _sung_bars(plan: Plan, seed: int) -> dict[int, tuple[int, ...]]:
    """Per bar of a sung plan, one entry per syllable starting there: how strong a beat it needs
    (stressed syllables keep the strength the words' rhythm gave them, the others may go anywhere)."""
    rng = random.Random(seed * 7919 + 5)
    bar_q = plan.bar_quarters
    last = plan.syllables.phrases[-1]
    rhythms: dict[tuple, list[tuple[float, float]]] = {}
    bars: dict[int, list[int]] = {}
    for phrase in plan.syllables.phrases:
        key = (phrase.pattern, phrase is last)
        if key not in rhythms:
            rhythms[key] = sung_rhythm(phrase, plan.meter, phrase is last, rng)
        for bar in range(phrase.start_bar, phrase.end_bar):
            bars.setdefault(bar, [])
        for stress, (start, _) in zip(phrase.stresses, rhythms[key]):
            bar = phrase.start_bar + int((start + 1e-6) // bar_q)
            strength = beat_strength(start, plan.meter)
            bars[bar].append(0 if not stress else strength if stress >= 2 else min(1, strength))
    return {bar: tuple(notes) for bar, notes in bars.items()}


def _spec(plan: Plan, layout: list[tuple[Section, int | None]], tok: Tokenizer, seed: int,
          temperature_scale: float = TEMPERATURE_SCALE, top_p: float = TOP_P) -> MelodySpec:
    melody = plan.theme.spec.get("melody", {})
    style = melody.get("style", DEFAULT_STYLE)
    density = density_bin(melody.get("density", 1.0) * _DENSITY_PER_QUARTER / plan.meter.pulse_quarters)
    sung = _sung_bars(plan, seed) if plan.syllables is not None else None
    shift = _transpose(plan)
    low, high = plan.voice.spec["lead"]["register"]
    pitches = [p for p in range(PITCH_LOW, PITCH_HIGH) if low <= p + shift <= high]
    bar_q = plan.bar_quarters
    pulse_ticks = round(plan.meter.pulse_quarters * TICKS_PER_QUARTER)
    bar_ticks = round(bar_q * TICKS_PER_QUARTER)
    new_bars = [b for section, repeat in layout if repeat is None
                for b in range(section.start_bar, section.end_bar)]
    bars = []
    for n, bar in enumerate(new_bars):
        start = bar * bar_q
        halves = (_chord_rel(plan, start), _chord_rel(plan, start + bar_q / 2))
        bars.append(BarSpec(tok.bar_prefix(len(new_bars) - n, halves), final=n == len(new_bars) - 1,
                            notes=sung.get(bar, ()) if sung is not None else None))
    if sung is not None and new_bars:  # the words set how busy the tune is
        syllables = sum(len(sung.get(bar, ())) for bar in new_bars)
        density = density_bin(syllables / (len(new_bars) * bar_q))
    meter = str(plan.meter) if str(plan.meter) in TRAINED_METERS else "6/8" if plan.meter.compound else "4/4"
    header = tok.header(style, plan.key.mode, meter, density)
    return MelodySpec(header, bars, bar_ticks, pitches, float(melody.get("temperature", 1.0)) * temperature_scale,
                      float(melody.get("top_p", top_p)), seed, max_rest_ticks=pulse_ticks if sung is not None else None,
                      pulse_ticks=pulse_ticks if sung is not None else None,
                      step_ticks=round(grid_step(plan.meter) * TICKS_PER_QUARTER),
                      final_pitches=frozenset(p for p in pitches if p % 12 == 0))


def _notes(plan: Plan, layout: list[tuple[Section, int | None]], decoded: list[tuple[float, float, int]]) -> list[Note]:
    """Place the written tune: each written section where it belongs, a copied one from its source."""
    bar_q = plan.bar_quarters
    shift = _transpose(plan)
    by_section: dict[int, list[tuple[float, float, int]]] = {}
    cursor = 0  # bar in the written tune
    for i, (section, repeat) in enumerate(layout):
        if repeat is not None:
            continue
        lo, hi = cursor * bar_q, (cursor + section.bars) * bar_q
        by_section[i] = [(on - lo, d, p) for on, d, p in decoded if lo - 1e-6 <= on < hi - 1e-6]
        cursor += section.bars
    notes = []
    for i, (section, repeat) in enumerate(layout):
        offset = section.start_bar * bar_q
        for on, d, p in by_section[repeat if repeat is not None else i]:
            velocity = 96 if abs(on % bar_q) < 1e-6 else 84 if abs(on % plan.meter.pulse_quarters) < 1e-6 else 76
            notes.append(Note(offset + on, d, p + shift, velocity))
    if plan.syllables is not None:
        return _hold_in_phrases(notes, plan)
    return notes


def _hold_in_phrases(notes: list[Note], plan: Plan) -> list[Note]:
    """A sung line: each syllable holds to the next within its phrase, the last to the phrase's
    end; breaths fall only between phrases."""
    phrases = plan.syllables.phrases
    starts = [p.start_bar * plan.bar_quarters for p in phrases]
    out = []
    for k, note in enumerate(notes):
        index = bisect_right(starts, note.start + 1e-6) - 1
        if index < 0:
            out.append(note)
            continue
        phrase_end = phrases[index].end_bar * plan.bar_quarters
        following = notes[k + 1].start if k + 1 < len(notes) else phrase_end  # the last syllable holds on
        end = following if following < phrase_end - 1e-6 else phrase_end
        out.append(replace(note, duration=end - note.start) if end > note.end else note)
    return out
