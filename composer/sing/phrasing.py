"""The syllable plan: the lyrics laid over the song's phrases before the melody is written.

Each lyric line starts a phrase; a line too long for one phrase is cut at a word boundary into
even parts over several phrases; a phrase with room for several short lines sings them as shorter
phrases (a 4-bar phrase as two 2-bar ones, say). Breaths therefore fall between phrases, and the
melody engines write one note per syllable (composer/melody/rhythm.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from composer.melody.rhythm import phrase_capacity, sung_density
from composer.plan import Plan, SungPhrase, SyllablePlan
from composer.sing.lyrics import Lyrics, words_from_text
from composer.sing.syllables import Syllable, syllabify

_LINE_BREAK = re.compile(r"\n|/|[.!?;]+(?=\s|$)")  # where one lyric line ends and the next begins
WHOLE_LINE_STRETCH = 1.5  # a line up to this many times a phrase's comfortable count is sung whole
SHORT_LINE_STRETCH = 1.25  # ... and up to this many when a phrase is cut to sing several lines
ONE_BAR_PENALTY = 0.5  # 1-bar phrases only when they fit the words much better
SHARE_STRETCH = 1.25  # the rest of a cut line is sung whole up to this many times its planned share


def lyrics_text(plan: Plan) -> str:
    return plan.request.lyrics or plan.request.prompt


def lyric_syllables(plan: Plan) -> tuple[Lyrics, list[Syllable], list[int]]:
    """The words, their syllables (one pass), and the syllable index where each lyric line starts
    (lines end at line breaks, slashes and sentence ends)."""
    text = lyrics_text(plan)
    lyrics = words_from_text(text)
    syllables = syllabify(lyrics.words)
    if not syllables:  # every word was vowel-less (e.g. "hmm"): sing la
        lyrics = words_from_text("")
        syllables = syllabify(lyrics.words)
        return lyrics, syllables, [0]
    line_words = [len(words_from_text(line).words) for line in _LINE_BREAK.split(text) if line.strip()]
    starts_by_word = {0}
    if sum(line_words) == len(lyrics.words):  # line breaks survive only when every word was kept
        at = 0
        for count in line_words[:-1]:
            at += count
            starts_by_word.add(at)
    first_of_word: dict[int, int] = {}
    for i, syl in enumerate(syllables):
        first_of_word.setdefault(syl.word_index, i)
    line_starts = set()
    for word in starts_by_word:
        following = [first_of_word[w] for w in first_of_word if w >= word]
        if following:
            line_starts.add(min(following))
    return lyrics, syllables, sorted(line_starts | {0})


class _Stream:
    """The lyrics sung over and over: positions count syllables from the first pass's start."""

    def __init__(self, syllables: list[Syllable], line_starts: list[int]):
        self.syllables, self.line_starts = syllables, line_starts
        self.size = len(syllables)

    def at(self, position: int) -> Syllable:
        return self.syllables[position % self.size]

    def line_end(self, position: int) -> int:
        """Where the line containing `position` ends (exclusive)."""
        offset, base = position % self.size, position - position % self.size
        later = [s for s in self.line_starts if s > offset]
        return base + (later[0] if later else self.size)

    def word_ends(self, start: int, end: int) -> list[int]:
        """Positions in (start, end] that end a word."""
        return [p + 1 for p in range(start, end) if self.at(p).word_end]


