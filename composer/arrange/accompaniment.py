"""The harmony part: one pattern per accompaniment style, played per harmonic slot."""

from __future__ import annotations

from typing import Callable

from composer.arrange.voicing import voice_chord
from composer.plan import Plan
from composer.music.score import Note
from composer.music.theory import Chord

Pattern = Callable[[Chord, list[int], float, float, float], list[tuple[float, float, list[int], float]]]
# A pattern returns (offset in slot, duration, pitches, velocity scale) events.


def _block(chord, pitches, slot, pulse, bar):
    return [(t * pulse, pulse * 0.9, pitches, 1.0 if t == 0 else 0.85) for t in range(max(1, round(slot / pulse)))]


def _pad(chord, pitches, slot, pulse, bar):
    return [(0.0, slot, pitches, 0.8)]


def _arpeggio(chord, pitches, slot, pulse, bar):
    step = 0.5 if pulse >= 1.0 else 0.25
    order = pitches + [pitches[0] + 12] + pitches[1:][::-1]
    count = max(1, round(slot / step))
    return [(i * step, step * 1.6, [order[i % len(order)]], 0.9 if i == 0 else 0.75) for i in range(count)]


def _waltz(chord, pitches, slot, pulse, bar):
    beats = max(1, round(slot / pulse))
    return [(b * pulse, pulse * 0.8, pitches, 0.8) for b in range(1, beats)] or [(0.0, slot, pitches, 0.8)]


def _strum(chord, pitches, slot, pulse, bar):
    hits = [0.0, 1.5, 2.0, 3.5] if slot >= 4 else [0.0, 1.5] if slot >= 2 else [0.0]
    out = []
    for i, t in enumerate(hits):
        if t >= slot:
            break
        nxt = hits[i + 1] if i + 1 < len(hits) and hits[i + 1] < slot else slot
        out.append((t, (nxt - t) * 0.95, pitches, 1.0 if t == 0 else 0.8))
    return out


def _stride(chord, pitches, slot, pulse, bar):
    out = []
    for b in range(max(1, round(slot / pulse))):
        if b % 2 == 0:
            out.append((b * pulse, pulse * 0.8, [pitches[0] - 12], 0.9))
        else:
            out.append((b * pulse, pulse * 0.7, pitches, 0.75))
    return out


def _offbeat(chord, pitches, slot, pulse, bar):
    return [(b * pulse + pulse / 2, pulse * 0.4, pitches, 0.8) for b in range(max(1, round(slot / pulse)))]


def _power(chord, pitches, slot, pulse, bar):
    root = min(pitches) - 12
    while root < 40:
        root += 12
    shape = [root, root + 7, root + 12]
    step = 0.5
    return [(i * step, step * 0.6, shape, 1.0 if i % 4 == 0 else 0.8) for i in range(max(1, round(slot / step)))]


STYLES: dict[str, Pattern] = {
    "block": _block, "pad": _pad, "arpeggio": _arpeggio, "waltz": _waltz, "strum": _strum,
    "stride": _stride, "offbeat": _offbeat, "power": _power,
}


def harmony_center(plan: Plan, octave: int) -> int:
    """Chords sit around the theme's octave, under a high lead; a low lead (a male singer)
    keeps them there, above it, as a pianist's right hand sits above a baritone."""
    low, high = plan.voice.spec["lead"]["register"]
    center, lead_mid = (octave + 1) * 12 + 4, (low + high) // 2
    return max(50, min(center, lead_mid - 7)) if lead_mid >= center else center


def harmony_part(plan: Plan, style: str, octave: int, velocity: int, ending_sustain: bool = True) -> list[Note]:
    pattern = STYLES[style]
    center = harmony_center(plan, octave)
    notes: list[Note] = []
    previous: list[int] | None = None
    slot_q, pulse = plan.slot_quarters, plan.meter.pulse_quarters
    last_bar = plan.bars - 1
    for bar in range(plan.bars):
        for slot in range(plan.slots_per_bar):
            start = bar * plan.bar_quarters + slot * slot_q
            chord = plan.chord_at(start)
            pitches = voice_chord(chord, center, previous, size=4 if len(chord.intervals) > 3 else 3)
            previous = pitches
            if bar == last_bar and ending_sustain:
                events = [(0.0, slot_q * (plan.slots_per_bar - slot), pitches, 0.9)] if slot == 0 else []
            else:
                events = pattern(chord, pitches, slot_q, pulse, plan.bar_quarters)
            for offset, dur, chord_pitches, scale in events:
                for p in chord_pitches:
                    notes.append(Note(start + offset, dur, p, max(1, min(127, round(velocity * scale)))))
    return notes


def pad_part(plan: Plan, velocity: int) -> list[Note]:
    """Sustained chords, one per bar, for warmth under everything."""
    notes: list[Note] = []
    previous = None
    center = harmony_center(plan, 4)
    for bar in range(plan.bars):
        start = bar * plan.bar_quarters
        chord = plan.chord_at(start)
        pitches = voice_chord(chord, center, previous)
        previous = pitches
        notes += [Note(start, plan.bar_quarters, p, velocity) for p in pitches]
    return notes
