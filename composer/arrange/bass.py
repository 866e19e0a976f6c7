"""The bass line, one style per theme: roots, fifths, walking lines, octaves."""

from __future__ import annotations

from composer.plan import Plan
from composer.music.score import Note
from composer.music.theory import SCALES


def _bass_pitch(pc: int, octave: int) -> int:
    return (octave + 1) * 12 + pc


def bass_part(plan: Plan, style: str, octave: int, velocity: int) -> list[Note]:
    notes: list[Note] = []
    slot_q, pulse = plan.slot_quarters, plan.meter.pulse_quarters
    scale = [(plan.key.tonic + s) % 12 for s in SCALES[plan.key.mode]]
    total_slots = plan.bars * plan.slots_per_bar
    for index in range(total_slots):
        start = index * slot_q
        chord = plan.chord_at(start)
        root = _bass_pitch(chord.root, octave)
        fifth = root + 7 if root + 7 <= 55 else root - 5
        final = index >= total_slots - plan.slots_per_bar
        if final:
            if index == total_slots - plan.slots_per_bar:
                notes.append(Note(start, plan.bar_quarters, root, velocity))
            continue
        beats = max(1, round(slot_q / pulse))
        if style == "root" or style == "pedal":
            pitch = _bass_pitch(plan.key.tonic, octave) if style == "pedal" else root
            notes.append(Note(start, slot_q * 0.95, pitch, velocity))
        elif style == "root-fifth":
            if beats % 2:  # waltz: the bass alternates root and fifth bar by bar, on the downbeat
                notes.append(Note(start, pulse * 0.95, root if index % 2 == 0 else fifth, velocity))
            else:
                notes.append(Note(start, pulse * 0.9, root, velocity))
                notes.append(Note(start + beats // 2 * pulse, pulse * 0.9, fifth, int(velocity * 0.85)))
        elif style == "walking":
            nxt = plan.chord_at(min(start + slot_q, plan.total_quarters - 1e-3))
            target = _bass_pitch(nxt.root, octave)
            line = [root]
            for b in range(1, beats):
                if b == beats - 1:
                    line.append(target - 1 if target - 1 != line[-1] else target + 1)
                else:
                    choices = [p for p in (root + 4 if 4 in chord.intervals else root + 3, root + 7, root + 2)
                               if p % 12 in scale or p % 12 in chord.pitch_classes]
                    line.append(choices[(b + index) % len(choices)] if choices else root)
            for b, p in enumerate(line):
                notes.append(Note(start + b * pulse, pulse * 0.9, p, int(velocity * (1.0 if b == 0 else 0.85))))
        elif style == "octave":
            step = 0.5
            for i in range(max(1, round(slot_q / step))):
                notes.append(Note(start + i * step, step * 0.8, root + (12 if i % 2 else 0), velocity))
        elif style == "arpeggio":
            tones = [root + i for i in chord.intervals[:3]]
            for b in range(beats):
                notes.append(Note(start + b * pulse, pulse * 0.9, tones[b % len(tones)], velocity))
        elif style == "syncopated":
            for offset in (0.0, 1.5, 3.0):
                if offset < slot_q:
                    notes.append(Note(start + offset, 0.9 if offset < 3 else min(0.9, slot_q - offset), root, velocity))
    return notes
