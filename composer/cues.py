"""Explicit musical parameters written in plain English: tempo, key, meter and length.

Each reader returns the value and the text span it matched, so `understand` can strip
instruction words from the lyrics and report what it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from composer.theory import Key


@dataclass(frozen=True)
class Cue:
    value: object
    span: tuple[int, int]


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "ninety": 90, "a": 1, "an": 1,
}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"


def _number(text: str) -> float:
    text = text.lower()
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)


_TEMPO_WORDS = [  # (pattern, bpm) — Italian terms and plain words
    (r"\bgrave\b", 40), (r"\blargo\b", 50), (r"\blento\b", 55), (r"\badagio\b", 70),
    (r"\bandante\b", 90), (r"\bmoderato\b", 110), (r"\ballegretto\b", 116), (r"\ballegro\b", 132),
    (r"\bvivace\b", 150), (r"\bpresto\b", 176), (r"\bprestissimo\b", 200),
    (r"\bvery\s+slow(ly)?\b", 55), (r"\bvery\s+fast\b", 170), (r"\bslow(ly)?\b", 70),
    (r"\bfast\b|\bquick\b|\bupbeat\b", 140),
]
_BPM_RE = re.compile(
    r"(?:(\d{1,5})\s*(?:bpm|beats\s+per\s+minute)\b)|(?:(?:tempo|♩\s*=|q\s*=|at)\s*[:=]?\s*(\d{1,5})\b(?!\s*(?:s|sec|seconds|min|minutes)\b))",
    re.I,
)


def read_tempo(text: str) -> Cue | None:
    match = _BPM_RE.search(text)
    if match:
        bpm = int(match.group(1) or match.group(2))
        return Cue(bpm, match.span())
    for pattern, bpm in _TEMPO_WORDS:
        match = re.search(pattern, text, re.I)
        if match:
            return Cue(bpm, match.span())
    return None


_KEY_RE = re.compile(
    r"\b(?:in\s+(?:the\s+key\s+of\s+)?|key\s+(?:of\s+)?)?"
    r"([A-G])(\s*(?:#|♯|b|♭|-?sharp|-?flat)?)\s*(major|minor|maj|min|m)?(?![a-z#♯])",
)


def read_key(text: str) -> Cue | None:
    """A key only counts with a mode word or an 'in'/'key of' lead-in, so 'A song' is not A major."""
    for match in _KEY_RE.finditer(text):
        letter, accidental, mode = match.group(1), match.group(2).strip(), match.group(3)
        lead_in = match.group(0)[: match.start(1) - match.start()].strip()
        if not mode and not lead_in:
            continue
        if not mode and letter == "A" and not accidental and lead_in.lower() == "in":
            # "in A" is a key only when nothing word-like follows ("in a minute" is not)
            if re.match(r"\s*[a-z]", text[match.end():]):
                continue
        acc = {"#": "#", "♯": "#", "b": "b", "♭": "b", "sharp": "#", "-sharp": "#", "flat": "b", "-flat": "b"}
        acc_sign = acc.get(accidental.lower().strip(), "")
        mode_word = "minor" if mode in ("minor", "min", "m") else "major"
        return Cue(Key.parse(f"{letter}{acc_sign} {mode_word}"), match.span())
    match = re.search(r"\b([A-Ga-g])\s+(flat|sharp)\s+(major|minor)\b", text, re.I)
    if match:
        sign = "b" if match.group(2).lower() == "flat" else "#"
        return Cue(Key.parse(f"{match.group(1).upper()}{sign} {match.group(3).lower()}"), match.span())
    return None


_METER_WORDS = [
    (r"\bwaltz\b", "3/4"), (r"\bjig\b", "6/8"), (r"\bslip\s+jig\b", "9/8"),
    (r"\bmarch\s+time\b|\bcut\s+time\b", "2/4"), (r"\bcommon\s+time\b", "4/4"),
]


def read_meter(text: str) -> Cue | None:
    match = re.search(r"\b(2|3|4|5|6|7|9|12)\s*/\s*(2|4|8)\b", text)
    if match:
        return Cue(f"{match.group(1)}/{match.group(2)}", match.span())
    for pattern, meter in _METER_WORDS:
        match = re.search(pattern, text, re.I)
        if match:
            return Cue(meter, match.span())
    return None


_LENGTH_RE = re.compile(
    r"\b(?:(\d{1,2}):(\d{2})\b|" + _NUM + r"\s*(?:-\s*)?(seconds?|secs?|s|minutes?|mins?|m)\b)", re.I
)


def read_length(text: str) -> Cue | None:
    for match in _LENGTH_RE.finditer(text):
        if match.group(1):
            return Cue(int(match.group(1)) * 60 + int(match.group(2)), match.span())
        value, unit = _number(match.group(3)), match.group(4).lower()
        if unit in ("m",) and value > 20:  # "120m" is not two hours of music
            continue
        seconds = value * 60 if unit.startswith("m") else value
        return Cue(seconds, match.span())
    match = re.search(r"\bhalf\s+a\s+minute\b", text, re.I)
    if match:
        return Cue(30, match.span())
    match = re.search(r"\b(?:a\s+)?minute\s+and\s+a\s+half\b", text, re.I)
    if match:
        return Cue(90, match.span())
    match = re.search(r"\b(very\s+short|short|quick\s+jingle|long|extended)\b", text, re.I)
    if match:
        word = match.group(1).lower()
        return Cue({"very short": 10, "short": 15, "quick jingle": 10, "long": 90, "extended": 120}[word], match.span())
    return None
