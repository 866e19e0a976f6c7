"""From extracted works to token windows: normalise meter, transpose to a C tonic, label chords."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from composer.model.chords import fit_any, fit_diatonic
from training.corpus import Work, load_works
from composer.model.tokenizer import MAX_BAR_QUARTERS, PITCH_HIGH, PITCH_LOW, Tokenizer, Tune

log = logging.getLogger(__name__)
CENTRE_PITCH = 67  # transpose each tune to the C-tonic octave nearest this


def to_tune(work: Work) -> Tune | None:
    """A Work in the model's frame, or None when it does not fit (long bars, odd range)."""
    num, den = (int(x) for x in work.meter.split("/"))
    scale = 1.0
    if den < 4:  # 3/2, 4/2, 3/1 …: the same music written in longer values
        scale, den = den / 4, 4
    bar_q = work.bar_quarters * scale
    if bar_q > MAX_BAR_QUARTERS or bar_q <= 0:
        return None
    pitches = [p for _, _, p in work.notes]
    mean = sum(pitches) / len(pitches)
    shift = -work.key_tonic + 12 * round((CENTRE_PITCH - (mean - work.key_tonic)) / 12)
    notes = [(round(on * scale, 4), round(d * scale, 4), p + shift) for on, d, p in work.notes]
    if any(not PITCH_LOW <= p < PITCH_HIGH for _, _, p in notes):
        return None
    bars = int(max(on for on, _, _ in notes) // bar_q) + 1
    chords = _chords(work, notes, bar_q, bars, scale)
    return Tune(work.style, work.key_mode, f"{num}/{den}", bar_q, notes, chords, bars,
                extra={"id": work.id, "split": work.split})


def _chords(work: Work, notes, bar_q: float, bars: int, scale: float) -> list[tuple[int, str] | None]:
    half_q = bar_q / 2
    slots = 2 * bars
    melody = [[0.0] * 12 for _ in range(slots)]
    for on, d, p in notes:
        slot = int(on // half_q + 1e-9)
        if slot < slots:
            accent = 2.0 if abs(on - slot * half_q) < 1e-6 else 1.0
            melody[slot][p % 12] += min(d, half_q) * accent
    chords: list[tuple[int, str] | None] = []
    previous = None
    if work.harmony:
        beat_q = scale  # one harmony row per original quarter beat
        harmony = [[0.0] * 12 for _ in range(slots)]
        for b, row in enumerate(work.harmony):
            slot = int((b + 0.5) * beat_q // half_q)
            if slot < slots:
                for pc, w in enumerate(row):
                    harmony[slot][(pc - work.key_tonic) % 12] += w
        for s in range(slots):
            weights = [h + 0.5 * m for h, m in zip(harmony[s], melody[s])]
            previous = fit_any(weights, previous)
            chords.append(previous)
    else:
        for s in range(slots):
            previous = fit_diatonic(melody[s], work.key_mode, previous)
            chords.append(previous)
    return chords


def build(corpus: Path, out: Path, tokenizer: Tokenizer, max_len: int) -> dict[str, int]:
    """Write train/val/test token arrays (`<split>.npy` flat int16 + `<split>.idx.npy` offsets)."""
    out.mkdir(parents=True, exist_ok=True)
    sequences: dict[str, list[list[int]]] = {"train": [], "val": [], "test": []}
    pieces: dict[str, list[dict]] = {"train": [], "val": [], "test": []}
    dropped = 0
    for work in load_works(corpus):
        tune = to_tune(work)
        if tune is None:
            dropped += 1
            continue
        sequences[work.split] += tokenizer.encode(tune, max_len)
        pieces[work.split].append({"id": work.id, "style": tune.style, "mode": tune.mode, "meter": tune.meter,
                                   "bar_quarters": tune.bar_quarters, "notes": tune.notes})
    counts = {"dropped": dropped}
    for split, seqs in sequences.items():
        flat = np.array([t for s in seqs for t in s], dtype=np.int16)
        offsets = np.cumsum([0] + [len(s) for s in seqs]).astype(np.int64)
        np.save(out / f"{split}.npy", flat)
        np.save(out / f"{split}.idx.npy", offsets)
        (out / f"{split}.pieces.json").write_text(json.dumps(pieces[split]))
        counts[f"{split}_windows"] = len(seqs)
        counts[f"{split}_tokens"] = int(flat.size)
        counts[f"{split}_pieces"] = len(pieces[split])
    (out / "stats.json").write_text(json.dumps(counts, indent=1))
    return counts


def load_split(folder: Path, split: str) -> list[np.ndarray]:
    flat = np.load(folder / f"{split}.npy")
    offsets = np.load(folder / f"{split}.idx.npy")
    return [flat[offsets[i]:offsets[i + 1]].astype(np.int64) for i in range(len(offsets) - 1)]


def load_pieces(folder: Path, split: str) -> list[dict]:
    return json.loads((folder / f"{split}.pieces.json").read_text())
