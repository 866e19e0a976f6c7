"""Text + options → CompositionRequest.

Precedence: explicit options beat what the text says; the text beats the theme's defaults.
Theme (and, through it, mood) comes from sentence-embedding similarity between the prompt and
each theme's description and example phrases (composer/understanding/semantic.py), helped by the theme's name
appearing in the words; explicit parameters come from composer/understanding/cues.py and composer/understanding/voice_cues.py.

Out-of-range numbers written in the text are clamped to Muse's ranges and the clamp is noted
("tempo 5000" → 300 BPM); out-of-range options are errors, because the member typed a field.
When the text contradicts itself (two keys, "fast … slow"), the first explicit mention wins and
a note says so. Every fallback and override lands in `notes`, which the description prints.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from composer.understanding import cues, semantic
from composer.catalog import Catalog, Theme, Voice
from composer.errors import InvalidRequest
from composer.melody import default_engine
from composer.understanding.lyrics_text import explicit_lyrics, lyrics_from_prompt
from composer.request import (
    FORMATS,
    LENGTH_RANGE_S,
    LYRICS_MAX_CHARS,
    METERS,
    PITCH_RANGE,
    PROMPT_MAX_CHARS,
    TEMPO_RANGE,
    VARIATIONS_RANGE,
    CompositionRequest,
    clean_text,
    parse_int,
    parse_key,
    parse_meter,
    parse_number,
    validate,
)
from composer.music.theory import Key
from composer.options import OPTION_NAMES
from composer.understanding.voice_cues import asks_for_singing, read_voices

DEFAULT_THEME = "happy"
DEFAULT_LENGTH_S = 30.0
# Below this similarity the words do not clearly mean any theme, and Muse says it chose the default.
THEME_CONFIDENCE_MIN = 0.26
NAME_BONUS = 0.12  # the theme's own name in the words ("jazz", "lullaby", "marching")
CLASSIFIER_WEIGHT = 0.2  # how much the theme classifier's probability adds to a theme's rank
_NOISE = re.compile(r"<[@#][!&]?\d+>|<a?:\w+:\d+>|@(?:everyone|here)\b|https?://\S+|[*_~`|>]{1,3}")
_STOPWORDS = set(
    "a an the and or of for to in on at by with my me i it is be some something song music piece "
    "tune make play please that this very so just now give write compose create generate track melody "
    "one can could would you us want need like pls plz thanks time about from hey muse".split()
)
_WORD = re.compile(r"[\w'’-]+")  # punctuation left between masked cues only costs word pieces


@dataclass(frozen=True)
class Understanding:
    """The request plus how sure Muse is about the parts it inferred (for `muse parse` and logs)."""

    request: CompositionRequest
    theme_source: str  # "option", "text" (semantic/name match), "default" (low confidence)
    theme_confidence: float  # 0-1: similarity of the prompt to the chosen theme (1.0 for an option)
    theme_scores: dict[str, float] = field(default_factory=dict)  # top candidates
    voice_source: str = "theme"  # "option", "text", "theme"
    mood: str = ""  # the chosen theme's mood word

    def to_json(self) -> dict[str, Any]:
        return {"theme": {"source": self.theme_source, "confidence": round(self.theme_confidence, 3),
                          "candidates": {k: round(v, 3) for k, v in self.theme_scores.items()}},
                "voice": {"source": self.voice_source}, "mood": self.mood, "notes": list(self.request.notes)}


def _option(options: Mapping[str, Any], name: str) -> Any:
    value = options.get(name)
    return None if value is None or value == "" else value


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOPWORDS]


def _name_in_text(name: str, text: str) -> bool:
    """The theme's name among the words; a member's 'neon-rain' is also written 'neon rain' or 'neonrain'."""
    lowered = text.lower()
    words = _name_words(name)
    # the cheap test first: most names are absent ("shant" also finds "shanties")
    if not all((w[:-1] if w.endswith("y") else w) in lowered for w in words):
        return False
    return _name_pattern(words).search(text) is not None


def _name_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[-_\s]+", name.lower()) if w)


@lru_cache(maxsize=1024)
def _name_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    parts = [re.escape(w) for w in words]
    if re.search(r"[^aeiou]y$", words[-1]):  # "sea shanty" → "sea shanties"
        parts[-1] = re.escape(words[-1][:-1]) + "(?:y|ies)"
    separator = r"[\s_-]*"
    return re.compile(rf"\b{separator.join(parts)}(?:s|es|ing|y|ed)?\b", re.I)


def _keyword_scores(text: str, catalog: Catalog) -> dict[str, float]:
    """Word overlap with each theme's examples: the fallback when no embedding model is available."""
    words = set(_words(text))
    scores = {}
    for theme in catalog.themes.values():
        vocab = {w for phrase in theme.spec["examples"] for w in _words(phrase)}
        scores[theme.name] = len(words & vocab) / max(1, len(words))
    return scores


