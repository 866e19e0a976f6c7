"""Explicit musical parameters written in plain English: tempo, key, meter, length, variations, pitch.

Each reader returns every cue it finds, in text order, with the span it matched, so `understand`
can take the first, note contradictions, and strip instruction words from the lyrics. Values are
as written (a tempo of 5000 stays 5000); clamping to Muse's ranges happens in `understand`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from composer.music.theory import Key


@dataclass(frozen=True)
class Cue:
    value: object
    span: tuple[int, int]
    exact: bool = True  # a number or a name, not a vague word like "slow" or "short"


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_NUM = (r"(?:(?:" + "|".join(_TENS) + r")(?:[\s-](?:" + "|".join(k for k in _UNITS if k != "zero") + r"))?|"
             + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"|a\s+couple\s+of|a\s+few|a|an|half\s+an?)")
NUM = r"(\d+(?:[.,]\d+)?|" + _WORD_NUM + r")"


def number(text: str) -> float:
    """'12', '2.5', 'twenty-five', 'a', 'a couple of' → a number."""
    text = " ".join(text.lower().replace("-", " ").split())
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    special = {"a": 1, "an": 1, "a couple of": 2, "a few": 3, "half a": 0.5, "half an": 0.5}
    if text in special:
        return float(special[text])
    parts = text.split()
    return float(sum(_TENS.get(p, _UNITS.get(p, 0)) for p in parts))


def _all(pattern: re.Pattern[str], text: str):
    return list(pattern.finditer(text))


def _word_table_re(table: list[tuple[str, object]]) -> re.Pattern[str]:
    """One regex over a (pattern, value) table; each alternative is a named group w<index>."""
    return re.compile(r"\b(?:" + "|".join(f"(?P<w{i}>{p})" for i, (p, _) in enumerate(table)) + r")\b", re.I)


def _word_value(table: list[tuple[str, object]], match: re.Match[str]):
    """The table value of whichever alternative matched."""
    return table[int(next(name for name, value in match.groupdict().items() if value)[1:])][1]


# ---- tempo -----------------------------------------------------------------------------------

_TEMPO_WORDS = [  # (pattern, bpm) — Italian terms first (longest first), then plain words
    (r"prestissimo", 200), (r"presto", 176), (r"vivacissimo", 172), (r"vivace", 156), (r"allegro\s+vivace", 156),
    (r"allegro\s+moderato", 120), (r"allegretto", 112), (r"allegro", 132), (r"moderato", 108),
    (r"andantino", 96), (r"andante", 88), (r"adagietto", 74), (r"adagio", 68), (r"larghetto", 62),
    (r"lento", 56), (r"largo", 50), (r"grave", 40),
    (r"(?:very|really|super|extremely|incredibly|ultra)[\s-]+(?:slow|slowly)", 52),
    (r"(?:very|really|super|extremely|incredibly|ultra|blazing(?:ly)?)[\s-]+(?:fast|quick|rapid)", 172),
    (r"breakneck|frantic|blistering|lightning[\s-]fast|double[\s-]time", 180),
    (r"slow(?:ly|[\s-]paced|[\s-]tempo)?|unhurried|leisurely", 70),
    (r"mid[\s-]?tempo|medium[\s-]tempo|moderate(?:\s+tempo|\s+pace)?", 104),
    (r"fast(?:[\s-]paced)?|quick|rapid|brisk|up[\s-]?tempo|speedy", 144),
]
_TEMPO_WORD_RE = _word_table_re(_TEMPO_WORDS)
_BPM_TAIL = r"(?:\s*(?:bpm|beats?\s*(?:per|a|/)\s*min(?:ute)?)\b)?"
_TEMPO_NUM_RE = re.compile(
    r"(?:\b(\d{1,6}(?:\.\d+)?)\s*(?:bpm|b\.p\.m\.?|beats?\s*(?:per|a|/)\s*min(?:ute)?)\b)"
    r"|(?:(?:\bbpm|\btempo(?:\s+(?:of|at|is|=))?|♩|\bq|\b(?:quarter|crotchet)(?:[\s-]note)?\s*(?==))\s*[:=]?\s*(\d{1,6}(?:\.\d+)?)\b"
    r"(?!\s*(?:s|secs?|seconds?|min|mins|minutes?|%|bars?)\b)" + _BPM_TAIL + r")"
    r"|(?:\bat\s+(?P<at>\d{2,3})\b(?!\s*(?:s|secs?|seconds?|min|mins|minutes?|%|am|pm|a\.m|p\.m|years?|o'clock|bars?|dollars?|degrees?|in|on|the)\b)(?![:.,]\d)" + _BPM_TAIL + r")",
    re.I,
)


def read_tempos(text: str) -> list[Cue]:
    cues = []
    for match in _all(_TEMPO_NUM_RE, text):
        digits = next(g for g in match.groups() if g)
        if match.group("at") and not 30 <= int(digits) <= 300 and not re.search(r"bpm|beat", match.group(0), re.I):
            continue  # "at 12" is a time of day more often than a tempo
        cues.append(Cue(round(float(digits)), match.span(), exact=True))
    for match in _all(_TEMPO_WORD_RE, text):
        if match.group(0).lower() == "quick" and re.match(r"\s+(?:jingle|sketch|tune|song|piece|intro|one)\b", text[match.end():], re.I):
            continue  # "a quick jingle" is about length, not tempo
        cues.append(Cue(_word_value(_TEMPO_WORDS, match), match.span(), exact=False))
    return sorted(cues, key=lambda c: (not c.exact, c.span))


# ---- key -------------------------------------------------------------------------------------

_ACC = r"(?P<acc>\s?(?:#|♯|b|♭)|[\s-]?sharp|[\s-]?flat)?"
_MODE = r"(?P<mode>\s*(?:major|minor|maj|min)\b|m(?![a-z]))?"
_KEY_RE = re.compile(
    r"(?P<lead>\b(?:in\s+the\s+key\s+of|in\s+key\s+of|key\s+of|key\s*[:=]?|in)\s+)?"
    r"(?<![\w'])(?P<letter>[A-Ga-g])" + _ACC + _MODE + r"(?![\w#♯♭'])",
    re.I,
)
_PRONOUNS = {"i", "we", "you", "he", "she", "they", "it", "my", "a", "the"}


def _key_from(match: re.Match[str], text: str) -> Key | None:
    letter, acc = match.group("letter"), (match.group("acc") or "").strip().lower().lstrip("-")
    mode = (match.group("mode") or "").strip()
    lead = (match.group("lead") or "").strip().lower()
    if not mode and not lead:
        return None  # "A song", "B side": a bare letter is not a key
    if mode == "m" or mode == "M":
        if letter.islower() or (not acc and not lead and mode == "M"):
            return None  # "am", "pm", "CM" units
        if not acc and not lead and letter == "A":
            following = re.match(r"\s*([a-z]+)", text[match.end():], re.I)
            if following and following.group(1).lower() in _PRONOUNS:
                return None  # "Am I …"
    if letter == "a" and re.match(r"\s*(?:key|mode|tonality|scale|chord|feel|way|mood|vibe|style|tone|register|fashion)\b",
                                  text[match.end():], re.I):
        return None  # "in a minor key" names a mode, not A minor
    if letter.islower() and not lead and letter == "a":
        return None  # "a minor detail"
    if acc in ("b", "♭") and letter.islower() and not mode:
        return None
    if not mode and lead == "in" and not acc:
        following = text[match.end():]
        if letter.upper() == "A" and re.match(r"\s*[a-z]", following):
            return None  # "in a minute", "in a garden"
        if letter.islower():
            return None  # "in e-flat" is fine with an accidental; "in b" alone is too thin
    sign = "#" if acc in ("#", "♯", "sharp") else "b" if acc in ("b", "♭", "flat") else ""
    mode_word = "minor" if mode.lower() in ("minor", "min", "m") and mode != "M" else "major"
    try:
        return Key.parse(f"{letter.upper()}{sign} {mode_word}")
    except ValueError:
        return None


def read_keys(text: str) -> list[Cue]:
    cues = []
    for match in _all(_KEY_RE, text):
        key = _key_from(match, text)
        if key is not None:
            cues.append(Cue(key, match.span()))
    return cues


_MODE_RE = re.compile(r"\b(minor|major)(?:[\s-]key|\s+mode|\s+tonality)?\b", re.I)


def read_mode(text: str) -> Cue | None:
    """'in a minor key', 'something major-key': a mode without a tonic."""
    match = _MODE_RE.search(text)
    return Cue(match.group(1).lower(), match.span(), exact=False) if match else None


# ---- meter -----------------------------------------------------------------------------------

_METER_NUM_RE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])(?:\s+(?:time|meter|metre|signature))?")
_METER_WORDS = [
    (r"slip[\s-]jigs?", "9/8"), (r"jigs?|tarantella|barcarolle|siciliana", "6/8"),
    (r"waltz(?:es|ing)?|minuet|mazurka|ländler|landler|three[\s-]four(?:\s+time)?|triple\s+(?:time|meter|metre)", "3/4"),
    (r"march\s+time|polka|two[\s-]four(?:\s+time)?|duple\s+(?:time|meter|metre)", "2/4"),
    (r"cut\s+time|alla\s+breve", "2/2"), (r"common\s+time|four[\s-]four(?:\s+time)?|four\s+on\s+the\s+floor", "4/4"),
    (r"six[\s-]eight(?:\s+time)?", "6/8"), (r"twelve[\s-]eight(?:\s+time)?|(?:blues\s+)?shuffle", "12/8"),
    (r"in\s+(?:five|5)(?:\s+time)?|five[\s-]four(?:\s+time)?", "5/4"), (r"seven[\s-]eight(?:\s+time)?", "7/8"),
]
_METER_WORD_RE = _word_table_re(_METER_WORDS)


def read_meters(text: str) -> list[Cue]:
    cues = []
    for match in _all(_METER_NUM_RE, text):
        top, bottom = int(match.group(1)), int(match.group(2))
        if bottom in (2, 4, 8, 16) and 2 <= top <= 16 and not re.match(r"\s*(?:of|th)\b", text[match.end():]):
            cues.append(Cue(f"{top}/{bottom}", match.span()))
    for match in _all(_METER_WORD_RE, text):
        cues.append(Cue(_word_value(_METER_WORDS, match), match.span(), exact=False))
    return sorted(cues, key=lambda c: (not c.exact, c.span))


# ---- length ----------------------------------------------------------------------------------

_SEC = r"(?:seconds?|secs?|s)"
_MIN = r"(?:minutes?|mins?|m)"
_LENGTH_RE = re.compile(
    r"\b(?P<clock>(\d{1,2}):([0-5]\d))\b(?!\s*(?:am|pm|a\.m|p\.m|o'clock))"
    r"|\b(?P<mm>\d+(?:[.,]\d+)?)\s*" + _MIN + r"\s*(?:and\s+)?(?P<ss>\d{1,2})\s*" + _SEC + r"\b"
    r"|\b(?:(?:a|one)\s+)?(?P<mhalf>minute\s+and\s+a\s+half)\b"
    r"|\b(?P<halfmin>half\s+a\s+minute)\b"
    r"|\b(?P<quartermin>(?:a\s+)?quarter\s+of\s+a\s+minute)\b"
    r"|\b" + NUM.replace("(", "(?P<n>", 1) + r"(?:\s+and\s+a\s+half)?\s*-?\s*(?P<unit>" + _SEC + "|" + _MIN + r")\b",
    re.I,
)
_VAGUE_LENGTH_RE = re.compile(
    r"\b(?P<w>very\s+short|super\s+short|tiny|brief|short|quick\s+(?:jingle|sketch|intro|tune|one)|jingle|stinger|"
    r"very\s+long|long|extended|epic[\s-]length)\b(?!\s*-?\s*(?:story|term|drive|road|day|night|time\s+ago|walk))",
    re.I,
)
_VAGUE_SECONDS = {"very short": 10, "super short": 10, "tiny": 10, "brief": 15, "short": 20, "jingle": 15,
                  "stinger": 10, "very long": 180, "long": 90, "extended": 120, "epic length": 180, "epic-length": 180}


_DECADE_NOUNS = {"long", "of", "intro", "jingle", "clip", "loop", "piece", "song", "track", "tune", "sample", "ad", "spot"}


def _is_decade(match: re.Match[str], text: str) -> bool:
    """'80s synth pop', "the '90s", '1970s disco' name decades, not lengths."""
    written = match.group(0)
    if not re.fullmatch(r"\d+s", written, re.I):
        return False
    value = int(written[:-1])
    if 1900 <= value <= 2099:
        return True
    if value % 10 or not 20 <= value <= 90:
        return False
    before = text[:match.start()].lower()
    if before.endswith(("'", "’", "the ")):
        return True
    following = re.match(r"\s*([a-z]+)", text[match.end():], re.I)
    return not (following and following.group(1).lower() in _DECADE_NOUNS) and not re.search(r"\ban?\s+$", before)


def read_lengths(text: str) -> list[Cue]:
    cues = []
    for match in _all(_LENGTH_RE, text):
        g = match.groupdict()
        if g["clock"]:
            minutes, seconds = int(match.group(2)), int(match.group(3))
            cues.append(Cue(float(minutes * 60 + seconds), match.span()))
        elif g["mm"]:
            cues.append(Cue(float(g["mm"].replace(",", ".")) * 60 + int(g["ss"]), match.span()))
        elif g["mhalf"]:
            cues.append(Cue(90.0, match.span()))
        elif g["halfmin"]:
            cues.append(Cue(30.0, match.span()))
        elif g["quartermin"]:
            cues.append(Cue(15.0, match.span()))
        else:
            unit = g["unit"].lower()
            value = number(g["n"]) + (0.5 if "and a half" in match.group(0).lower() else 0.0)
            if unit == "m" and (value > 20 or not re.search(r"\d", g["n"])):
                continue  # "120m" is not two hours of music; "a m" is not a unit
            if unit == "s" and not re.search(r"\d", g["n"]):
                continue  # "a s…" is never a length
            if value == 0 or _is_decade(match, text):
                continue
            seconds = value * 60 if unit.startswith("m") else value
            cues.append(Cue(float(seconds), match.span()))
    if not cues:
        for match in _all(_VAGUE_LENGTH_RE, text):
            word = " ".join(match.group("w").lower().split())
            seconds = _VAGUE_SECONDS.get(word, 10 if word.startswith("quick") else None)
            if seconds is not None:
                cues.append(Cue(float(seconds), match.span(), exact=False))
    return cues


# ---- variations and transposition ------------------------------------------------------------

_VARIATIONS_RE = re.compile(
    r"\b" + NUM.replace("(", "(?P<n>", 1) + r"\s+(?:different\s+)?(?:variations|versions|takes|variants|options|alternatives)\b",
    re.I,
)


def read_variations(text: str) -> Cue | None:
    match = _VARIATIONS_RE.search(text)
    if match:
        value = number(match.group("n"))
        if value >= 1 and float(value).is_integer():
            return Cue(int(value), match.span())
    return None


_STEP_SIZES = {"semitone": 1, "half step": 1, "half-step": 1, "halftone": 1, "whole step": 2, "whole-step": 2,
               "whole tone": 2, "tone": 2, "step": 2, "octave": 12}
_PITCH_RE = re.compile(
    r"\b(?:transpose[ds]?|shift(?:ed)?|move[ds]?|pitch(?:ed)?|raise[ds]?|lower(?:ed|s)?|up|down)"
    r"(?:\s+(?:it|everything|the\s+\w+))?\s*(?P<dir>up|down|higher|lower)?\s*(?:by\s+)?"
    r"(?P<sign>[+-])?" + NUM.replace("(", "(?P<n>", 1)
    + r"\s*(?P<unit>semitones?|half[\s-]steps?|halftones?|whole[\s-]steps?|whole\s+tones?|tones?|steps?|octaves?)\b"
    r"(?:\s+(?P<dir2>up|down|higher|lower))?",
    re.I,
)


def read_pitch(text: str) -> Cue | None:
    """'transpose up 2 semitones', 'down a whole step', 'an octave higher', 'pitch -3 semitones'."""
    match = _PITCH_RE.search(text)
    if match is None:
        match = re.search(r"\b(?P<n>an?|one)\s+(?P<unit>octave|semitone|whole\s+step|half\s+step)\s+(?P<dir>higher|lower|up|down)\b", text, re.I)
        if match is None:
            return None
    groups = match.groupdict()
    unit = " ".join(groups["unit"].lower().replace("-", " ").split()).rstrip("s")
    unit = {"half step": "half step", "whole step": "whole step", "whole tone": "whole tone"}.get(unit, unit)
    size = _STEP_SIZES.get(unit, _STEP_SIZES.get(unit.replace(" ", "-"), 1))
    value = number(groups["n"]) * size
    head = match.group(0).lower()
    direction = (groups.get("dir") or groups.get("dir2") or "").lower()
    down = groups.get("sign") == "-" or direction in ("down", "lower") or head.startswith(("lower", "down"))
    return Cue(int(round(-value if down else value)), match.span())
