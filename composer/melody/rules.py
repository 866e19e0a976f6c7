"""A rule-based melody: chord tones on the beats, stepwise motion between, motifs that repeat.

It is the baseline the neural model is measured against, and the fallback engine.
"""

from __future__ import annotations

import math
import random

from composer.melody import EngineInfo
from composer.melody.rhythm import phrase_capacity, sung_density, sung_rhythm
from composer.plan import Plan, Section, SungPhrase
from composer.music.score import Note
from composer.music.theory import SCALES

# Rhythm cells per pulse length (quarters): (durations, weight at low density, weight at high density)
_CELLS = {
    1.0: [((1.0,), 3, 1), ((0.5, 0.5), 1, 3), ((0.75, 0.25), 0.5, 1.5), ((0.25, 0.25, 0.5), 0, 0.4)],
    1.5: [((1.5,), 3, 1), ((1.0, 0.5), 2, 2), ((0.5, 0.5, 0.5), 0.5, 3)],
    0.5: [((0.5,), 3, 2), ((0.25, 0.25), 0.3, 1.5)],
    2.0: [((2.0,), 2, 0.5), ((1.0, 1.0), 2, 2), ((1.0, 0.5, 0.5), 0.5, 2)],
}
MELISMA_CHANCE = 0.35  # of a long sung note in a roomy phrase becoming two notes on one syllable