def choose_theme(text: str, catalog: Catalog, notes: list[str]) -> tuple[str, float, str, dict[str, float]]:
    """(theme, confidence, source, top scores) from meaning; low confidence → the default theme."""
    if not _words(text):
        fallback = DEFAULT_THEME if DEFAULT_THEME in catalog.themes else sorted(catalog.themes)[0]
        notes.append(f"the words name no mood, so Muse chose its default theme, {fallback}")
        return fallback, 0.0, "default", {}
    model = semantic.get_semantics()
    if model is not None:
        scores, probabilities = model.theme_scores(text, [t.spec for t in catalog.themes.values()])
    else:
        scores, probabilities = _keyword_scores(text, catalog), {}
        if semantic.load_error() and text.strip():
            notes.append(f"themes were matched by keywords only ({semantic.load_error()})")
    named = {name for name in scores if _name_in_text(name, text)}
    for name in named:
        scores[name] += NAME_BONUS
    # a member's own theme named in the words ("in my neon rain theme") is the one they asked for,
    # whatever else the words suggest; built-in names are everyday words ("happy"), so only a bonus
    own = {name for name in named if name in catalog.themes and not catalog.themes[name].builtin}
    # similarity says how close the words are to a theme (the confidence); the classifier, fitted on
    # every theme's phrases at once, is better at telling close themes apart, so it weighs in the ranking
    rank = {name: score + CLASSIFIER_WEIGHT * probabilities.get(name, 0.0) for name, score in scores.items()}
    ranked = sorted(scores.items(), key=lambda item: (item[0] not in own, -rank[item[0]], item[0]))
    top = dict(ranked[:3])
    best, confidence = ranked[0] if ranked else (DEFAULT_THEME, 0.0)
    confidence = max(0.0, min(1.0, confidence))
    if confidence < THEME_CONFIDENCE_MIN and best not in own:
        fallback = DEFAULT_THEME if DEFAULT_THEME in catalog.themes else sorted(catalog.themes)[0]
        closest = f"closest: {best}, " if best != fallback else ""
        notes.append(f"the words do not clearly suggest a mood ({closest}confidence {confidence:.2f}), "
                     f"so Muse chose its default theme, {fallback}")
        return fallback, confidence, "default", top
    return best, confidence, "text", top


def _pick_key(theme: Theme, prompt: str, mode: str | None) -> Key:
    keys = [Key.parse(k) for k in theme.spec.get("keys", [])] or [Key(0, theme.spec["modes"][0])]
    wanted = mode or theme.spec["modes"][0]
    matching = [k for k in keys if k.mode == wanted] or [Key(k.tonic, wanted) for k in keys]
    return matching[zlib.crc32(prompt.encode("utf-8")) % len(matching)]


