"""Music metrics Muse measures itself with, computed from a MIDI file or a Score.

Scale consistency, pitch-class entropy and groove consistency follow the MusPy definitions;
chord-tone ratio uses what the other tracks sound at each strong-beat melody onset, so it works
on any MIDI file, not only Muse's own.
"""

from __future__ import annotations

import io
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from composer.formats.midi import CHORD_PREFIX
from composer.music.score import DRUM_CHANNEL, Note
from composer.music.theory import SCALES, Key, parse_chord_name

# Krumhansl–Kessler key profiles
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
GRID_TOLERANCE_Q = 0.06  # onsets this close to a beat count as on it (humanised timing)


@dataclass
class MidiTrackInfo:
    name: str
    channel: int
    program: int | None
    notes: list[Note] = field(default_factory=list)

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL


@dataclass
class MidiInfo:
    """What a MIDI file states and holds, with times in quarter notes."""

    tempo_bpm: float | None
    meter: tuple[int, int] | None
    key_signature: str | None
    length_q: float
    length_s: float
    tracks: list[MidiTrackInfo]
    chords: list[tuple[float, frozenset[int]]] = field(default_factory=list)  # stated chord symbols

    def track(self, name: str) -> MidiTrackInfo | None:
        return next((t for t in self.tracks if t.name == name), None)

    @property
    def melody(self) -> MidiTrackInfo | None:
        return self.track("vocals") or self.track("lead")

    @property
    def pitched(self) -> list[Note]:
        return [n for t in self.tracks if not t.is_drums for n in t.notes]

    @property
    def bar_q(self) -> float:
        num, den = self.meter or (4, 4)
        return num * 4 / den


def load_midi(source: str | Path | bytes) -> MidiInfo:
    mid = mido.MidiFile(file=io.BytesIO(source)) if isinstance(source, bytes) else mido.MidiFile(str(source))
    tpq = mid.ticks_per_beat
    tempo = meter = key = None
    tracks: list[MidiTrackInfo] = []
    chords: list[tuple[float, frozenset[int]]] = []
    end_tick = 0
    for mt in mid.tracks:
        tick = 0
        name, program, channel = "", None, None
        open_notes: dict[tuple[int, int], tuple[int, int]] = {}
        notes: list[Note] = []
        for msg in mt:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature" and meter is None:
                meter = (msg.numerator, msg.denominator)
            elif msg.type == "key_signature" and key is None:
                key = msg.key
            elif msg.type == "text" and msg.text.startswith(CHORD_PREFIX):
                try:
                    chords.append((tick / tpq, parse_chord_name(msg.text[len(CHORD_PREFIX):])))
                except ValueError:
                    pass
            elif msg.type == "program_change":
                program = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                channel = msg.channel
                open_notes[(msg.channel, msg.note)] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                started = open_notes.pop((msg.channel, msg.note), None)
                if started:
                    notes.append(Note(started[0] / tpq, (tick - started[0]) / tpq, msg.note, started[1]))
        end_tick = max(end_tick, tick)
        if notes:
            tracks.append(MidiTrackInfo(name, channel if channel is not None else 0, program,
                                        sorted(notes, key=lambda n: (n.start, n.pitch))))
    length_q = end_tick / tpq
    bpm = tempo or 120.0
    return MidiInfo(tempo, meter, key, length_q, length_q * 60.0 / bpm, tracks, sorted(chords, key=lambda c: c[0]))


# -- pitch metrics --------------------------------------------------------------------------

def pitch_class_histogram(notes: list[Note], weighted: bool = True) -> np.ndarray:
    hist = np.zeros(12)
    for n in notes:
        hist[n.pitch % 12] += n.duration if weighted else 1.0
    return hist / hist.sum() if hist.sum() else hist


def scale_consistency(notes: list[Note]) -> float:
    """Largest fraction of notes inside one major or natural-minor scale (MusPy)."""
    if not notes:
        return 0.0
    pcs = np.array([n.pitch % 12 for n in notes])
    best = 0.0
    for tonic in range(12):
        for steps in SCALES.values():
            scale = {(tonic + s) % 12 for s in steps}
            best = max(best, float(np.isin(pcs, list(scale)).mean()))
    return best


def pitch_class_entropy(notes: list[Note]) -> float:
    """Shannon entropy (bits) of the note-count pitch-class histogram; 0 to log2(12) ≈ 3.58."""
    hist = pitch_class_histogram(notes, weighted=False)
    nz = hist[hist > 0]
    return float(-(nz * np.log2(nz)).sum()) if nz.size else 0.0


def estimate_key(notes: list[Note]) -> tuple[Key, float]:
    """Key by correlation of the duration-weighted pitch-class profile (Krumhansl–Schmuckler)."""
    hist = pitch_class_histogram(notes)
    best, best_r = Key(0, "major"), -2.0
    for tonic in range(12):
        for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
            r = float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1]) if hist.any() else 0.0
            if r > best_r:
                best, best_r = Key(tonic, mode), r
    return best, best_r


