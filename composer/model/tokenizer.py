"""A REMI-style vocabulary for one melody line with the controls Muse steers it by.

A piece is `BOS STYLE MODE METER DENSITY`, then per bar `BAR REM CHORD CHORD (POS PITCH DUR)*`,
then `EOS`. Pitches are stored relative to the key (every tune transposed to a C tonic), so the
requested key is honoured exactly by transposing back; chords are roots relative to the tonic.
See composer/model/README.md for the full table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

TICKS_PER_QUARTER = 12  # onsets and durations on a 1/12-quarter grid: sixteenths and eighth triplets
MAX_BAR_QUARTERS = 6.0
STYLES = ("folk", "irish", "scottish", "chorale", "song", "early", "classical")
MODES = ("major", "minor")
METERS = ("2/4", "3/4", "4/4", "6/8", "3/8", "9/8", "12/8", "5/4", "6/4", "7/8", "5/8", "other")
DENSITY_EDGES = (0.75, 1.25, 1.75, 2.5)  # notes per quarter note → 5 bins
REM_MAX = 4  # bars remaining, counted down: REM_4 means "four or more"
PITCH_LOW, PITCH_HIGH = 40, 100  # tonic-relative MIDI pitch (C tonic), exclusive high
DURATIONS = (3, 4, 6, 8, 9, 12, 15, 16, 18, 21, 24, 30, 36, 42, 48, 54, 60, 72, 96)  # ticks
QUALITIES = ("maj", "min", "dim", "other")
POSITIONS = tuple(k for k in range(int(MAX_BAR_QUARTERS * TICKS_PER_QUARTER)) if k % 3 == 0 or k % 4 == 0)


@dataclass
class Tune:
    """A melody ready to tokenize: C tonic, times in quarters, bar lines at multiples of bar_quarters."""

    style: str
    mode: str
    meter: str
    bar_quarters: float
    notes: list[tuple[float, float, int]]  # (onset, duration, tonic-relative pitch)
    chords: list[tuple[int, str] | None]  # one per half-bar, root relative to the tonic
    bars: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.bars:
            end = max((on for on, _, _ in self.notes), default=0.0)
            self.bars = int(end // self.bar_quarters) + 1


def density_bin(notes_per_quarter: float) -> int:
    return sum(notes_per_quarter >= edge for edge in DENSITY_EDGES)


def meter_token(meter: str) -> str:
    return f"METER_{meter if meter in METERS else 'other'}"


def chord_token(chord: tuple[int, str] | None) -> str:
    return "CHORD_none" if chord is None else f"CHORD_{chord[0] % 12}_{chord[1]}"


class Tokenizer:
    """Token strings ↔ ids, Tune → ids, ids → notes."""

    def __init__(self) -> None:
        tokens = ["PAD", "BOS", "EOS", "BAR"]
        tokens += [f"STYLE_{s}" for s in STYLES] + [f"MODE_{m}" for m in MODES]
        tokens += [f"METER_{m}" for m in METERS] + [f"DENSITY_{i}" for i in range(len(DENSITY_EDGES) + 1)]
        tokens += [f"REM_{i}" for i in range(1, REM_MAX + 1)]
        tokens += ["CHORD_none"] + [f"CHORD_{r}_{q}" for r in range(12) for q in QUALITIES]
        tokens += [f"POS_{k}" for k in POSITIONS]
        tokens += [f"PITCH_{p}" for p in range(PITCH_LOW, PITCH_HIGH)]
        tokens += [f"DUR_{d}" for d in DURATIONS]
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.pad, self.bos, self.eos, self.bar = (self.ids[t] for t in ("PAD", "BOS", "EOS", "BAR"))
        self.pos_ids = [self.ids[f"POS_{k}"] for k in POSITIONS]
        self.pitch_ids = [self.ids[f"PITCH_{p}"] for p in range(PITCH_LOW, PITCH_HIGH)]
        self.dur_ids = [self.ids[f"DUR_{d}"] for d in DURATIONS]
        self.rem_ids = [self.ids[f"REM_{i}"] for i in range(1, REM_MAX + 1)]
        self.chord_ids = [i for t, i in self.ids.items() if t.startswith("CHORD_")]

    def __len__(self) -> int:
        return len(self.tokens)

    # -- config -------------------------------------------------------------------------------

    def config(self) -> dict[str, object]:
        return {"kind": "muse-remi-melody", "version": 1, "ticks_per_quarter": TICKS_PER_QUARTER,
                "tokens": self.tokens}

    def save(self, path) -> None:
        with open(path, "w") as fh:
            json.dump(self.config(), fh, indent=1)

    @classmethod
    def load(cls, path) -> "Tokenizer":
        with open(path) as fh:
            config = json.load(fh)
        tokenizer = cls()
        if config.get("tokens") != tokenizer.tokens:
            raise ValueError(f"{path}: tokenizer vocabulary does not match this code")
        return tokenizer

    # -- pieces of a sequence -----------------------------------------------------------------

    def header(self, style: str, mode: str, meter: str, density: int) -> list[int]:
        return [self.bos, self.ids[f"STYLE_{style}"], self.ids[f"MODE_{mode}"], self.ids[meter_token(meter)],
                self.ids[f"DENSITY_{density}"]]

    def bar_prefix(self, remaining: int, chords: tuple[tuple[int, str] | None, tuple[int, str] | None]) -> list[int]:
        return [self.bar, self.ids[f"REM_{min(REM_MAX, remaining)}"], self.ids[chord_token(chords[0])],
                self.ids[chord_token(chords[1])]]

    def note(self, position_ticks: int, pitch: int, duration_ticks: int) -> list[int]:
        return [self.ids[f"POS_{position_ticks}"], self.ids[f"PITCH_{pitch}"], self.ids[f"DUR_{duration_ticks}"]]

    # -- whole tunes --------------------------------------------------------------------------

    def encode(self, tune: Tune, max_len: int | None = None) -> list[list[int]]:
        """Token windows for a tune: the whole tune, or bar-aligned chunks of at most max_len tokens."""
        per_quarter = len(tune.notes) / max(1.0, tune.bars * tune.bar_quarters)
        head = self.header(tune.style, tune.mode, tune.meter, density_bin(per_quarter))
        bars: list[list[int]] = []
        by_bar: dict[int, list[tuple[int, int, int]]] = {}
        for onset, dur, pitch in tune.notes:
            bar = int(onset // tune.bar_quarters + 1e-9)
            tick = quantize_position(onset - bar * tune.bar_quarters)
            if tick is None:
                continue
            if not PITCH_LOW <= pitch < PITCH_HIGH:
                continue
            by_bar.setdefault(bar, []).append((tick, pitch, quantize_duration(dur)))
        for bar in range(tune.bars):
            half = tune.chords[2 * bar: 2 * bar + 2] + [None, None]
            tokens = self.bar_prefix(tune.bars - bar, (half[0], half[1]))
            seen = set()
            for tick, pitch, dur in sorted(by_bar.get(bar, [])):
                if tick not in seen:
                    seen.add(tick)
                    tokens += self.note(tick, pitch, dur)
            bars.append(tokens)
        windows: list[list[int]] = []
        current = list(head)
        for i, tokens in enumerate(bars):
            if max_len and len(current) + len(tokens) + 1 > max_len and len(current) > len(head):
                windows.append(current)
                current = list(head)
            current += tokens
        current.append(self.eos)
        windows.append(current[:max_len] if max_len else current)
        return windows

    def decode(self, ids: list[int], bar_quarters: float) -> list[tuple[float, float, int]]:
        """(onset, duration, tonic-relative pitch) in quarters; the first BAR starts at 0."""
        notes = []
        bar = -1
        onset = pitch = None
        for i in ids:
            token = self.tokens[i]
            if token == "BAR":
                bar += 1
            elif token.startswith("POS_"):
                onset = max(bar, 0) * bar_quarters + int(token[4:]) / TICKS_PER_QUARTER
            elif token.startswith("PITCH_"):
                pitch = int(token[6:])
            elif token.startswith("DUR_") and onset is not None and pitch is not None:
                notes.append((onset, int(token[4:]) / TICKS_PER_QUARTER, pitch))
                onset = pitch = None
            elif token == "EOS":
                break
        return notes


def quantize_position(quarters: float) -> int | None:
    ticks = quarters * TICKS_PER_QUARTER
    best = min(POSITIONS, key=lambda k: abs(k - ticks))
    return best if abs(best - ticks) <= 1.5 else None


def quantize_duration(quarters: float) -> int:
    ticks = quarters * TICKS_PER_QUARTER
    return min(DURATIONS, key=lambda d: abs(d - ticks))
