"""A Score as compact, versioned JSON bytes and back, exactly.

The bot keeps each finished piece's score beside its MIDI so a remix that only changes tempo,
pitch or key can start from the very notes that were delivered, instead of composing again
(a neural engine batching other requests may not write the same notes twice). Floats go
through `repr`, so every start, duration and chord time reads back bit for bit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from composer.errors import ScoreDataError
from composer.music.score import Note, Score, Track

SCORE_JSON_VERSION = 1

_TRACK_INTS = ("program", "channel", "volume", "pan", "reverb_send")
_TRACK_STRS = ("name", "bus", "instrument")


def score_to_json(score: Score) -> bytes:
    """The score as UTF-8 JSON: {"version": 1, ...}, notes as [start, duration, pitch, velocity]."""
    data = {
        "version": SCORE_JSON_VERSION,
        "title": score.title,
        "tempo": score.tempo,
        "numerator": score.numerator,
        "denominator": score.denominator,
        "key_name": score.key_name,
        "key_sharps": score.key_sharps,
        "total_quarters": score.total_quarters,
        "tracks": [{
            **{name: getattr(track, name) for name in _TRACK_STRS + _TRACK_INTS},
            "notes": [[n.start, n.duration, n.pitch, n.velocity] for n in track.notes],
            # only a pack voice's lead has one, so every other score's bytes stay as they were
            **({"soundfont": list(track.soundfont)} if track.soundfont is not None else {}),
        } for track in score.tracks],
        "lyrics": [[q, text] for q, text in score.lyrics],
        "chords": [[q, text] for q, text in score.chords],
        "sections": [[q, text] for q, text in score.sections],
    }
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or infinity somewhere: it would not read back
        raise ScoreDataError(f"score cannot be stored: {exc}") from exc
    return text.encode("utf-8")


def score_from_json(data: bytes | str) -> Score:
    """Read what `score_to_json` wrote; anything else raises ScoreDataError with one line."""
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ScoreDataError(f"stored score is not readable JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise ScoreDataError("stored score is not a JSON object")
    version = raw.get("version")
    if version != SCORE_JSON_VERSION:
        raise ScoreDataError(f"stored score is format version {version!r}; this Muse reads version "
                             f"{SCORE_JSON_VERSION}")
    try:
        return Score(
            tempo=_int(raw, "tempo"),
            numerator=_int(raw, "numerator"),
            denominator=_int(raw, "denominator"),
            key_name=_str(raw, "key_name"),
            key_sharps=_int(raw, "key_sharps"),
            total_quarters=_num(raw, "total_quarters"),
            tracks=[_track(t) for t in _list(raw, "tracks")],
            title=_str(raw, "title"),
            lyrics=_timeline(raw, "lyrics"),
            chords=_timeline(raw, "chords"),
            sections=_timeline(raw, "sections"),
        )
    except _Bad as exc:
        raise ScoreDataError(f"stored score is damaged: {exc}") from None


class _Bad(Exception):
    pass


def _get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise _Bad(f"'{key}' is missing")
    return obj[key]


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{what} must be a whole number, got {value!r}"[:120])
    return value


def _check_num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Bad(f"{what} must be a number, got {value!r}"[:120])
    return value


def _check_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{what} must be text, got {value!r}"[:120])
    return value


def _int(obj: Any, key: str) -> int:
    return _check_int(_get(obj, key), f"'{key}'")


def _num(obj: Any, key: str) -> float:
    return _check_num(_get(obj, key), f"'{key}'")


def _str(obj: Any, key: str) -> str:
    return _check_str(_get(obj, key), f"'{key}'")


def _list(obj: Any, key: str) -> list[Any]:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise _Bad(f"'{key}' must be a list")
    return value


def _track(raw: Any) -> Track:
    if not isinstance(raw, dict):
        raise _Bad("a track must be an object")
    values: dict[str, Any] = {name: _str(raw, name) for name in _TRACK_STRS}
    values.update({name: _int(raw, name) for name in _TRACK_INTS})
    return Track(**values, notes=[_note(n, values["name"]) for n in _list(raw, "notes")],
                 soundfont=_soundfont(raw.get("soundfont"), values["name"]))


def _soundfont(raw: Any, track: str) -> tuple[str, int, int] | None:
    """A track's own soundfont, [path, bank, preset]; absent (every score before packs) → None."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 3:
        raise _Bad(f"the soundfont of track '{track}' is not [file, bank, preset]"[:120])
    path, bank, preset = raw
    return (_check_str(path, f"the soundfont file of track '{track}'"),
            _check_int(bank, f"the soundfont bank of track '{track}'"),
            _check_int(preset, f"the soundfont preset of track '{track}'"))


def _note(raw: Any, track: str) -> Note:
    if not isinstance(raw, list) or len(raw) != 4:
        raise _Bad(f"a note of track '{track}' is not [start, duration, pitch, velocity]"[:120])
    start, duration, pitch, velocity = raw
    what = f"a note of track '{track}'"
    pitch, velocity = _check_int(pitch, f"{what}: pitch"), _check_int(velocity, f"{what}: velocity")
    if not (0 <= pitch <= 127 and 0 <= velocity <= 127):
        raise _Bad(f"{what} is out of MIDI range ({pitch}, {velocity})")
    return Note(_check_num(start, f"{what}: start"), _check_num(duration, f"{what}: duration"), pitch, velocity)


def _timeline(obj: Any, key: str) -> list[tuple[float, str]]:
    out = []
    for item in _list(obj, key):
        if not isinstance(item, list) or len(item) != 2:
            raise _Bad(f"an entry of '{key}' is not [quarter, text]")
        out.append((_check_num(item[0], f"'{key}' time"), _check_str(item[1], f"'{key}' text")))
    return out
