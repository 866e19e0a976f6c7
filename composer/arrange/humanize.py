"""Swing and small human imperfections, deterministic for a seed."""

from __future__ import annotations

import random
from dataclasses import replace

from composer.music.score import Note


def swing(notes: list[Note], amount: float) -> list[Note]:
    """Delay every off-beat 8th by `amount` of an 8th (0.33 ≈ triplet swing)."""
    if amount <= 0:
        return notes
    out = []
    for n in notes:
        frac = n.start % 1.0
        if abs(frac - 0.5) < 1e-6:
            shift = 0.5 * amount
            out.append(replace(n, start=n.start + shift, duration=max(0.05, n.duration - shift)))
        elif abs(frac) < 1e-6 and abs(n.duration - 0.5) < 1e-6:
            out.append(replace(n, duration=0.5 + 0.5 * amount))
        else:
            out.append(n)
    return out


def humanize(notes: list[Note], amount: float, rng: random.Random, keep_grid: bool = False) -> list[Note]:
    """Velocity ± up to 10 and timing ± up to 15 ms-ish (in quarters) scaled by `amount`."""
    if amount <= 0:
        return notes
    out = []
    for n in notes:
        velocity = max(1, min(127, n.velocity + round(rng.uniform(-10, 10) * amount)))
        jitter = 0.0 if keep_grid or n.start == 0 else rng.uniform(-0.02, 0.02) * amount
        out.append(replace(n, start=max(0.0, n.start + jitter), velocity=velocity))
    return out
