"""Chord voicings that move smoothly: each chord takes the inversion nearest the previous one."""

from __future__ import annotations

from composer.music.theory import Chord


def voice_chord(chord: Chord, center: int, previous: list[int] | None, size: int = 3) -> list[int]:
    """Close-position pitches of `chord` around `center`, nearest to `previous` when given."""
    pcs = [(chord.root + i) % 12 for i in chord.intervals][: max(size, 3)]
    candidates: list[list[int]] = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base_octave in (center // 12 - 1, center // 12):
            pitches, last = [], base_octave * 12 - 1
            for pc in order:
                p = base_octave * 12 + pc
                while p <= last:
                    p += 12
                pitches.append(p)
                last = p
            candidates.append(pitches)
    # keep chords off the bass's register: nothing more than a sixth below the centre
    candidates = [c for c in candidates if min(c) >= center - 9] or candidates
    target = previous or [center - 4, center, center + 4]
    mean_target = sum(target) / len(target)

    def cost(pitches: list[int]) -> float:
        mean = sum(pitches) / len(pitches)
        motion = sum(min(abs(p - q) for q in target) for p in pitches)
        return motion + 0.5 * abs(mean - center) + 0.2 * abs(mean - mean_target)

    return min(candidates, key=cost)
