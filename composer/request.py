"""The composition request: every field resolved, validated and immutable before any music is made."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from composer.errors import InvalidRequest
from composer.music.theory import Key, Meter

TEMPO_RANGE = (30, 300)
LENGTH_RANGE_S = (5, 300)
PITCH_RANGE = (-12, 12)
VARIATIONS_RANGE = (1, 4)
SEED_RANGE = (0, 2**31 - 1)
PROMPT_MAX_CHARS = 4000
LYRICS_MAX_CHARS = 2000
FORMATS = ("mp3", "ogg", "wav", "midi", "text")
METERS = ("2/4", "3/4", "4/4", "5/4", "6/8", "9/8", "12/8", "2/2", "3/8", "7/8")

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
    # Human-readable remarks from understanding (fallbacks, conflicts) for the description.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def with_seed(self, seed: int) -> "CompositionRequest":
        return replace(self, seed=seed)

    def to_manifest(self) -> dict[str, Any]:
        """The request as the JSON contract spells it."""
        return {
            "prompt": self.prompt,
            "theme": self.theme,
            "voice": self.voice,
            "tempo": self.tempo,
            "key": self.key.name,
            "meter": str(self.meter),
            "length_s": self.length_s,
            "pitch": self.pitch,
            "seed": self.seed,
            "lyrics": self.lyrics,
            "variations": self.variations,
            "format": self.format,
        }

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
    if not request.prompt:
        raise InvalidRequest("prompt is empty: describe the music in a few words, e.g. 'happy birthday'")
    return request


def as_dict(request: CompositionRequest) -> dict[str, Any]:
    return asdict(request)
