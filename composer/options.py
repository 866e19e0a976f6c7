"""The request's options, once: name, type, range, choices and help.

The `muse` flags, the `/compose` and `/remix` slash options, the Remix form, the manifest and the
request's validation are all built from this table, so an option is added or changed here alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

METERS = ("2/4", "3/4", "4/4", "5/4", "6/8", "9/8", "12/8", "2/2", "3/8", "7/8")
FORMATS = ("mp3", "ogg", "wav", "midi", "text")
AUDIO_FORMATS = ("mp3", "ogg", "wav")
PROMPT_MAX_CHARS = 4000
LYRICS_MAX_CHARS = 2000


@dataclass(frozen=True)
class Option:
    name: str  # the slash-command option and the `--flag`
    kind: type  # str, int, float or bool
    help: str  # one line, shown by `muse --help`, Discord and the Remix form
    range: tuple[int, int] | None = None  # inclusive bounds for numbers
    unit: str = ""  # said after the bounds in error messages
    choices: tuple[str, ...] | None = None  # fixed choices (themes and voices come from the catalog)
    field: str | None = None  # the request/manifest field when it differs from `name`
    slash: bool = True  # offered by /compose
    remix: bool = False  # may change in a remix (the Remix form holds at most five)

    @property
    def request_field(self) -> str:
        return self.field or self.name

    @property
    def range_help(self) -> str:
        if not self.range:
            return ""
        low, high = self.range
        return f"{low} to {high}{self.unit}" if low < 0 else f"{low}-{high}{self.unit}"


OPTIONS: tuple[Option, ...] = (
    Option("theme", str, "the style (see /themes or `muse themes`)", remix=True),
    Option("voice", str, "who sings or leads: female and male sing the words", remix=True),
    Option("tempo", int, "beats per minute", range=(30, 300), unit=" BPM", remix=True),
    Option("key", str, "e.g. D minor, Bb major, F#m", remix=True),
    Option("meter", str, "time signature", choices=METERS),
    Option("length", int, "length in seconds", range=(5, 300), unit=" seconds", field="length_s"),
    Option("pitch", int, "transpose by semitones", range=(-12, 12), unit=" semitones", remix=True),
    Option("seed", int, "same seed, same piece", range=(0, 2**31 - 2)),
    Option("lyrics", str, "words to sing (female and male voices)"),
    Option("variations", int, "how many pieces", range=(1, 4)),
    Option("format", str, "what you get back (text: description and melody as ABC)", choices=FORMATS),
    Option("stems", bool, "also give two WAV stems: vocals (or the melody instrument) and accompaniment",
           slash=False),
    Option("engine", str, "melody engine: model (the trained transformer) or rules", slash=False),
)

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
OPTION_NAMES = tuple(BY_NAME)
SLASH_OPTIONS = tuple(o.name for o in OPTIONS if o.slash)
REMIX_OPTIONS = tuple(o.name for o in OPTIONS if o.remix)


def bounds(name: str) -> tuple[int, int]:
    rng = BY_NAME[name].range
    assert rng is not None, name
    return rng


def describe_options(names: tuple[str, ...] = OPTION_NAMES) -> dict[str, str]:
    """Help lines with their ranges, for Discord's option descriptions (100 characters at most)."""
    out = {}
    for name in names:
        option = BY_NAME[name]
        text = option.help[0].upper() + option.help[1:]
        out[name] = (f"{text} ({option.range_help})" if option.range else text)[:100]
    return out


def only_options(values: dict[str, Any]) -> dict[str, Any]:
    """The given options among `values`, without the unset ones (None or empty text)."""
    return {k: v for k, v in values.items() if k in BY_NAME and v is not None and v != ""}


def key_names() -> list[str]:
    """Every key as Muse spells it ("C major" … "B minor"), for choices and autocomplete."""
    from composer.music.theory import Key

    return [Key(tonic, mode).name for mode in ("major", "minor") for tonic in range(12)]
