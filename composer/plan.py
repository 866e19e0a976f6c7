"""The plan: form, bar count, key, meter and a chord per harmonic slot, drawn from the theme.

Every engine and the arranger read the same plan, so the melody and the band agree on harmony.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Any

from composer.catalog import Theme, Voice
from composer.request import CompositionRequest
from composer.music.score import Timed
from composer.music.theory import Chord, Key, Meter, roman_to_chord

# Body sections cycle through this form; the intro and the ending frame it.
BODY_FORM = ("verse", "chorus", "verse", "chorus", "bridge", "chorus", "verse", "chorus")
PHRASE_BARS = 4


@dataclass(frozen=True)
class Section:
    name: str
    start_bar: int
    bars: int
    chords: tuple[Chord, ...]  # one per harmonic slot, `slots_per_bar` per bar
    index: int = 0  # how many sections of this name came before (for variation)

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars


@dataclass(frozen=True)
class SungPhrase:
    """One breath of the song: the bars it spans and the syllables it sings, as the melody needs
    them (count, stress, word ends); the words themselves stay with the singer."""

    start_bar: int
    bars: int
    stresses: tuple[int, ...]  # per syllable: 2 primary stress, 1 secondary (or a content monosyllable), 0 none
    word_ends: tuple[bool, ...]  # per syllable: the last of its word
    first: int  # index of the first syllable within one pass of the lyrics
    line_start: bool  # a lyric line begins with this phrase

    @property
    def count(self) -> int:
        return len(self.stresses)

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars

    @property
    def pattern(self) -> tuple:
        """What the melody must fit: two phrases with the same pattern can share a tune."""
        return (self.bars, self.stresses, self.word_ends)


@dataclass(frozen=True)
class SyllablePlan:
    """The lyrics laid over the sung phrases before any note is written, so the melody gives every
    syllable a note and each lyric line starts a phrase."""

    phrases: tuple[SungPhrase, ...]
    lyric_syllables: int  # syllables in one pass of the lyrics

    def in_bars(self, start_bar: int, end_bar: int) -> tuple[SungPhrase, ...]:
        return tuple(p for p in self.phrases if start_bar <= p.start_bar < end_bar)


@dataclass(frozen=True)
class Plan(Timed):
    request: CompositionRequest
    theme: Theme
    voice: Voice
    key: Key
    meter: Meter
    sections: tuple[Section, ...]
    slots_per_bar: int
    lead_program: int
    lead_name: str
    syllables: SyllablePlan | None = None  # the lyrics laid over the phrases; singing voices only

    @property
    def tempo(self) -> int:
        """The request's tempo: a re-timed plan is the same plan with a re-timed request."""
        return self.request.tempo

    @property
    def bars(self) -> int:
        return self.sections[-1].end_bar

    @property
    def bar_quarters(self) -> float:
        return self.meter.bar_quarters

    @property
    def total_quarters(self) -> float:
        return self.bars * self.bar_quarters

    @property
    def slot_quarters(self) -> float:
        return self.bar_quarters / self.slots_per_bar

    def section_at(self, bar: int) -> Section:
        for section in self.sections:
            if section.start_bar <= bar < section.end_bar:
                return section
        return self.sections[-1]

    def chord_at(self, quarters: float) -> Chord:
        bar = min(int(quarters // self.bar_quarters), self.bars - 1)
        section = self.section_at(bar)
        slot = int((quarters - bar * self.bar_quarters) // self.slot_quarters)
        index = (bar - section.start_bar) * self.slots_per_bar + min(slot, self.slots_per_bar - 1)
        return section.chords[index % len(section.chords)]

    def phrase_spans(self) -> list[tuple[int, int]]:
        """(start bar, bars) of each phrase the tune sings: every section but the intro, cut into
        4-bar phrases; a 1-bar remainder joins the phrase before it."""
        spans: list[tuple[int, int]] = []
        for section in self.sections:
            if section.name == "intro":
                continue
            lengths = [PHRASE_BARS] * (section.bars // PHRASE_BARS)
            rest = section.bars % PHRASE_BARS
            if rest == 1 and lengths:
                lengths[-1] += 1
            elif rest:
                lengths.append(rest)
            bar = section.start_bar
            for length in lengths:
                spans.append((bar, length))
                bar += length
        return spans


def bar_count(request: CompositionRequest) -> int:
    """Bars whose total length is nearest the requested length (at least 4)."""
    bar_s = request.meter.bar_quarters * 60.0 / request.tempo
    return max(4, round(request.length_s / bar_s))


def _weighted(rng: random.Random, options: list[dict[str, Any]]) -> list[str]:
    weights = [o.get("weight", 1.0) for o in options]
    return rng.choices(options, weights=weights, k=1)[0]["chords"]


def _form(total: int) -> list[tuple[str, int]]:
    """Section names and lengths for `total` bars: intro, body phrases, a cadential ending."""
    if total <= 6:
        return [("verse", total - 2), ("ending", 2)] if total > 4 else [("verse", total - 1), ("ending", 1)]
    intro = 2 if total >= 16 else 1
    ending = 3 if total >= 12 else 2
    body = total - intro - ending
    lengths = [PHRASE_BARS] * (body // PHRASE_BARS)
    rest = body % PHRASE_BARS
    if rest >= 2 or not lengths:
        lengths.append(rest)
    elif rest:
        lengths[-1] += rest
    names = [BODY_FORM[i % len(BODY_FORM)] for i in range(len(lengths))]
    return [("intro", intro), *zip(names, lengths), ("ending", ending)]


def choose_lead(voice: Voice, request: CompositionRequest) -> tuple[int, str]:
    """The lead instrument: the first whose cues appear in the prompt, else one fixed by the prompt."""
    instruments = voice.spec["lead"]["instruments"]
    prompt = request.prompt.lower()
    for inst in instruments:
        if any(cue.lower() in prompt for cue in inst.get("cues", [])):
            return inst["program"], inst["name"]
    if len(instruments) > 1:
        inst = instruments[zlib.crc32(f"{request.theme}:{prompt}".encode()) % len(instruments)]
        return inst["program"], inst["name"]
    return instruments[0]["program"], instruments[0]["name"]


def make_plan(request: CompositionRequest, theme: Theme, voice: Voice, rng: random.Random) -> Plan:
    spec = theme.spec
    key, meter = request.key, request.meter
    slots = spec.get("harmonic_rhythm", 1)
    progressions = spec["progressions"]
    chosen: dict[str, list[str]] = {}
    sections: list[Section] = []
    counts: dict[str, int] = {}
    bar = 0
    for name, length in _form(bar_count(request)):
        source = name if name in progressions else "verse"
        if source not in chosen:
            chosen[source] = _weighted(rng, progressions[source])
        numerals = list(chosen[source])
        n_slots = length * slots
        if name == "ending":
            numerals = _cadence(numerals, key, length, slots)
        else:
            numerals = [numerals[i % len(numerals)] for i in range(n_slots)]
        chords = tuple(roman_to_chord(n, key) for n in numerals)
        sections.append(Section(name, bar, length, chords, counts.get(name, 0)))
        counts[name] = counts.get(name, 0) + 1
        bar += length
    program, lead_name = choose_lead(voice, request)
    return Plan(request, theme, voice, key, meter, tuple(sections), slots, program, lead_name)


def _cadence(numerals: list[str], key: Key, bars: int, slots_per_bar: int) -> list[str]:
    """The ending always closes dominant → tonic, the tonic held for the whole final bar."""
    tonic = "I" if key.mode == "major" else "i"
    approach = [n for n in numerals if n.lower().rstrip("7") not in ("i", "v")]
    approach = approach or ["IV" if key.mode == "major" else "iv"]
    per_bar = [tonic] if bars == 1 else [*(approach[i % len(approach)] for i in range(bars - 2)), "V7", tonic]
    return [numeral for numeral in per_bar for _ in range(slots_per_bar)]