def _clamp(name: str, value: float, bounds: tuple[float, float], unit: str, notes: list[str]) -> float:
    low, high = bounds
    if low <= value <= high:
        return value
    clamped = min(max(value, low), high)
    notes.append(f"{name} {value:g}{unit} is outside {low:g}-{high:g}{unit}, so Muse used {clamped:g}{unit}")
    return clamped


def _first(found: tuple[cues.Cue, ...], what: str, shown, notes: list[str]) -> cues.Cue | None:
    """The first (most exact) cue; a note when the text names different values."""
    if not found:
        return None
    chosen = found[0]
    others = [c for c in found[1:] if c.value != chosen.value and c.exact >= chosen.exact]
    if others:
        notes.append(f"the text names more than one {what} ({', '.join(shown(c.value) for c in [chosen, *others])}); "
                     f"Muse followed {shown(chosen.value)}")
    return chosen


def _mask_all(text: str, spans: list[tuple[int, int]]) -> str:
    for span in spans:
        text = _mask(text, span)
    return text


def _mask(text: str, span: tuple[int, int] | None) -> str:
    """Blank out a span (written-out lyrics) so no cue is read from inside it; offsets stay valid."""
    if span is None:
        return text
    return text[:span[0]] + " " * (span[1] - span[0]) + text[span[1]:]


# `muse parse --batch` prepares each prompt twice (to embed ahead, then to resolve), a block apart
@lru_cache(maxsize=2048)
def _prepare(text: str):
    """Written-out lyrics, the text cues are read from, the cues (read-only), and the text the theme is judged on."""
    written = explicit_lyrics(text)
    analysis = _NOISE.sub(lambda m: " " * len(m.group(0)), _mask(text, written and written[1]))
    found = MappingProxyType({
        "tempo": tuple(cues.read_tempos(analysis)), "key": tuple(cues.read_keys(analysis)),
        "meter": tuple(cues.read_meters(analysis)), "length": tuple(cues.read_lengths(analysis)),
        "variations": tuple(c for c in [cues.read_variations(analysis)] if c),
        "pitch": tuple(c for c in [cues.read_pitch(analysis)] if c)})
    exact = [c.span for cues_found in found.values() for c in cues_found if c.exact]
    # the theme is judged on the meaningful words: no number-and-name cues ("in D minor", "90 bpm") and
    # no request phrasing ("please make me a song about") and no punctuation; same accuracy on the
    # public and unseen prompts, with 55 % fewer word pieces than the whole prompt
    content = " ".join(w for w in _WORD.findall(_mask_all(analysis, exact)) if w.lower() not in _STOPWORDS)
    return written, analysis, found, content


def theme_text(prompt: str) -> str:
    """The exact text `understand` embeds for this prompt ('' if none), so batches can embed ahead."""
    try:
        text = clean_text("prompt", prompt, PROMPT_MAX_CHARS, required=True)
    except InvalidRequest:
        return ""
    content = _prepare(text)[3]
    return content if _words(content) else ""


