"""Pitch names, keys, scales and roman-numeral chords: the small music theory every stage shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
# Major keys conventionally spelled with flats; minor keys use their relative major's spelling.
_FLAT_MAJOR_TONICS = {5, 10, 3, 8, 1, 6}  # F Bb Eb Ab Db Gb

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor; harmonic V is handled by chord spelling
}

_KEY_RE = re.compile(r"^\s*([A-Ga-g])\s*(#|b|♯|♭|sharp|flat)?\s*(major|minor|maj|min|m)?\s*$", re.I)


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode; spelled the way the manifest contract wants ("F# minor")."""

    tonic: int
    mode: str  # "major" | "minor"

    @classmethod
    def parse(cls, text: str) -> "Key":
        match = _KEY_RE.match(text or "")
        if not match:
            raise ValueError(f"not a key: {text!r}")
        letter, accidental, mode = match.groups()
        pc = PITCH_CLASS[letter.upper()]
        if accidental:
            pc += 1 if accidental.lower() in ("#", "♯", "sharp") else -1
        mode_name = "minor" if mode and mode.lower() in ("minor", "min", "m") else "major"
        if mode == "M":  # "CM" conventionally means major
            mode_name = "major"
        return cls(pc % 12, mode_name)

    @property
    def uses_flats(self) -> bool:
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        return major_tonic in _FLAT_MAJOR_TONICS

    @property
    def tonic_name(self) -> str:
        return (FLAT_NAMES if self.uses_flats else SHARP_NAMES)[self.tonic]

    @property
    def name(self) -> str:
        return f"{self.tonic_name} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the key's scale, tonic first."""
        return tuple((self.tonic + step) % 12 for step in SCALES[self.mode])

    @property
    def sharps(self) -> int:
        """Signed count of sharps (negative = flats) for the MIDI key signature."""
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        fifths = (major_tonic * 7) % 12
        if fifths > 6 or (fifths == 6 and self.uses_flats):
            fifths -= 12
        return fifths

    def transposed(self, semitones: int) -> "Key":
        return Key((self.tonic + semitones) % 12, self.mode)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Meter:
    """A time signature; beats are counted in the denominator's unit, pulses group compound meters."""

    numerator: int
    denominator: int

    @classmethod
    def parse(cls, text: str) -> "Meter":
        match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*", text or "")
        if not match:
            raise ValueError(f"not a meter: {text!r}")
        num, den = int(match.group(1)), int(match.group(2))
        if den not in (2, 4, 8) or not 1 <= num <= 12:
            raise ValueError(f"unsupported meter: {text!r}")
        return cls(num, den)

    @property
    def bar_quarters(self) -> float:
        """Length of one bar in quarter notes (MIDI ticks are counted in quarters)."""
        return self.numerator * 4 / self.denominator

    @property
    def compound(self) -> bool:
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def pulse_quarters(self) -> float:
        """The felt beat: dotted quarter in compound meters, else the denominator's note."""
        return 1.5 if self.compound else 4 / self.denominator

    @property
    def pulses(self) -> int:
        return round(self.bar_quarters / self.pulse_quarters)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


# Roman numeral → (scale degree 0-6, quality override or None, extension).
_ROMAN = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}
_ROMAN_RE = re.compile(r"^(b|#)?(vii|iii|vi|iv|ii|v|i)(°|o|dim|\+|aug)?(maj7|7|6|9|sus2|sus4)?$", re.I)

QUALITY_INTERVALS = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
}


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class plus intervals; `symbol` keeps the roman numeral for descriptions."""

    root: int
    intervals: tuple[int, ...]
    symbol: str

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root + i) % 12 for i in self.intervals)

    def name(self, key: Key) -> str:
        root = (FLAT_NAMES if key.uses_flats else SHARP_NAMES)[self.root]
        triad = self.intervals[:3]
        suffix = {(0, 4, 7): "", (0, 3, 7): "m", (0, 3, 6): "dim", (0, 4, 8): "aug",
                  (0, 2, 7): "sus2", (0, 5, 7): "sus4"}.get(triad, "")
        if len(self.intervals) > 3:
            ext = self.intervals[3]
            suffix += {11: "maj7", 10: "7", 9: "6", 14: "add9"}.get(ext, "")
        return root + suffix


def is_roman(text: str) -> bool:
    return bool(_ROMAN_RE.match(text))


def roman_to_chord(numeral: str, key: Key) -> Chord:
    """Spell a roman numeral in a key. Upper case = major, lower = minor, ° = diminished.

    In minor keys `V` is major and `vii°` sits on the leading tone (harmonic minor), as composers write them.
    """
    match = _ROMAN_RE.match(numeral)
    if not match:
        raise ValueError(f"not a roman numeral: {numeral!r}")
    accidental, roman, quality_mark, extension = match.groups()
    degree = _ROMAN[roman.lower()]
    scale = SCALES[key.mode]
    root = (key.tonic + scale[degree] + (1 if accidental == "#" else -1 if accidental == "b" else 0)) % 12
    if quality_mark and quality_mark.lower() in ("°", "o", "dim"):
        quality = "dim"
        if key.mode == "minor" and degree == 6 and not accidental:
            root = (root + 1) % 12  # vii° in minor sits on the raised leading tone
    elif quality_mark and quality_mark.lower() in ("+", "aug"):
        quality = "aug"
    else:
        quality = "maj" if roman.isupper() else "min"
    intervals = list(QUALITY_INTERVALS[quality])
    if extension:
        ext = extension.lower()
        if ext in ("sus2", "sus4"):
            intervals = list(QUALITY_INTERVALS[ext])
        elif ext == "maj7":
            intervals.append(11)
        elif ext == "7":
            intervals.append(10)
        elif ext == "6":
            intervals.append(9)
        elif ext == "9":
            intervals += [10, 14]
    return Chord(root, tuple(intervals), numeral)


_CHORD_NAME_RE = re.compile(r"^([A-G])(#|b)?(m|dim|aug|sus2|sus4)?(maj7|7|6|add9)?$")
_TRIADS = {None: (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8), "sus2": (0, 2, 7), "sus4": (0, 5, 7)}
_EXTENSIONS = {None: (), "maj7": (11,), "7": (10,), "6": (9,), "add9": (14,)}


def parse_chord_name(name: str) -> frozenset[int]:
    """Pitch classes of a chord name as `Chord.name` writes it ("F#m", "Bbmaj7", "Cdim")."""
    match = _CHORD_NAME_RE.match(name.strip())
    if not match:
        raise ValueError(f"not a chord name: {name!r}")
    letter, accidental, quality, extension = match.groups()
    root = (PITCH_CLASS[letter] + (1 if accidental == "#" else -1 if accidental == "b" else 0)) % 12
    return frozenset((root + i) % 12 for i in _TRIADS[quality] + _EXTENSIONS[extension])
