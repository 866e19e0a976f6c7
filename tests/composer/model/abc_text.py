"""Small ABC tunes written from scale degrees, for the corpus tests (no files from music21's corpus)."""

from __future__ import annotations

import random

# Scale steps from C, (octave below middle C) to b (two octaves up): degree 7 is middle C.
LETTERS = ["C,", "D,", "E,", "F,", "G,", "A,", "B,", "C", "D", "E", "F", "G", "A", "B",
           "c", "d", "e", "f", "g", "a", "b"]
RHYTHMS = ([2, 2, 2, 2], [3, 1, 2, 2], [2, 2, 4], [1, 1, 2, 2, 2], [4, 4], [2, 1, 1, 2, 2])  # eighths per 4/4 bar


def random_bars(rng: random.Random, bars: int = 8) -> list[list[tuple[int, int]]]:
    """Bars of (scale degree, eighths): a walk around middle C, one rhythm pattern per bar."""
    degree, out = 9, []
    for _ in range(bars):
        bar = []
        for length in rng.choice(RHYTHMS):
            degree = min(len(LETTERS) - 2, max(3, degree + rng.choice((-2, -1, -1, 1, 1, 2, 3, -3))))
            bar.append((degree, length))
        out.append(bar)
    return out


def abc_tune(number: int, bars: list[list[tuple[int, int]]], key: str = "C", shift: int = 0,
             title: str = "") -> str:
    """One 4/4 tune (L:1/8). `shift` moves every note that many letters up: with a key a step higher
    (C → D, `shift=1`), a transposition."""
    body = " | ".join(" ".join(f"{LETTERS[d + shift]}{n}" for d, n in bar) for bar in bars)
    return f"X:{number}\nT:{title or f'Tune {number}'}\nM:4/4\nL:1/8\nK:{key}\n{body} |]\n"


def abc_file(rng: random.Random, tunes: int, bars: int = 8) -> str:
    return "\n".join(abc_tune(i + 1, random_bars(rng, bars)) for i in range(tunes))


# Two small tunes in one file: a 3/4 air with a pickup and a minor 4/4 tune.
TWO_TUNES = """%%header comment
X:1
T:Test Air
M:3/4
L:1/8
K:G
D2 | G2 B2 d2 | c2 A2 F2 | G4 B2 | A4 D2 | G2 B2 d2 | e2 c2 A2 | G2 F2 A2 | G4 |]

X:2
T:Minor Tune
M:4/4
L:1/8
K:Am
A2 c2 e2 c2 | d2 f2 e2 c2 | B2 d2 c2 A2 | E4 A4 | A2 c2 e2 a2 | g2 e2 d2 B2 | c2 B2 A2 G2 | A8 |]
"""
