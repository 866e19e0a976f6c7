"""Rhythm from the words: one onset per syllable of a sung phrase, stressed syllables on strong beats.

Both melody engines start a sung phrase from this rhythm: the rules engine sings it as it is, the
model engine takes its notes per bar and which of them must fall on a beat, and samples the rest.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from composer.plan import SungPhrase
from composer.music.theory import Meter

# Cost of a syllable's onset by its stress (row) and the beat strength there (column: off the
# pulse, other pulse, the bar's middle pulse, downbeat).
_STRESS_COST = {
    2: (3.0, 0.8, 0.15, 0.0),
    1: (1.2, 0.3, 0.1, 0.0),
    0: (0.0, 0.1, 0.2, 0.5),
}


UNSTRESSED_LONG = 0.6  # cost per doubling of an unstressed syllable's note over the even length
STRESSED_SHORT = 0.3  # cost per halving of a stressed syllable's note under it


def beat_strength(start: float, meter: Meter) -> int:
    """3 downbeat, 2 the bar's middle pulse, 1 other pulses, 0 off the pulse."""
    position = start % meter.bar_quarters
    pulse = meter.pulse_quarters
    if min(position, meter.bar_quarters - position) < 0.06:
        return 3
    beats = position / pulse
    if abs(beats - round(beats)) > 0.06 / pulse:
        return 0
    if meter.pulses % 2 == 0 and round(beats) == meter.pulses // 2:
        return 2
    return 1


def grid_step(meter: Meter) -> float:
    """The shortest sung note: an eighth of a simple pulse, a third of a compound one, never
    under a sixteenth."""
    pulse = meter.pulse_quarters
    return max(0.25, pulse / 3 if meter.compound else pulse / 2)


def sung_rhythm(phrase: SungPhrase, meter: Meter, final: bool,
                rng: random.Random | None = None) -> list[tuple[float, float]]:
    """(start within the phrase, duration) in quarters for each syllable of `phrase`.

    A small dynamic programme over a grid: stressed syllables on strong beats, even note lengths
    across the phrase, no syncopated long notes, the last syllable held from the cadence bar's
    downbeat (in the piece's final phrase, exactly there: the closing bar holds one note)."""
    n = phrase.count
    if n == 0:
        return []
    step = grid_step(meter)
    bar_steps = round(meter.bar_quarters / step)
    total = phrase.bars * bar_steps
    cadence = _cadence_step(phrase.bars, meter, final)
    if n == 1:
        return [(cadence * step if final else 0.0, (total - (cadence if final else 0)) * step)]
    latest = cadence if final else total - 1  # where the last syllable may start at the latest
    costs = _RhythmCosts.for_phrase(phrase, meter, final, cadence, rng)
    starts = _cheapest_starts(costs, latest)
    if starts is None:  # more syllables than the grid holds: spread them evenly
        starts = sorted({min(latest, round(k * latest / (n - 1))) for k in range(n)})
    ends = starts[1:] + [total]
    return [(g * step, (e - g) * step) for g, e in zip(starts, ends)]