class _Resolver:
    """One request's worth of state: the text, what was read from it, and the notes."""

    def __init__(self, text: str, options: Mapping[str, Any], catalog: Catalog):
        self.text, self.options, self.catalog = text, options, catalog
        self.notes: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.written, self.analysis, self.found, self.content = _prepare(text)

    def take(self, cue):
        if cue is not None:
            self.spans.append(cue.span)
        return cue

    def theme(self) -> tuple[Theme, str, float, dict[str, float]]:
        name = _option(self.options, "theme")
        if name is not None:
            return self.catalog.theme(str(name).strip().lower()), "option", 1.0, {}
        name, confidence, source, top = choose_theme(self.content, self.catalog, self.notes)
        return self.catalog.theme(name), source, confidence, top

    def voice(self, theme: Theme) -> tuple[Voice, str]:
        found = read_voices(self.analysis, self.catalog.voices.values())
        chosen = found[0] if found else None
        if chosen is not None:
            self.spans.extend(c.span for c in found if c.strength >= 2)
        name = _option(self.options, "voice")
        if name is not None:
            voice = self.catalog.voice(str(name).strip().lower())
            if chosen is not None and chosen.voice != voice.name:
                said = self.text[chosen.span[0]:chosen.span[1]]
                self.notes.append(f"the voice option ({voice.name}) overrides '{said}' in the text")
            return voice, "option"
        if chosen is not None:
            if len({c.voice for c in found if c.strength == chosen.strength}) > 1 and chosen.strength >= 2:
                names = list(dict.fromkeys(c.voice for c in found if c.strength == chosen.strength))
                self.notes.append(f"the text asks for several voices ({', '.join(names)}); Muse chose {chosen.voice}, "
                                  f"named first")
            return self.catalog.voice(chosen.voice), "text"
        singing = asks_for_singing(self.analysis)
        wants_words = singing is not None or self.written is not None or _option(self.options, "lyrics")
        if wants_words and "female" in self.catalog.voices:
            if singing:
                self.spans.append(singing)
            self.notes.append("the words ask for singing without saying who, so a female voice sings")
            return self.catalog.voice("female"), "text"
        default = theme.spec.get("default_voice", "piano")
        name = default if default in self.catalog.voices else sorted(self.catalog.voices)[0]
        return self.catalog.voice(name), "theme"

    def tempo(self, theme: Theme) -> int:
        cue = self.take(_first(self.found["tempo"], "tempo", lambda v: f"{v} BPM", self.notes))
        option = _option(self.options, "tempo")
        if option is not None:
            tempo = parse_int("tempo", option)
            if cue is not None and cue.exact and cue.value != tempo:
                self.notes.append(f"the tempo option ({tempo} BPM) overrides {cue.value} BPM in the text")
            return tempo
        if cue is None:
            return int(theme.spec["tempo"]["default"])
        return int(_clamp("tempo", float(cue.value), TEMPO_RANGE, " BPM", self.notes))

    def key(self, theme: Theme, mood_text: str) -> Key:
        cue = self.take(_first(self.found["key"], "key", lambda v: v.name, self.notes))
        option = _option(self.options, "key")
        if option is not None:
            key = parse_key(option)
            if cue is not None and cue.value != key:
                self.notes.append(f"the key option ({key.name}) overrides {cue.value.name} in the text")
            return key
        if cue is not None:
            return cue.value
        mode_cue = cues.read_mode(self.analysis)
        mode = mode_cue.value if mode_cue else None
        if mode is None and len(set(theme.spec["modes"])) > 1:
            mode = self._mood_mode(mood_text)
        return _pick_key(theme, self.text, mode)

    def _mood_mode(self, text: str) -> str | None:
        """Themes that allow both modes take minor for dark words and major for bright ones."""
        model = semantic.get_semantics() if text.strip() else None
        if model is None:
            return None
        brightness = model.brightness(text)
        return "minor" if brightness < -0.03 else "major" if brightness > 0.03 else None

    def meter(self, theme: Theme) -> Any:
        found = self.found["meter"]
        supported = [c for c in found if c.value in METERS]
        for c in found:
            if c.value not in METERS:
                self.spans.append(c.span)
                self.notes.append(f"{c.value} is not a meter Muse plays (it plays {', '.join(METERS)})")
        cue = self.take(_first(supported, "meter", str, self.notes))
        option = _option(self.options, "meter")
        if option is not None:
            meter = parse_meter(option)
            if cue is not None and cue.value != str(meter):
                self.notes.append(f"the meter option ({meter}) overrides {cue.value} in the text")
            return meter
        return parse_meter(cue.value if cue else theme.spec["meters"][0])

    def length(self) -> float:
        cue = self.take(_first(self.found["length"], "length", lambda v: f"{v:g} s", self.notes))
        option = _option(self.options, "length")
        if option is not None:
            length = parse_number("length", option)
            if cue is not None and cue.exact and abs(cue.value - length) > 0.5:
                self.notes.append(f"the length option ({length:g} s) overrides {cue.value:g} s in the text")
            return length
        if cue is None:
            return DEFAULT_LENGTH_S
        return _clamp("length", float(cue.value), LENGTH_RANGE_S, " s", self.notes)

    def small_int(self, name: str, bounds: tuple[int, int], default: int) -> int:
        cue = self.take(self.found[name][0] if self.found[name] else None)
        option = _option(self.options, name)
        if option is not None:
            return parse_int(name, option)
        if cue is None:
            return default
        return int(_clamp(name, float(cue.value), bounds, "", self.notes))

    def lyrics(self, voice: Voice) -> str:
        given = clean_text("lyrics", _option(self.options, "lyrics"), LYRICS_MAX_CHARS, required=False)
        if not given and self.written is not None:
            given = clean_text("lyrics", self.written[0][:LYRICS_MAX_CHARS], LYRICS_MAX_CHARS, required=False)
        if given:
            if not voice.sings:
                self.notes.append(f"the {voice.name} voice does not sing, so the lyrics are not sung")
            return given
        if not voice.sings:
            return ""
        words = lyrics_from_prompt(self.analysis, self.spans, frozenset(self.catalog.themes))
        if not words:
            self.notes.append("the prompt has no words to sing, so the voice sings 'la la la'")
            return "la la la"
        if len(words) > LYRICS_MAX_CHARS:
            words = words[:LYRICS_MAX_CHARS].rsplit(" ", 1)[0]
            self.notes.append(f"only the first {LYRICS_MAX_CHARS} characters of the prompt are sung")
        return words