def _on_grid(t: float, step: float) -> bool:
    return abs(t / step - round(t / step)) * step <= GRID_TOLERANCE_Q


def chord_tone_ratio(info: MidiInfo, beat_q: float | None = None) -> float:
    """Share of strong-beat melody notes that belong to the chord of that moment.

    The chord is the one the file states (Muse writes chord symbols); for other files it is what
    the accompaniment sounds during that beat.
    """
    melody = info.melody
    if melody is None:
        return 0.0
    beat = beat_q or _pulse(info)
    others = [n for t in info.tracks if not t.is_drums and t is not melody for n in t.notes]
    hits = total = 0
    for note in melody.notes:
        if not _on_grid(note.start, beat):
            continue
        at = round(note.start / beat) * beat
        if info.chords:
            stated = [pcs for start, pcs in info.chords if start <= at + 1e-6]
            chord = stated[-1] if stated else info.chords[0][1]
        else:
            chord = {o.pitch % 12 for o in others if o.start < at + beat and o.end > at}
        if not chord:
            continue
        total += 1
        hits += note.pitch % 12 in chord
    return hits / total if total else 0.0


def _pulse(info: MidiInfo) -> float:
    num, den = info.meter or (4, 4)
    compound = den == 8 and num % 3 == 0 and num > 3
    return 1.5 if compound else 4 / den


# -- rhythm and structure -------------------------------------------------------------------

def groove_consistency(notes: list[Note], bar_q: float, resolution: int = 4) -> float:
    """1 − mean Hamming distance between consecutive bars' onset grids (MusPy)."""
    if not notes:
        return 0.0
    steps = max(1, round(bar_q * resolution))
    bars = int(max(n.start for n in notes) // bar_q) + 1
    grid = np.zeros((bars, steps), dtype=bool)
    for n in notes:
        bar = int(n.start // bar_q)
        step = min(steps - 1, int(round((n.start - bar * bar_q) * resolution)) % steps)
        grid[bar, step] = True
    if bars < 2:
        return 1.0
    return float(1.0 - np.mean([np.mean(grid[i] != grid[i + 1]) for i in range(bars - 1)]))


def compression_ratio(notes: list[Note]) -> float:
    """Raw size / zlib size of the melody as (interval, duration) tokens: higher means more repetition."""
    if len(notes) < 2:
        return 1.0
    tokens = bytearray()
    for a, b in zip(notes, notes[1:]):
        tokens += bytes([(b.pitch - a.pitch) % 256, min(255, round(b.duration * 12))])
    return len(tokens) / len(zlib.compress(bytes(tokens), 9))


def note_density(notes: list[Note], length_q: float, bar_q: float) -> float:
    """Notes per bar."""
    bars = max(1.0, length_q / bar_q)
    return len(notes) / bars


def same_pitch_overlaps(notes: list[Note]) -> int:
    """How many notes start while an earlier note of the same pitch still sounds."""
    count = 0
    last_end: dict[int, float] = {}
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        if last_end.get(n.pitch, -1.0) > n.start + 1e-6:
            count += 1
        last_end[n.pitch] = max(last_end.get(n.pitch, -1.0), n.end)
    return count


def ends_on_tonic(info: MidiInfo, key: Key) -> bool:
    """The last sounding chord contains the tonic, and the bass and melody both land on it."""
    pitched = info.pitched
    if not pitched:
        return False
    last_start = max(n.start for n in pitched)
    final = [n for n in pitched if n.start >= last_start - GRID_TOLERANCE_Q * 2]
    lowest = min(final, key=lambda n: n.pitch)
    melody = info.melody
    melody_ok = melody is None or (melody.notes and melody.notes[-1].pitch % 12 == key.tonic)
    return lowest.pitch % 12 == key.tonic and bool(melody_ok)


def summary(info: MidiInfo) -> dict[str, float]:
    """The metrics a report or a test reads, on one piece."""
    melody = info.melody.notes if info.melody else []
    key, confidence = estimate_key(info.pitched)
    drums = [n for t in info.tracks if t.is_drums for n in t.notes]
    all_notes = [n for t in info.tracks for n in t.notes]
    return {
        "scale_consistency": scale_consistency(melody),
        "scale_consistency_all": scale_consistency(info.pitched),
        "pitch_class_entropy": pitch_class_entropy(melody),
        "chord_tone_ratio": chord_tone_ratio(info),
        "groove_consistency": groove_consistency(drums or all_notes, info.bar_q),
        "compression_ratio": compression_ratio(melody),
        "note_density": note_density(melody, info.length_q, info.bar_q),
        "drum_share": len(drums) / len(all_notes) if all_notes else 0.0,
        "estimated_key": key.name,
        "key_confidence": confidence,
        "tempo_bpm": info.tempo_bpm or math.nan,
    }
