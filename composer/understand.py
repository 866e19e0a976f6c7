"""Text + options → CompositionRequest.

Precedence: explicit options beat what the text says; the text beats the theme's defaults.
Theme and voice come from word cues against each data file's name and example phrases;
a later stage can swap `choose_theme` for semantic similarity without touching the rest.
"""

from __future__ import annotations

import re
import zlib
from typing import Any, Mapping

from composer import cues
from composer.catalog import Catalog, Theme
from composer.errors import InvalidRequest
from composer.request import (
    FORMATS,
    LYRICS_MAX_CHARS,
    PROMPT_MAX_CHARS,
    CompositionRequest,
    clean_text,
    parse_int,
    parse_key,
    parse_meter,
    parse_number,
    validate,
)
from composer.theory import Key

DEFAULT_THEME = "happy"
OPTION_NAMES = ("voice", "theme", "tempo", "key", "meter", "length", "pitch", "seed",
                "variations", "format", "lyrics", "stems", "engine")
_STOPWORDS = set(
    "a an the and or of for to in on at by with my me i it is be some something song music piece "
    "tune make play please that this very so just".split()
)
_WORD_RE = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text.lower()) if w not in _STOPWORDS]


def choose_theme(prompt: str, catalog: Catalog) -> tuple[str, float]:
    """Pick the theme whose name and example words the prompt shares most; return (name, confidence)."""
    words = set(_words(prompt))
    best, best_score = DEFAULT_THEME, 0.0
    for theme in catalog.themes.values():
        score = 3.0 if theme.name in words else 0.0
        vocab: set[str] = set()
        for phrase in theme.spec["examples"]:
            vocab.update(_words(phrase))
        score += len(words & vocab) / max(1, len(words))
        if score > best_score:
            best, best_score = theme.name, score
    return best, min(1.0, best_score / 3.0)


def choose_voice(prompt: str, catalog: Catalog, theme: Theme) -> str:
    lowered = f" {prompt.lower()} "
    for voice in catalog.voices.values():
        phrases = [voice.name, *voice.spec["examples"]]
        if any(re.search(rf"\b{re.escape(p.lower())}\b", lowered) for p in phrases):
            return voice.name
    default = theme.spec.get("default_voice", "piano")
    return default if default in catalog.voices else next(iter(sorted(catalog.voices)))


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return " ".join(text.split())


def _pick_key(theme: Theme, prompt: str, mode: str | None) -> Key:
    keys = [Key.parse(k) for k in theme.spec.get("keys", [])] or [Key(0, theme.spec["modes"][0])]
    wanted = mode or theme.spec["modes"][0]
    matching = [k for k in keys if k.mode == wanted] or [Key(k.tonic, wanted) for k in keys]
    return matching[zlib.crc32(prompt.encode("utf-8")) % len(matching)]


def _option(options: Mapping[str, Any], name: str) -> Any:
    value = options.get(name)
    return None if value is None or value == "" else value


def understand(prompt: str, options: Mapping[str, Any] | None, catalog: Catalog) -> CompositionRequest:
    """Resolve one request. Raises InvalidRequest with a message that says what is allowed."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise InvalidRequest(f"unknown option {unknown[0]!r}; options: {', '.join(OPTION_NAMES)}")
    text = clean_text("prompt", prompt, PROMPT_MAX_CHARS, required=True)
    notes: list[str] = []
    spans: list[tuple[int, int]] = []

    def from_text(reader, name: str):
        cue = reader(text)
        if cue is not None:
            spans.append(cue.span)
        return cue

    theme_name = _option(options, "theme")
    if theme_name is None:
        theme_name, confidence = choose_theme(text, catalog)
        if confidence == 0.0:
            notes.append(f"no clear mood in the words, so Muse chose its default theme, {theme_name}")
    theme = catalog.theme(str(theme_name).strip().lower())

    voice_name = _option(options, "voice")
    voice = catalog.voice(str(voice_name).strip().lower()) if voice_name else catalog.voice(choose_voice(text, catalog, theme))

    tempo_cue = from_text(cues.read_tempo, "tempo")
    tempo = _option(options, "tempo")
    tempo = parse_int("tempo", tempo) if tempo is not None else (
        int(tempo_cue.value) if tempo_cue else theme.spec["tempo"]["default"])

    key_cue = from_text(cues.read_key, "key")
    key_option = _option(options, "key")
    if key_option is not None:
        key = parse_key(key_option)
        if key_cue and key_cue.value != key:
            notes.append(f"the key option ({key.name}) overrides '{key_cue.value}' in the text")
    elif key_cue:
        key = key_cue.value
    else:
        mode = "minor" if re.search(r"\bminor\b", text, re.I) else "major" if re.search(r"\bmajor\b", text, re.I) else None
        key = _pick_key(theme, text, mode)

    meter_cue = from_text(cues.read_meter, "meter")
    meter_option = _option(options, "meter")
    if meter_option is not None:
        meter = parse_meter(meter_option)
        if meter_cue and meter_cue.value != str(meter):
            notes.append(f"the meter option ({meter}) overrides {meter_cue.value} in the text")
    else:
        meter = parse_meter(meter_cue.value if meter_cue else theme.spec["meters"][0])

    length_cue = from_text(cues.read_length, "length")
    length = _option(options, "length")
    length_s = parse_number("length", length) if length is not None else (
        float(length_cue.value) if length_cue else 30.0)

    lyrics = clean_text("lyrics", _option(options, "lyrics"), LYRICS_MAX_CHARS, required=False)
    if not lyrics and voice.sings:
        lyrics = _strip_spans(text, spans)

    fmt = str(_option(options, "format") or "mp3").lower()
    if fmt not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    seed = _option(options, "seed")
    request = CompositionRequest(
        prompt=text,
        theme=theme.name,
        voice=voice.name,
        tempo=tempo,
        key=key,
        meter=meter,
        length_s=round(length_s, 2),
        pitch=parse_int("pitch", _option(options, "pitch") or 0),
        seed=parse_int("seed", seed) if seed is not None else None,
        lyrics=lyrics,
        variations=parse_int("variations", _option(options, "variations") or 1),
        format=fmt,
        stems=bool(_option(options, "stems")),
        engine=str(_option(options, "engine") or "rules"),
        notes=tuple(notes),
    )
    return validate(request)
