"""Key and harmony from pitch-class weights: a Krumhansl–Schmuckler key estimate with the cues a
file gives (the notes it ends on, its key signature), the diatonic chord that best fits each bar,
and a theme's progressions from those chords.

Weights are 12 numbers, one per pitch class (C = 0), usually how many beats each sounds. The
profiles and the size of each cue were chosen on pieces that `evaluation.from_midi` does not
score (171 from the music21 corpus: 100 O'Neill tunes, 30 of them modal, 38 Essen songs, 33 Bach
chorales; and 90 of Muse's own): Temperley's Kostka–Payne profiles beat Krumhansl–Kessler's and
Aarden–Essen's there, and the last notes settle what the profiles leave open (a mixolydian tune
sounds like the major key a fifth below).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from composer.music.theory import Key, roman_to_chord

# Temperley (2007) key profiles from the Kostka–Payne harmony textbook excerpts, tonic first
MAJOR_PROFILE = np.array([0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400])
MINOR_PROFILE = np.array([0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330])
ALL_KEYS = tuple(Key(tonic, mode) for mode in ("major", "minor") for tonic in range(12))
BASS_FINAL = 0.15     # added to a key whose tonic is the lowest note sounding at the end ...
MELODY_FINAL = 0.35   # ... and the melody's last note (music mostly ends on its tonic)
SIGNATURE_BONUS = 0.05  # the two keys a key signature names (a major key and its relative minor) ...
SIGNATURE_FIT = 0.9     # ... when at least this share of the notes lies on the signature's scale
STATED_MINOR = 0.3  # a signature that says minor means it (a MIDI key signature is major unless set)

# Diatonic chords a bar may be heard as, per mode (harmonic minor's V and vii° as composers write them)
CHORDS = {
    "major": ("I", "ii", "iii", "IV", "V", "vi", "vii°", "V7", "ii7", "vi7", "Imaj7", "IVmaj7"),
    "minor": ("i", "ii°", "III", "iv", "v", "V", "VI", "VII", "V7", "iv7", "VII7"),
}
_EXTENSION_COST = 0.12  # a seventh chord must explain this much more of the bar than its triad
_TONAL_PRIOR = {"I": 0.03, "i": 0.03, "V": 0.02, "V7": 0.02, "IV": 0.01, "iv": 0.01}


def correlations(weights: Sequence[float]) -> dict[Key, float]:
    """Pearson correlation of the weights with each of the 24 rotated key profiles."""
    w = np.asarray(weights, dtype=float)
    if w.std() == 0:
        return {key: 0.0 for key in ALL_KEYS}
    out = {}
    for key in ALL_KEYS:
        profile = np.roll(MAJOR_PROFILE if key.mode == "major" else MINOR_PROFILE, key.tonic)
        out[key] = float(np.corrcoef(profile, w)[0, 1])
    return out


def scale_fit(weights: Sequence[float], key: Key) -> float:
    """Share of the weight that lies on the key's (natural) scale."""
    w = np.asarray(weights, dtype=float)
    return float(w[list(key.scale)].sum() / max(w.sum(), 1e-9))


def key_scores(weights: Sequence[float], finals: Sequence[tuple[int, float]] = (),
               signature: Key | None = None) -> dict[Key, float]:
    """Each key's score: its profile correlation, plus each bonus in `finals` ((pitch class, bonus),
    e.g. (last bass note, BASS_FINAL)) whose pitch class is its tonic, plus SIGNATURE_BONUS when the
    stated key signature names it and the notes keep to that signature, plus STATED_MINOR when the
    signature states it as a minor key."""
    scores = correlations(weights)
    named: tuple[Key, ...] = ()
    if signature is not None and scale_fit(weights, signature) >= SIGNATURE_FIT:
        major = signature.tonic if signature.mode == "major" else (signature.tonic + 3) % 12
        named = (Key(major, "major"), Key((major + 9) % 12, "minor"))
    for key in scores:
        scores[key] += sum(bonus for pc, bonus in finals if pc == key.tonic)
        if key in named:
            scores[key] += SIGNATURE_BONUS
        if key == signature and key.mode == "minor":
            scores[key] += STATED_MINOR
    return scores


