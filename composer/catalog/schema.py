"""Strict validation of theme and voice specs, with errors that name the file, the field and what is allowed.

Built-in themes and voices and members' custom themes all pass through here, so a typo in a
data file and a bad upload get the same precise message.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from composer.catalog.gm_instruments import close_names, gm_program
from composer.errors import SchemaError
from composer.model.tokenizer import STYLES as MELODY_STYLES
from composer.music.theory import Key, Meter, is_roman
from composer.options import METERS

SCHEMA_VERSION = 1
_SURROGATE = re.compile("[\ud800-\udfff]")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
SECTIONS = ("intro", "verse", "chorus", "bridge", "ending")
DRUMS = ("kick", "snare", "hat", "openhat", "ride", "crash", "clap", "rim",
         "tom_low", "tom_mid", "tom_high", "tambourine", "shaker", "cowbell", "pedalhat")
BASS_STYLES = ("root", "root-fifth", "walking", "octave", "arpeggio", "pedal", "syncopated")
ACCOMP_STYLES = ("block", "arpeggio", "waltz", "pad", "strum", "stride", "offbeat", "power")
FEELS = ("straight", "swing", "shuffle")
MODES = ("major", "minor")


class _Ctx:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, problem: str) -> None:
        where = f"field '{_short(path, 120)}'" if path else "the spec"
        raise SchemaError(_short(f"{self.source}: {where} {problem}", 1000))


def _short(text: str, limit: int) -> str:
    """One line, at most `limit` characters: a field name can be any text in an upload."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _kind(value: Any) -> str:
    """A wrong value as a JSON/TOML file shows it (for 'got …'), short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        text = repr(value)
        return text if len(text) <= 42 else text[:40] + "…"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    return type(value).__name__


Check = Callable[[_Ctx, str, Any], Any]


def _int(low: int, high: int) -> Check:
    def check(ctx: _Ctx, path: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            ctx.fail(path, f"must be a whole number from {low} to {high}, got {_kind(value)}")
        return value
    return check


def _num(low: float, high: float) -> Check:
    def check(ctx: _Ctx, path: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            ctx.fail(path, f"must be a number from {low} to {high}, got {_kind(value)}")
        return float(value)
    return check


def _str(max_len: int, pattern: re.Pattern[str] | None = None, allowed: str = "") -> Check:
    def check(ctx: _Ctx, path: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            ctx.fail(path, f"must be non-empty text of at most {max_len} characters, got {_kind(value)}")
        if len(value) > max_len:
            ctx.fail(path, f"must be non-empty text of at most {max_len} characters, got {len(value)} characters")
        if _SURROGATE.search(value):  # half of an emoji pair: no file or database can store it
            ctx.fail(path, "must be valid Unicode text (it holds half of a surrogate pair)")
        if pattern is not None and not pattern.match(value):
            ctx.fail(path, f"must be {allowed}, got {_kind(value)}")
        return value
    return check


def _bool(ctx: _Ctx, path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        ctx.fail(path, f"must be true or false, got {_kind(value)}")
    return value


def _choice(options: tuple[str, ...]) -> Check:
    def check(ctx: _Ctx, path: str, value: Any) -> str:
        if value not in options:
            ctx.fail(path, f"must be one of {', '.join(options)}, got {_kind(value)}")
        return value
    return check


def _list(item: Check, min_len: int = 1, max_len: int = 64) -> Check:
    def check(ctx: _Ctx, path: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or not min_len <= len(value) <= max_len:
            ctx.fail(path, f"must be a list of {min_len} to {max_len} items, got {_kind(value)}")
        return [item(ctx, f"{path}[{i}]", v) for i, v in enumerate(value)]
    return check


def _obj(fields: dict[str, tuple[Check, bool]], *, open_keys: Check | None = None,
         key_choices: tuple[str, ...] | None = None) -> Check:
    """An object with known fields (check, required); unknown fields are errors."""
    def check(ctx: _Ctx, path: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            ctx.fail(path, f"must be an object (a table in TOML), got {_kind(value)}")
        out: dict[str, Any] = {}
        for key, val in value.items():
            sub = f"{path}.{key}" if path else key
            if key in fields:
                out[key] = fields[key][0](ctx, sub, val)
            elif open_keys is not None and (key_choices is None or key in key_choices):
                out[key] = open_keys(ctx, sub, val)
            else:
                allowed = ", ".join(fields) if fields else ", ".join(key_choices or ())
                ctx.fail(sub, f"is not a known field; allowed: {allowed}")
        for key, (_, required) in fields.items():
            if required and key not in value:
                ctx.fail(f"{path}.{key}" if path else key, "is required")
        return out
    return check


def _parses(parse: Callable[[str], Any], what: str) -> Check:
    """Text that one of the theory parsers accepts (meters, keys)."""
    def check(ctx: _Ctx, path: str, value: Any) -> str:
        try:
            parse(value if isinstance(value, str) else "")
        except ValueError:
            ctx.fail(path, f"must be {what}, got {_kind(value)}")
        return value
    return check


_key = _parses(Key.parse, "a key such as 'F major' or 'D minor'")


def _meter(ctx: _Ctx, path: str, value: Any) -> str:
    """A time signature Muse plays, written the way requests write it ("6/8")."""
    try:
        meter = str(Meter.parse(value if isinstance(value, str) else ""))
    except ValueError:
        meter = None
    if meter not in METERS:
        ctx.fail(path, f"must be a time signature Muse plays ({', '.join(METERS)}), got {_kind(value)}")
    return meter


# what composer.music.theory.is_roman accepts, said in words
ROMAN_HELP = ("use I–VII (upper case major, lower case minor), optionally b or # before it, then a quality "
              "°, o, dim, + or aug, then 7, maj7, 6, 9, sus2 or sus4 (e.g. I, vi, V7, bVII, ii°, IVmaj7)")


def _roman(ctx: _Ctx, path: str, value: Any) -> str:
    if not isinstance(value, str) or not is_roman(value):
        ctx.fail(path, f"must be a roman numeral chord, got {_kind(value)}: {ROMAN_HELP}")
    return value


_PROGRAM_HELP = "must be a General MIDI instrument name or program number 0-127"


def _program(ctx: _Ctx, path: str, value: Any) -> int:
    """A General MIDI program: its number 0-127 or its name ("electric piano 1"), stored as the number."""
    if isinstance(value, str):
        program = gm_program(value)
        if program is None:
            close = close_names(value)
            hint = f"did you mean {', '.join(close)}?" if close else "e.g. 'electric piano 1' or 'string ensemble 1'"
            ctx.fail(path, f"{_PROGRAM_HELP}, got {_kind(value)}; {hint}")
        return program
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
        ctx.fail(path, f"{_PROGRAM_HELP}, got {_kind(value)}")
    return value


_PATTERN_RE = re.compile(r"^[xXo.]+$")


def _drum_pattern(ctx: _Ctx, path: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        ctx.fail(path, f"must map drum names to step strings such as 'x...x...', got {_kind(value)}")
    for name, steps in value.items():
        if name not in DRUMS:
            ctx.fail(f"{path}.{name}", f"is not a drum; allowed: {', '.join(DRUMS)}")
        if not isinstance(steps, str) or not _PATTERN_RE.match(steps) or len(steps) > 96:
            ctx.fail(f"{path}.{name}", "must be a step string of 1 to 96 sixteenths: x (hit), X (accent), "
                                       f"o (ghost) and . (rest), got {_kind(steps)}")
    return value


def _drum_patterns(ctx: _Ctx, path: str, value: Any) -> dict[str, dict[str, str]]:
    """One pattern per meter ("4/4": {...}); a meter without one gets a plain groove."""
    if not isinstance(value, dict):
        ctx.fail(path, f"must be an object of meters to patterns, got {_kind(value)}")
    for meter in value:
        if meter not in METERS:
            ctx.fail(f"{path}.{meter}", f"is not a meter Muse plays; allowed: {', '.join(METERS)}")
    return {meter: _drum_pattern(ctx, f"{path}.{meter}", pattern) for meter, pattern in value.items()}


def _version(ctx: _Ctx, path: str, value: Any) -> int:
    if isinstance(value, bool) or value != SCHEMA_VERSION:
        ctx.fail(path, f"must be {SCHEMA_VERSION} (the schema version this Muse reads), got {_kind(value)}")
    return SCHEMA_VERSION


_progression = _obj({"chords": (_list(_roman, 1, 16), True), "weight": (_num(0.01, 100), False)})

_range_pair = _list(_int(0, 127), 2, 2)

THEME_SCHEMA = _obj({
    "schema": (_version, True),
    "name": (_str(32, NAME_RE, "lower-case letters, digits and dashes, starting with a letter"), True),
    "description": (_str(300), True),
    "mood": (_str(40), True),
    "examples": (_list(_str(200), 1, 40), True),
    "tempo": (_obj({"min": (_int(30, 300), True), "max": (_int(30, 300), True),
                    "default": (_int(30, 300), True)}), True),
    "meters": (_list(_meter, 1, 4), True),
    "modes": (_list(_choice(MODES), 1, 2), True),
    "keys": (_list(_key, 1, 12), False),
    "feel": (_obj({"groove": (_choice(FEELS), True), "swing": (_num(0, 0.5), False),
                   "humanize": (_num(0, 1), False)}), True),
    "progressions": (_obj({}, open_keys=_list(_progression, 1, 12), key_choices=SECTIONS), True),
    "harmonic_rhythm": (_int(1, 2), False),
    "drums": (_obj({"patterns": (_drum_patterns, True),
                    "fills": (_bool, False), "level": (_num(0, 1.5), False),
                    "kit": (_int(0, 127), False)}), True),
    "bass": (_obj({"style": (_choice(BASS_STYLES), True), "octave": (_int(1, 3), False)}), True),
    "accompaniment": (_obj({"style": (_choice(ACCOMP_STYLES), True), "octave": (_int(3, 5), False)}), True),
    "default_voice": (_str(32, NAME_RE, "a voice name"), False),
    # General MIDI programs (0-based), by number or name; validated specs hold numbers
    "instruments": (_obj({"harmony": (_program, True),
                          "bass": (_program, True), "pad": (_program, False),
                          "keep": (_list(_choice(("harmony", "bass", "pad")), 1, 3), False)}), True),
    "dynamics": (_obj({"velocity": (_int(20, 127), True), "range": (_int(0, 40), False)}), True),
    "effects": (_obj({"reverb": (_num(0, 1), False), "chorus": (_num(0, 1), False)}), False),
    # style: the corpus style the melody model is conditioned on (its header token); absent → "folk"
    "melody": (_obj({"density": (_num(0.1, 2.0), True), "range": (_range_pair, False),
                     "leap": (_num(0, 1), False), "temperature": (_num(0.1, 2.0), False),
                     "style": (_choice(MELODY_STYLES), False)}), True),
})

_instrument_choice = _obj({"name": (_str(40), True), "program": (_int(0, 127), True),
                           "cues": (_list(_str(40), 0, 40), False)})

VOICE_SCHEMA = _obj({
    "schema": (_version, True),
    "name": (_str(32, NAME_RE, "lower-case letters, digits and dashes, starting with a letter"), True),
    "description": (_str(300), True),
    "examples": (_list(_str(200), 1, 40), True),
    "sings": (_bool, True),
    "lead": (_obj({"instruments": (_list(_instrument_choice, 1, 16), True),
                   "register": (_range_pair, True)}), True),
    "arrangement": (_obj({"harmony": (_num(0, 1.5), False), "drums": (_num(0, 2), False),
                          "drum_led": (_bool, False), "harmony_program": (_int(0, 127), False),
                          "bass_program": (_int(0, 127), False), "accompaniment": (_choice(ACCOMP_STYLES), False),
                          "pad_program": (_int(0, 127), False), "drum_kit": (_int(0, 127), False),
                          "drums_floor": (_num(0, 1.5), False)}), False),
    "effects": (_obj({"distortion_db": (_num(0, 40), False), "chorus": (_num(0, 1), False),
                      "reverb": (_num(0, 1), False), "delay": (_num(0, 1), False)}), False),
    # a pack voice's own SF2/SF3 for its lead (file relative to the pack, or absolute); see catalog/packs.py
    "soundfont": (_obj({"file": (_str(500), True), "bank": (_int(0, 128), True),
                        "preset": (_int(0, 127), True)}), False),
})


def validate_theme(spec: Any, source: str = "theme") -> dict[str, Any]:
    """The spec as Muse uses it (instrument names become program numbers, meters read '6/8'), or a
    SchemaError of one line naming `source`, the field and what is allowed."""
    ctx = _Ctx(source)
    out = THEME_SCHEMA(ctx, "", spec)
    tempo = out["tempo"]
    if not tempo["min"] <= tempo["default"] <= tempo["max"]:
        ctx.fail("tempo", f"needs min <= default <= max, got min {tempo['min']}, default {tempo['default']}, "
                          f"max {tempo['max']}")
    for section in ("verse", "chorus"):
        if section not in out["progressions"]:
            ctx.fail(f"progressions.{section}", "is required")
    rng = out["melody"].get("range")
    if rng and rng[1] - rng[0] < 12:
        ctx.fail("melody.range", "must span at least an octave")
    return out


def validate_voice(spec: Any, source: str = "voice") -> dict[str, Any]:
    ctx = _Ctx(source)
    out = VOICE_SCHEMA(ctx, "", spec)
    low, high = out["lead"]["register"]
    if high - low < 12:
        ctx.fail("lead.register", "must span at least an octave")
    return out