class _Degrees:
    """Maps diatonic degree numbers to MIDI pitches within the lead's register."""

    def __init__(self, plan: Plan):
        key = plan.key
        self.scale = SCALES[key.mode]
        low, high = plan.voice.spec["lead"]["register"]
        self.base = (low // 12) * 12 + key.tonic - 12
        self.low = self.degree_at_or_above(low)
        self.high = self.degree_at_or_above(high + 1) - 1

    def pitch(self, degree: int) -> int:
        return self.base + 12 * (degree // 7) + self.scale[degree % 7]

    def degree_at_or_above(self, pitch: int) -> int:
        degree = 0
        while self.pitch(degree) < pitch:
            degree += 1
        return degree

    def chord_degrees(self, pitch_classes: frozenset[int]) -> list[int]:
        return [d for d in range(self.low, self.high + 1) if self.pitch(d) % 12 in pitch_classes]


def _bar_rhythm(pulse: float, pulses: int, density: float, rng: random.Random) -> list[tuple[float, float]]:
    cells = _CELLS.get(pulse) or _CELLS[1.0]
    mix = max(0.0, min(1.0, (density - 0.5) / 1.0))
    weights = [lo * (1 - mix) + hi * mix for _, lo, hi in cells]
    out: list[tuple[float, float]] = []
    t = 0.0
    i = 0
    while i < pulses:
        if i + 1 < pulses and rng.random() < 0.25 * (1 - mix):  # a long note over two pulses
            out.append((t, 2 * pulse))
            t += 2 * pulse
            i += 2
            continue
        durations = rng.choices([c for c, _, _ in cells], weights=weights, k=1)[0]
        for d in durations:
            out.append((t, d))
            t += d
        i += 1
    return out


def _cadence_rhythm(pulse: float, pulses: int) -> list[tuple[float, float]]:
    """Phrase-end bar: one or two short notes, then a long one."""
    if pulses >= 3:
        return [(0.0, pulse), (pulse, pulse * (pulses - 1))]
    return [(0.0, pulse * pulses)]


def _pick(plan: Plan, degrees: _Degrees, rng: random.Random, abs_t: float, prev: int, peak: float,
          leap: float, chord_tone: bool, tonic: bool) -> int:
    """The next degree: the nearest tonic to close the piece, a chord tone towards the phrase's
    peak on beats and phrase ends, a step (now and then a skip) between."""
    if tonic:
        tonics = [d for d in range(degrees.low, degrees.high + 1) if d % 7 == 0]
        return min(tonics, key=lambda d: abs(d - prev))
    if chord_tone:
        chord = plan.chord_at(abs_t)
        tones = degrees.chord_degrees(chord.pitch_classes) or list(range(degrees.low, degrees.high + 1))
        target = degrees.low + peak * (degrees.high - degrees.low) * 0.8
        weights = [math.exp(-abs(d - prev) / (1.0 + 3 * leap)) * math.exp(-abs(d - target) / 6.0)
                   for d in tones]
        return rng.choices(tones, weights=weights, k=1)[0]
    step = 1 if rng.random() > leap else 2
    direction = 1 if (degrees.low + peak * (degrees.high - degrees.low)) > prev else -1
    if rng.random() < 0.25:
        direction = -direction
    return min(degrees.high, max(degrees.low, prev + direction * step))


class RulesEngine:
    info = EngineInfo(name="rules", version="1")

    def write(self, plans: list[Plan], seeds: list[int]) -> list[list[Note]]:
        return [self._write_one(plan, random.Random(seed * 7919 + 1)) for plan, seed in zip(plans, seeds)]

    def _write_one(self, plan: Plan, rng: random.Random) -> list[Note]:
        spec = plan.theme.spec["melody"]
        density = spec["density"]
        leap = spec.get("leap", 0.3)
        degrees = _Degrees(plan)
        pulse, pulses = plan.meter.pulse_quarters, plan.meter.pulses
        remembered: dict[str, list[tuple[float, float, int]]] = {}
        state = {"degree": (degrees.low + degrees.high) // 2}
        notes: list[Note] = []
        rhythms: dict[tuple, list[tuple[float, float]]] = {}
        for section in plan.sections:
            if section.name == "intro":
                continue  # the band plays the intro; the tune enters after it
            final = section is plan.sections[-1]
            sung = plan.syllables.in_bars(section.start_bar, section.end_bar) if plan.syllables else None
            # a sung section repeats an earlier tune only when it sings the same syllable pattern
            name = section.name if sung is None else (section.name, tuple(p.pattern for p in sung))
            stored = remembered.get(name)
            if stored is not None and not final:
                line = self._vary(stored, plan, section, degrees, rng)
            elif sung is not None:
                line = self._sung_line(plan, section, sung, degrees, rng, state, leap, rhythms)
                remembered.setdefault(name, line)
            else:
                line = self._section_line(plan, section, degrees, rng, state, density, leap, pulse, pulses, final)
                remembered.setdefault(name, line)
            offset = section.start_bar * plan.bar_quarters
            for start, dur, degree in line:
                notes.append(Note(offset + start, dur, degrees.pitch(degree), 90))
            if line:
                state["degree"] = line[-1][2]
        return notes

    def _section_line(self, plan: Plan, section: Section, degrees: _Degrees, rng: random.Random,
                      state: dict, density: float, leap: float, pulse: float, pulses: int,
                      final: bool) -> list[tuple[float, float, int]]:
        """Notes as (start within section, duration, degree): motif a, a', b, cadence per 4 bars."""
        bar_q = plan.bar_quarters
        motif = [_bar_rhythm(pulse, pulses, density, rng) for _ in range(2)]
        line: list[tuple[float, float, int]] = []
        prev = state["degree"]
        for b in range(section.bars):
            in_phrase = b % 4
            last_bar = b == section.bars - 1
            if last_bar or in_phrase == 3:
                rhythm = _cadence_rhythm(pulse, pulses) if not (final and last_bar) else [(0.0, bar_q)]
            else:
                rhythm = motif[in_phrase % 2] if in_phrase < 2 else motif[0]
            peak = 0.5 + 0.5 * math.sin(math.pi * (b + 0.5) / max(1, section.bars))
            for start, dur in rhythm:
                t = b * bar_q + start
                is_end = start + dur >= bar_q - 1e-6 and (last_bar or in_phrase == 3)
                on_beat = abs(start / pulse - round(start / pulse)) < 1e-6
                degree = _pick(plan, degrees, rng, section.start_bar * bar_q + t, prev, peak, leap,
                               chord_tone=on_beat or is_end, tonic=final and last_bar)
                line.append((t, dur, degree))
                prev = degree
        state["degree"] = prev
        return line

    def _sung_line(self, plan: Plan, section: Section, phrases: tuple[SungPhrase, ...], degrees: _Degrees,
                   rng: random.Random, state: dict, leap: float,
                   rhythms: dict[tuple, list[tuple[float, float]]]) -> list[tuple[float, float, int]]:
        """Notes for a sung section: each phrase's rhythm comes from its syllables (one note each,
        composer/melody/rhythm.py); a long note may turn into a two-note melisma when the phrase
        has room to spare; pitches follow the same rules as the instrumental line."""
        bar_q, pulse = plan.bar_quarters, plan.meter.pulse_quarters
        density = sung_density(plan.meter, plan.tempo, plan.theme.spec["melody"]["density"])
        last_phrase = plan.syllables.phrases[-1]
        line: list[tuple[float, float, int]] = []
        prev = state["degree"]
        for phrase in phrases:
            final = phrase is last_phrase
            key = (phrase.pattern, final)
            if key not in rhythms:  # the same words keep the same rhythm through the song
                rhythms[key] = sung_rhythm(phrase, plan.meter, final, rng)
            rhythm = rhythms[key]
            comfortable, _ = phrase_capacity(phrase.bars, plan.meter, plan.tempo, density, final)
            roomy = phrase.count <= 0.6 * comfortable
            offset = (phrase.start_bar - section.start_bar) * bar_q
            for k, (start, dur) in enumerate(rhythm):
                last = k == len(rhythm) - 1
                t = offset + start
                b = int((t + 1e-6) // bar_q)
                peak = 0.5 + 0.5 * math.sin(math.pi * (b + 0.5) / max(1, section.bars))
                in_bar = t - b * bar_q
                on_beat = abs(in_bar / pulse - round(in_bar / pulse)) < 1e-6
                abs_t = section.start_bar * bar_q + t
                degree = _pick(plan, degrees, rng, abs_t, prev, peak, leap, chord_tone=on_beat or last,
                               tonic=final and last)
                split = pulse * max(1, round(dur / pulse / 2))
                if roomy and not last and dur >= 2 * pulse - 1e-6 and rng.random() < MELISMA_CHANCE:
                    line.append((t, split, degree))
                    prev = degree
                    degree = _pick(plan, degrees, rng, abs_t + split, prev, peak, leap, chord_tone=False, tonic=False)
                    line.append((t + split, dur - split, degree))
                else:
                    line.append((t, dur, degree))
                prev = degree
        state["degree"] = prev
        return line

    def _vary(self, line: list[tuple[float, float, int]], plan: Plan, section: Section,
              degrees: _Degrees, rng: random.Random) -> list[tuple[float, float, int]]:
        """A returning section: the same tune, re-fitted to its chords, with one bar varied."""
        bar_q = plan.bar_quarters
        varied_bar = rng.randrange(max(1, section.bars - 1)) if section.bars > 1 else -1
        out = []
        for start, dur, degree in line:
            if start >= section.bars * bar_q:
                break
            abs_t = section.start_bar * bar_q + start
            chord = plan.chord_at(abs_t)
            on_beat = abs(start / plan.meter.pulse_quarters - round(start / plan.meter.pulse_quarters)) < 1e-6
            tones = degrees.chord_degrees(chord.pitch_classes)
            if int(start // bar_q) == varied_bar and not on_beat:
                degree = min(degrees.high, max(degrees.low, degree + rng.choice((-1, 1))))
            if on_beat and tones and degree not in tones:
                degree = min(tones, key=lambda d: abs(d - degree))
            out.append((start, dur, degree))
        return out
