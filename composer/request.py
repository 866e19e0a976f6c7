"""The composition request: every field resolved, validated and immutable before any music is made."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from composer.errors import InvalidRequest
from composer.music.theory import Key, Meter

from composer.options import (AUDIO_FORMATS, FORMATS, LYRICS_MAX_CHARS, METERS, OPTIONS, PROMPT_MAX_CHARS,
                              bounds)

TEMPO_RANGE = bounds("tempo")
LENGTH_RANGE_S = bounds("length")
PITCH_RANGE = bounds("pitch")
VARIATIONS_RANGE = bounds("variations")
SEED_RANGE = bounds("seed")
_SEED_MODULUS = SEED_RANGE[1] + 1  # variation seeds wrap inside the seed range
__all__ = ["AUDIO_FORMATS", "FORMATS", "LYRICS_MAX_CHARS", "METERS", "PROMPT_MAX_CHARS", "CompositionRequest",
           "draw_seed", "validate"]

# Characters a person never means to type: controls, zero-width and bidirectional overrides.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class CompositionRequest:
    """What to compose. Built by `understand`; every later stage reads only this."""

    prompt: str
    theme: str
    voice: str
    tempo: int
    key: Key
    meter: Meter
    length_s: float
    pitch: int = 0
    seed: int | None = None  # None: the pipeline draws one and reports it
    lyrics: str = ""
    variations: int = 1
    format: str = "mp3"
    stems: bool = False
    engine: str = "rules"
    # A member's own theme travels with the request (validated by composer.catalog), so composing,
    # a restart and history all use the exact version the member had when asking.
    theme_spec: dict[str, Any] | None = field(default=None, hash=False)
    # Human-readable remarks from understanding (fallbacks, conflicts) for the description.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def with_seed(self, seed: int) -> "CompositionRequest":
        return replace(self, seed=seed)

    def seeded(self) -> "CompositionRequest":
        """This request with a seed: its own, or one drawn now (and reported, so it can be replayed)."""
        return self if self.seed is not None else replace(self, seed=draw_seed())

    def variation_requests(self) -> list["CompositionRequest"]:
        """One single-piece request per variation, seeds counting up from this request's seed."""
        base = self.seeded()
        return [replace(base, seed=(base.seed + i) % _SEED_MODULUS, variations=1) for i in range(self.variations)]

    def to_manifest(self) -> dict[str, Any]:
        """The request as the JSON contract spells it: the prompt, then every option but the switches."""
        out: dict[str, Any] = {"prompt": self.prompt}
        for option in OPTIONS:
            if option.kind is bool or option.name == "engine":
                continue
            value = getattr(self, option.request_field)
            out[option.request_field] = value.name if isinstance(value, Key) else (
                str(value) if isinstance(value, Meter) else value)
        if self.theme_spec is not None:  # only custom themes: the manifest of a built-in is unchanged
            out["theme_spec"] = self.theme_spec
        return out

    @classmethod
    def from_manifest(cls, data: dict[str, Any]) -> "CompositionRequest":
        """Rebuild a stored request (history, remix) and re-validate it."""
        values = dict(data)
        values["key"] = parse_key(values["key"])
        values["meter"] = parse_meter(values["meter"])
        known = {f for f in cls.__dataclass_fields__}
        return validate(cls(**{k: v for k, v in values.items() if k in known}))


def _in_range(name: str, value: Any, bounds: tuple[float, float], unit: str = "") -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}{unit}, got {value!r}")


def parse_int(name: str, value: Any) -> int:
    """Accept ints and integer strings from the CLI, slash options or JSON."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"{name} must be a whole number, got {value!r}") from None


def parse_number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"{name} must be a number, got {value!r}") from None


def parse_key(value: Any) -> Key:
    if isinstance(value, Key):
        return value
    try:
        return Key.parse(str(value))
    except ValueError:
        raise InvalidRequest(
            f"key must be a note name and mode such as 'D minor', 'Bb major' or 'F#m', got {value!r}"
        ) from None


def parse_meter(value: Any) -> Meter:
    if isinstance(value, Meter):
        return value
    try:
        meter = Meter.parse(str(value))
    except ValueError:
        meter = None
    if meter is None or str(meter) not in METERS:
        raise InvalidRequest(f"meter must be one of {', '.join(METERS)}, got {value!r}")
    return meter


def clean_text(name: str, value: Any, max_chars: int, *, required: bool) -> str:
    """Normalise free text: NFC, no invisible or control characters, collapsed whitespace."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be text")
    if len(value) > max_chars:
        raise InvalidRequest(f"{name} is too long: {len(value)} characters, at most {max_chars} allowed")
    text = unicodedata.normalize("NFC", value)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = " ".join(text.split())
    if required and not text:
        raise InvalidRequest(f"{name} is empty: describe the music in a few words, e.g. 'happy birthday'")
    return text


def validate(request: CompositionRequest) -> CompositionRequest:
    """Check every range; raise InvalidRequest naming the field and what is allowed."""
    _in_range("tempo", request.tempo, TEMPO_RANGE, " BPM")
    _in_range("length", request.length_s, LENGTH_RANGE_S, " seconds")
    _in_range("pitch", request.pitch, PITCH_RANGE, " semitones")
    _in_range("variations", request.variations, VARIATIONS_RANGE)
    if request.seed is not None:
        _in_range("seed", request.seed, SEED_RANGE)
    if request.format not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}, got {request.format!r}")
    if str(request.meter) not in METERS:
        raise InvalidRequest(f"meter must be one of {', '.join(METERS)}, got {request.meter}")
    if request.theme_spec is not None and request.theme_spec.get("name") != request.theme:
        raise InvalidRequest(f"the theme spec is named {request.theme_spec.get('name')!r}, not {request.theme!r}")
    if not request.prompt:
        raise InvalidRequest("prompt is empty: describe the music in a few words, e.g. 'happy birthday'")
    return request


def draw_seed() -> int:
    """The one place a seed is drawn when nobody gave one."""
    return secrets.randbelow(SEED_RANGE[1] + 1)
