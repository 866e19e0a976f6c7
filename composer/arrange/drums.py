"""Drums from the theme's step patterns (16th-note grid), with fills, crashes and a final hit."""

from __future__ import annotations

import random

from composer.plan import Plan
from composer.music.score import Note

GM_DRUMS = {
    "kick": 36, "snare": 38, "hat": 42, "openhat": 46, "pedalhat": 44, "ride": 51, "crash": 49,
    "clap": 39, "rim": 37, "tom_low": 45, "tom_mid": 47, "tom_high": 50, "tambourine": 54,
    "shaker": 70, "cowbell": 56,
}
_ACCENT = {"X": 1.15, "x": 0.95, "o": 0.5}
STEP_Q = 0.25  # one step is a 16th note


def default_pattern(plan: Plan) -> dict[str, str]:
    """A plain groove for any meter a theme has no pattern for: kick on 1, backbeat, 8th hats."""
    steps = round(plan.bar_quarters / STEP_Q)
    pulse_steps = round(plan.meter.pulse_quarters / STEP_Q)
    kick = ["."] * steps
    snare = ["."] * steps
    hat = ["x" if i % 2 == 0 else "." for i in range(steps)]
    kick[0] = "X"
    pulses = plan.meter.pulses
    for p in range(1, pulses):
        (snare if p % 2 == 1 or pulses == 3 else kick)[p * pulse_steps] = "x"
    return {"kick": "".join(kick), "snare": "".join(snare), "hat": "".join(hat)}


def _fill(start: float, bar_q: float, velocity: int, rng: random.Random) -> list[Note]:
    """Half a bar of 16ths moving down the toms, growing louder into the next section."""
    length = min(2.0, bar_q / 2)
    steps = round(length / STEP_Q)
    toms = ["snare", "snare", "tom_high", "tom_high", "tom_mid", "tom_mid", "tom_low", "tom_low"]
    notes = []
    for i in range(steps):
        name = toms[min(len(toms) - 1, i * len(toms) // steps)]
        if rng.random() < 0.15 and i not in (0, steps - 1):
            continue
        vel = int(velocity * (0.6 + 0.4 * i / max(1, steps - 1)))
        notes.append(Note(start + bar_q - length + i * STEP_Q, STEP_Q, GM_DRUMS[name], vel))
    return notes


def drum_part(plan: Plan, velocity: int, level: float, fills: bool, rng: random.Random,
              led: bool = False) -> list[Note]:
    patterns = plan.theme.spec["drums"]["patterns"]
    pattern = patterns.get(str(plan.meter)) or default_pattern(plan)
    if led:  # a drum-led piece: busier hats, a shaker layer and tom answers
        steps = round(plan.bar_quarters / STEP_Q)
        pattern = dict(pattern)
        pattern["hat"] = "".join("x" if i % 2 == 0 else "o" for i in range(steps))
        pattern["shaker"] = "".join("o" if i % 2 else "." for i in range(steps))
        pattern.setdefault("tom_low", "." * (steps - 2) + "x.")
    steps_per_bar = round(plan.bar_quarters / STEP_Q)
    vel = max(1, min(127, round(velocity * level)))
    notes: list[Note] = []
    for section in plan.sections:
        for bar in range(section.start_bar, section.end_bar):
            start = bar * plan.bar_quarters
            if bar == plan.bars - 1:  # the final bar: one crash and kick, left to ring
                notes += [Note(start, plan.bar_quarters, GM_DRUMS["crash"], min(127, vel + 10)),
                          Note(start, 1.0, GM_DRUMS["kick"], min(127, vel + 10))]
                continue
            if bar == section.start_bar and section.name not in ("intro",) and bar > 0:
                notes.append(Note(start, 2.0, GM_DRUMS["crash"], vel))
            fill_here = fills and bar == section.end_bar - 1 and section.name != "ending"
            for name, steps in pattern.items():
                if section.name == "intro" and name not in ("hat", "ride", "shaker", "kick", "pedalhat"):
                    continue
                for step in range(steps_per_bar):
                    mark = steps[step % len(steps)]
                    t = start + step * STEP_Q
                    in_fill = fill_here and t >= start + plan.bar_quarters - min(2.0, plan.bar_quarters / 2)
                    if mark == "." or (in_fill and name != "kick"):  # the kick keeps time under a fill
                        continue
                    if step == 0 and name in ("hat", "ride") and bar == section.start_bar and bar > 0:
                        continue  # the crash takes the downbeat
                    notes.append(Note(t, STEP_Q, GM_DRUMS[name], max(1, min(127, round(vel * _ACCENT[mark])))))
            if fill_here:
                notes += _fill(start, plan.bar_quarters, vel, rng)
    return notes