@dataclass(frozen=True)
class _RhythmCosts:
    """What each syllable's onset and each note length cost on a phrase's grid (lower is better)."""

    stresses: tuple[int, ...]  # per syllable, as the phrase has them
    strength: list[int]  # beat strength of each grid step (see beat_strength)
    noise: list[list[float]] | None  # per syllable and grid step: a little randomness, or none
    ideal: float  # the even note length, in grid steps
    nice: set[int]  # note lengths, in grid steps, a tune is made of
    pulse_steps: int
    bar_steps: int
    cadence: int  # grid step where the last syllable belongs
    final: bool  # the piece's final phrase: the last syllable starts exactly at the cadence

    @classmethod
    def for_phrase(cls, phrase: SungPhrase, meter: Meter, final: bool, cadence: int,
                   rng: random.Random | None) -> _RhythmCosts:
        n = phrase.count
        step = grid_step(meter)
        bar_steps = round(meter.bar_quarters / step)
        pulse_steps = max(1, round(meter.pulse_quarters / step))
        total = phrase.bars * bar_steps
        strength = [beat_strength(g * step, meter) for g in range(total)]
        ideal = max(1.0, cadence / (n - 1))
        # note lengths a tune is made of: half, whole, one and a half, 2, 3, 4, 6 and 8 pulses (a third
        # and two thirds of a compound pulse)
        nice = {round(pulse_steps * f) for f in (1, 1.5, 2, 3, 4, 6, 8)}
        nice |= {pulse_steps // 3, 2 * pulse_steps // 3} if meter.compound else {pulse_steps // 2}
        noise = [[rng.random() * 0.25 for _ in range(total)] for _ in range(n)] if rng else None
        return cls(phrase.stresses, strength, noise, ideal, nice, pulse_steps, bar_steps, cadence, final)

    @property
    def total(self) -> int:
        return len(self.strength)

    def onset(self, k: int, g: int) -> float:
        cost = _STRESS_COST[min(2, self.stresses[k])][self.strength[g]]
        return cost + (self.noise[k][g] if self.noise else 0.0)

    def length(self, g: int, d: int) -> float:
        cost = 0.8 * max(0.0, abs(math.log2(d / self.ideal)) - 0.25) + (0.0 if d in self.nice else 0.4)
        if self.strength[g] == 0 and d > 1 and (g % self.pulse_steps) + d > self.pulse_steps:
            cost += 0.8  # an off-beat note held over the next beat
        if g // self.bar_steps != (g + d - 1) // self.bar_steps and self.strength[g] < 1:
            cost += 0.4  # tied over the bar line from off the beat
        return cost

    def held(self, k: int, d: int) -> float:
        """Speech rhythm in the note lengths: an unstressed syllable held long ("to-" of
        "Toronto" over a whole beat and a half) blurs the word, a stressed one cut short rushes it."""
        ratio = math.log2(d / self.ideal)
        return UNSTRESSED_LONG * max(0.0, ratio) if self.stresses[k] == 0 else STRESSED_SHORT * max(0.0, -ratio)

    def last(self, g: int) -> float:
        if self.final:
            return 0.0 if g == self.cadence else math.inf
        early, late = max(0, self.cadence - g), max(0, g - self.cadence)
        held_off_beat = 0.8 if self.strength[g] == 0 else 0.0
        return self.onset(len(self.stresses) - 1, g) + held_off_beat + (0.3 * early + 0.15 * late) / self.pulse_steps


def _cheapest_starts(costs: _RhythmCosts, latest: int) -> list[int] | None:
    """Grid step of each syllable's onset at the least total cost, the last one starting by `latest`;
    None when the syllables do not fit."""
    n, total, inf = len(costs.stresses), costs.total, math.inf
    best = [[inf] * total for _ in range(n)]
    back = [[-1] * total for _ in range(n)]
    for g in range(min(costs.bar_steps, latest - (n - 1) + 1)):
        best[0][g] = costs.onset(0, g) + 0.25 * g / costs.pulse_steps  # a short rest may open the phrase
    for k in range(1, n):
        row, prev = best[k], best[k - 1]
        for g in range(k, latest - (n - 1 - k) + 1):
            here = costs.last(g) if k == n - 1 else costs.onset(k, g)
            if here == inf:
                continue
            choice, value = -1, inf
            for h in range(k - 1, g):
                if prev[h] < inf:
                    c = prev[h] + costs.length(h, g - h) + costs.held(k - 1, g - h)
                    if c < value:
                        choice, value = h, c
            if choice >= 0:
                row[g], back[k][g] = value + here, choice
    last = min(range(total), key=lambda g: best[n - 1][g])
    if best[n - 1][last] == inf:
        return None
    starts = [last]
    for k in range(n - 1, 0, -1):
        starts.append(back[k][starts[-1]])
    starts.reverse()
    return starts


def _cadence_step(bars: int, meter: Meter, final: bool) -> int:
    """Grid step where a phrase's last syllable belongs: the downbeat of its last bar (of a 1-bar
    phrase, its middle pulse unless it closes the piece)."""
    step = grid_step(meter)
    bar_steps = round(meter.bar_quarters / step)
    if bars > 1:
        return (bars - 1) * bar_steps
    pulse_steps = max(1, round(meter.pulse_quarters / step))
    return 0 if final else (bar_steps // 2) // pulse_steps * pulse_steps


# A sung phrase is planned for about three syllables a second, whatever the theme's instrumental
# pace (the eighth-note grid still caps a slow bar): a syllable drawn out over most of a second (a
# slow theme sang one per beat) blurs into its vowel, and the recogniser in evaluation/singing.py
# lost more of the words.
SUNG_SECONDS_PER_SYLLABLE = 0.33


def sung_density(meter: Meter, tempo: float, density: float) -> float:
    """Syllables per pulse a sung phrase is comfortable with: the theme's note density, or more
    where that would sing slower than SUNG_SECONDS_PER_SYLLABLE."""
    return max(density, meter.pulse_quarters * 60.0 / tempo / SUNG_SECONDS_PER_SYLLABLE)


def phrase_capacity(bars: int, meter: Meter, tempo: float, density: float, final: bool) -> tuple[int, int]:
    """(comfortable, most) syllables for a phrase of `bars` bars: the theme's notes per pulse over
    all bars but the cadence bar, plus the held last syllable; at most one per grid step before
    the cadence and half a bar after it (one in the closing bar), never more than five a second."""
    pulses = meter.pulses * max(0.5, bars - 1)
    comfortable = max(1, round(density * pulses)) + 1
    step = grid_step(meter)
    bar_steps = round(meter.bar_quarters / step)
    grid = _cadence_step(bars, meter, final) + (1 if final else max(1, bar_steps // 2))
    seconds = bars * meter.bar_quarters * 60.0 / tempo
    most = max(1, min(grid, int(5.0 * seconds)))
    return min(comfortable, most), most
