"""The two singers: where each sings comfortably and how its timbre is made from the one voice.

There is one offline neural voice (Joe, a man). The male singer is Joe re-pitched to the notes; the
female singer sings about an octave higher *and* has her spectral envelope stretched upwards
(formants about 18% higher, as in women's voices), so she does not sound like a sped-up man.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace

from composer.music.score import Note


@dataclass(frozen=True)
class Singer:
    name: str
    center: int  # MIDI pitch the line's median is moved nearest to (whole octaves only)
    low: int  # notes outside [low, high] are folded in by octaves
    high: int
    formant_ratio: float  # spectral-envelope stretch along frequency (1.0: unchanged)
    breathiness: float  # 0..1 extra aperiodicity on vowels
    vibrato_cents: float  # peak depth
    vibrato_hz: float


SINGERS = {
    "male": Singer("male", center=48, low=41, high=64, formant_ratio=1.0, breathiness=0.0,
                   vibrato_cents=10.0, vibrato_hz=5.3),
    # an alto's middle (C4, 262 Hz), an octave over him: the voice is re-pitched from a man's
    # speech, and higher notes sample its vowels too sparsely to keep them apart
    "female": Singer("female", center=60, low=53, high=74, formant_ratio=1.18, breathiness=0.15,
                     vibrato_cents=12.0, vibrato_hz=5.8),
}


def singer_for(voice_name: str) -> Singer:
    return SINGERS.get(voice_name, SINGERS["male"])


def fit_range(notes: list[Note], singer: Singer) -> tuple[list[Note], int]:
    """Move the line by whole octaves so its median sits nearest the singer's centre, then fold
    stray notes into range; returns (notes, octave shift in semitones). Harmony is unchanged."""
    if not notes:
        return notes, 0
    median = statistics.median(n.pitch for n in notes)
    shift = min((-24, -12, 0, 12, 24), key=lambda s: (abs(median + s - singer.center), abs(s)))
    out = []
    for n in notes:
        pitch = n.pitch + shift
        while pitch < singer.low:
            pitch += 12
        while pitch > singer.high:
            pitch -= 12
        out.append(replace(n, pitch=pitch))
    return out, shift
