"""The melody as ABC notation, for `format: text` (a member can paste it into any ABC tool).

Every note carries an explicit accidental (`=`, `^` or `_`), so the key signature in `K:`
never changes what a note means. Durations are in sixteenths (`L:1/16`); notes that cross a
bar line are split and tied.
"""

from __future__ import annotations

from composer.music.score import Score

_SHARP_NAMES = ("=C", "^C", "=D", "^D", "=E", "=F", "^F", "=G", "^G", "=A", "^A", "=B")
_FLAT_NAMES = ("=C", "_D", "=D", "_E", "=E", "=F", "_G", "=G", "_A", "=A", "_B", "=B")
UNITS_PER_QUARTER = 4  # L:1/16
NOTES_PER_LINE_BARS = 4


def _pitch(midi: int, flats: bool) -> str:
    name = (_FLAT_NAMES if flats else _SHARP_NAMES)[midi % 12]
    octave = midi // 12 - 5  # 0: the octave from middle C (60) up, written in capitals
    accidental, letter = name[0], name[1]
    if octave >= 1:
        return accidental + letter.lower() + "'" * (octave - 1)
    return accidental + letter + "," * (-octave)


def _key_field(key_name: str) -> str:
    tonic, _, mode = key_name.partition(" ")
    return tonic + ("m" if mode == "minor" else "")


def melody_abc(score: Score) -> str:
    """ABC text of the score's melody (the `vocals` or `lead` track)."""
    flats = score.key_sharps < 0
    bar_units = round(score.numerator * 4 / score.denominator * UNITS_PER_QUARTER)
    events: list[tuple[int, int, str]] = []  # (start unit, length units, pitch or "z")
    cursor = 0
    for note in sorted(score.melody.notes, key=lambda n: n.start):
        start = round(note.start * UNITS_PER_QUARTER)
        length = max(1, round(note.duration * UNITS_PER_QUARTER))
        if start < cursor:  # overlapping notes in a monophonic line: keep the earlier one
            continue
        if start > cursor:
            events.append((cursor, start - cursor, "z"))
        events.append((start, length, _pitch(note.pitch, flats)))
        cursor = start + length
    total = round(score.total_quarters * UNITS_PER_QUARTER)
    if cursor < total:
        events.append((cursor, total - cursor, "z"))

    bars: list[str] = []
    current = ""
    position = 0
    for _, length, symbol in events:
        while length > 0:
            room = bar_units - position % bar_units
            part = min(length, room)
            length -= part
            current += symbol + (str(part) if part != 1 else "") + ("-" if length and symbol != "z" else "") + " "
            position += part
            if position % bar_units == 0:
                bars.append(current.strip())
                current = ""
    if current.strip():
        bars.append(current.strip())
    lines = [" | ".join(bars[i:i + NOTES_PER_LINE_BARS]) + " |" for i in range(0, len(bars), NOTES_PER_LINE_BARS)]
    if lines:
        lines[-1] = lines[-1][:-1].rstrip() + " |]"  # the final bar line
    header = ["X:1", f"T:{score.title}", f"M:{score.numerator}/{score.denominator}", "L:1/16",
              f"Q:1/4={score.tempo}", f"K:{_key_field(score.key_name)}"]
    return "\n".join(header + lines) + "\n"
