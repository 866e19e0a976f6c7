"""Chord labels per half-bar for training data: from the other voices where a score has them,
else the diatonic triad that best covers the melody's notes."""

from __future__ import annotations

QUALITIES = ("maj", "min", "dim", "other")  # chord tokens: root relative to the tonic × quality
_TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
# Diatonic triads (root offset, quality) used to harmonise a bare tune, in order of preference.
DIATONIC = {
    "major": ((0, "maj"), (7, "maj"), (5, "maj"), (9, "min"), (2, "min"), (4, "min"), (11, "dim")),
    "minor": ((0, "min"), (7, "maj"), (5, "min"), (8, "maj"), (3, "maj"), (10, "maj"), (7, "min"), (2, "dim")),
}


def chord_pcs(root: int, quality: str) -> frozenset[int]:
    return frozenset((root + i) % 12 for i in _TRIADS.get(quality, (0, 4, 7)))


def quality_of(intervals: tuple[int, ...]) -> str:
    triad = tuple(intervals[:3])
    for name, steps in _TRIADS.items():
        if triad == steps:
            return name
    return "other"


def fit_any(weights: list[float], previous: tuple[int, str] | None) -> tuple[int, str] | None:
    """Best major/minor/diminished triad (root relative to tonic) for a pitch-class weight vector."""
    if sum(weights) <= 0:
        return previous
    best, best_score = None, -1.0
    for root in range(12):
        for quality in ("maj", "min", "dim"):
            pcs = chord_pcs(root, quality)
            score = sum(weights[pc] for pc in pcs) + 0.15 * weights[root] - (0.2 if quality == "dim" else 0.0)
            if (root, quality) == previous:
                score += 0.05
            if score > best_score:
                best, best_score = (root, quality), score
    return best


def fit_diatonic(weights: list[float], mode: str, previous: tuple[int, str] | None) -> tuple[int, str] | None:
    """The diatonic triad covering most of a half-bar's melody weight (earlier in DIATONIC wins ties)."""
    if sum(weights) <= 0:
        return previous
    best, best_score = None, -1.0
    for rank, (root, quality) in enumerate(DIATONIC[mode]):
        pcs = chord_pcs(root, quality)
        score = sum(weights[pc] for pc in pcs) - 0.01 * rank
        if (root, quality) == previous:
            score += 0.02
        if score > best_score:
            best, best_score = (root, quality), score
    return best