def _chunk(stream: _Stream, position: int, line_end: int, comfortable: int, most: int,
           share: float | None = None) -> tuple[int, float]:
    """How many syllables of the line at `position` this phrase sings, and the share the line was
    planned in: the whole line when it fits, else an even share cut at a word end. `share` is
    that plan for a line already cut: its rest is sung whole only within a quarter of the share
    (or within the comfortable count), else cut again, so a line cut in three does not end in one
    part twice as long as its first (20 + 39 syllables)."""
    remaining = line_end - position
    if share is None:
        fits = max(comfortable * WHOLE_LINE_STRETCH, comfortable + 1)
    else:
        fits = max(comfortable, share * SHARE_STRETCH)
    if remaining <= most and remaining <= fits:
        return remaining, share or remaining
    parts = max(2, math.ceil(remaining / comfortable))
    target = remaining / parts
    ends = [e - position for e in stream.word_ends(position, line_end) if e - position <= most]
    if not ends:  # one word longer than the phrase can hold: sing what fits, the rest next phrase
        return min(most, remaining), share or target
    return min(ends, key=lambda c: (abs(c - target), -c)), share or target


def _parts(bars: int, count: int) -> list[int]:
    """`bars` cut into `count` phrases as evenly as possible, longer ones first."""
    size, extra = divmod(bars, count)
    return [size + (1 if k < extra else 0) for k in range(count)]


def syllable_plan(plan: Plan, syllables: list[Syllable], line_starts: list[int]) -> SyllablePlan:
    """Lay the (repeating) lyrics over the plan's phrases."""
    stream = _Stream(syllables, line_starts)
    density = sung_density(plan.meter, plan.tempo, plan.theme.spec.get("melody", {}).get("density", 1.0))

    def capacity(bars: int, final: bool) -> tuple[int, int]:
        return phrase_capacity(bars, plan.meter, plan.tempo, density, final)

    def distance(position: int, parts: list[int], final: bool) -> float:
        """How far `parts`, each singing the next whole line, are from the theme's comfortable
        number of syllables (mean |log2| of fill); inf when a line does not fit its part."""
        total = 0.0
        for k, bars in enumerate(parts):
            length = stream.line_end(position) - position
            comfortable, most = capacity(bars, final and k == len(parts) - 1)
            if length > min(most, comfortable * SHORT_LINE_STRETCH):
                return math.inf
            total += abs(math.log2(length / comfortable))
            position += length
        return total / len(parts) + (ONE_BAR_PENALTY if parts[-1] == 1 else 0.0)

    def split(position: int, bars: int, final: bool) -> list[int]:
        """A phrase at a line start sings several short lines as shorter phrases when that brings
        it nearer the theme's pace: one line per 4 bars, per 2, or per bar."""
        options = [_parts(bars, count) for count in range(2, bars + 1) if bars // count >= 2]
        options.append([1] * bars)
        best, score = [bars], distance(position, [bars], final)
        for parts in options:
            value = distance(position, parts, final)
            if value < score - 1e-9:
                best, score = parts, value
        return best

    phrases: list[SungPhrase] = []
    position = 0
    line_end: int | None = None  # end of the line in progress, None at a line start
    share = 0.0  # syllables per phrase the line in progress was planned in
    spans = plan.phrase_spans()
    for i, (start, bars) in enumerate(spans):
        final = i == len(spans) - 1
        parts = split(position, bars, final) if line_end is None else [bars]
        for k, part_bars in enumerate(parts):
            part_final = final and k == len(parts) - 1
            at_line_start = line_end is None
            if line_end is None:
                line_end = stream.line_end(position)
            comfortable, most = capacity(part_bars, part_final)
            count, share = _chunk(stream, position, line_end, comfortable, most,
                                  None if at_line_start else share)
            taken = [stream.at(p) for p in range(position, position + count)]
            phrases.append(SungPhrase(start, part_bars, tuple(s.stress for s in taken),
                                      tuple(s.word_end for s in taken), position % stream.size, at_line_start))
            start += part_bars
            position += count
            if position >= line_end:
                line_end = None
    return SyllablePlan(tuple(phrases), len(syllables))


def with_syllable_plan(plan: Plan) -> Plan:
    """The plan with its syllable plan when its voice sings; unchanged otherwise."""
    if not plan.voice.sings:
        return plan
    _, syllables, line_starts = lyric_syllables(plan)
    return replace(plan, syllables=syllable_plan(plan, syllables, line_starts))