def interpret(prompt: str, options: Mapping[str, Any] | None, catalog: Catalog) -> Understanding:
    """Resolve one request and say how it was resolved. Raises InvalidRequest saying what is allowed."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise InvalidRequest(f"unknown option {unknown[0]!r}; options: {', '.join(OPTION_NAMES)}")
    text = clean_text("prompt", prompt, PROMPT_MAX_CHARS, required=True)
    r = _Resolver(text, options, catalog)
    if not r.analysis.strip():
        raise InvalidRequest("the prompt has only mentions or formatting: describe the music in a few words, "
                             "e.g. 'happy birthday'")
    theme, theme_source, confidence, top = r.theme()
    voice, voice_source = r.voice(theme)
    tempo = r.tempo(theme)
    key = r.key(theme, r.content)
    meter = r.meter(theme)
    length_s = r.length()
    variations = r.small_int("variations", VARIATIONS_RANGE, 1)
    pitch = r.small_int("pitch", PITCH_RANGE, 0)
    lyrics = r.lyrics(voice)

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
        pitch=pitch,
        seed=parse_int("seed", seed) if seed is not None else None,
        lyrics=lyrics,
        variations=variations,
        format=fmt,
        stems=bool(_option(options, "stems")),
        engine=str(_option(options, "engine") or default_engine()),
        theme_spec=None if theme.builtin else theme.spec,
        notes=tuple(dict.fromkeys(r.notes)),
    )
    return Understanding(validate(request), theme_source, confidence, top, voice_source, theme.spec.get("mood", ""))


def understand(prompt: str, options: Mapping[str, Any] | None, catalog: Catalog) -> CompositionRequest:
    """Resolve one request. Raises InvalidRequest with a message that says what is allowed."""
    return interpret(prompt, options, catalog).request


def prime_understanding(prompts: list[str]) -> None:
    """Embed many prompts' theme texts in one call, so resolving them one at a time finds them cached.
    ONNX Runtime releases the GIL: a thread can do this for one block while another resolves the last."""
    texts = [t for t in (theme_text(p) for p in prompts) if t]
    model = semantic.get_semantics() if texts else None
    if model is not None:
        model.prime(texts)