def estimate_key(weights: Sequence[float], finals: Sequence[tuple[int, float]] = (),
                 signature: Key | None = None) -> Key:
    """The best-scoring key (see `key_scores`); C major for silence."""
    scores = key_scores(weights, finals, signature)
    return max(ALL_KEYS, key=lambda k: (scores[k], k.mode == "major", -k.tonic))


def key_of_notes(notes: np.ndarray, melody_last: int, signature: Key | None = None) -> Key:
    """`estimate_key` for notes given as rows of (start, length, pitch, …) in quarters: weights are
    the beats each pitch class sounds (a note counts at most 4), the finals the lowest note sounding
    at the very end and the melody's last note."""
    weights = np.bincount(notes[:, 2].astype(int) % 12, weights=np.minimum(notes[:, 1], 4.0), minlength=12)
    ends = notes[:, 0] + notes[:, 1]
    bass = int(notes[ends >= ends.max() - 0.05, 2].min())
    return estimate_key(weights, [(bass % 12, BASS_FINAL), (melody_last % 12, MELODY_FINAL)], signature)


def best_chord(weights: Sequence[float], key: Key, bass: int | None = None) -> str:
    """The diatonic chord (roman numeral in `key`) that best explains one bar's pitch-class weights:
    the share of the bar its tones cover, less what a seventh costs, plus a little when the bass
    note is its root and a little for the tonic and dominant."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if total <= 0:
        return "I" if key.mode == "major" else "i"
    w = w / total

    def fit(numeral: str) -> float:
        chord = roman_to_chord(numeral, key)
        score = sum(w[pc] for pc in chord.pitch_classes) - (_EXTENSION_COST if len(chord.intervals) > 3 else 0.0)
        score += 0.08 * (bass == chord.root) + 0.05 * w[chord.root] + _TONAL_PRIOR.get(numeral, 0.0)
        return score

    return max(CHORDS[key.mode], key=fit)


def bar_chords(notes: np.ndarray, key: Key, bar: float, pulse: float, phase: float = 0.0,
               limit: int = 256) -> list[str]:
    """The best-fitting chord (`best_chord`) of each bar that sounds, for the first `limit` bars.
    `notes` are rows of (start, length, pitch, …) in quarters; bars of `bar` quarters start at
    `phase`; a bar's bass is its lowest note that sounds within its first `pulse`."""
    weights = np.zeros((limit, 12))
    bass = np.full(limit, 128)
    for start, length, pitch in notes[:, :3]:
        first, last = int((start - phase) // bar), int((start + length - phase - 1e-6) // bar)
        for b in range(max(first, 0), min(last, limit - 1) + 1):
            low, high = phase + b * bar, phase + (b + 1) * bar
            weights[b, int(pitch) % 12] += min(high, start + length) - max(low, start)
            if start < low + pulse:
                bass[b] = min(bass[b], int(pitch))
    return [best_chord(weights[b], key, int(bass[b]) % 12 if bass[b] < 128 else None)
            for b in range(limit) if weights[b].sum() > 0]


def progressions(chords: Sequence[str], key: Key) -> dict[str, list[dict[str, Any]]]:
    """A theme's progressions from a piece's chords, one per bar. Verse: the most frequent run of
    four (runs start every other bar); chorus and bridge: the next most frequent (the bridge
    not on the tonic), else the verse turned round; intro: the verse's opening; ending: how the
    piece ends, always on the tonic."""
    tonic = "I" if key.mode == "major" else "i"
    runs = Counter(tuple(chords[i:i + 4]) for i in range(0, len(chords) - 3, 2))
    ranked = [list(run) for run, _ in runs.most_common()] or [(list(chords) * 4)[:4] or [tonic, "V", tonic, "V"]]
    verse, others = ranked[0], ranked[1:]
    chorus = others[0] if others else verse[2:] + verse[:2]
    bridge = next((run for run in others[1:] if run[0] != tonic), verse[1:] + verse[:1])
    ending = [c for c in chords[-3:-1] if c != tonic] or ["V"]
    sections = {"intro": verse[:2], "verse": verse, "chorus": chorus, "bridge": bridge, "ending": [*ending, tonic]}
    return {name: [{"chords": numerals, "weight": 1}] for name, numerals in sections.items()}
