"""Text-setting: lay the lyric syllables onto the melody notes.

When the plan carries a syllable plan (composer/sing/phrasing.py), the melody was written for the
words: each planned phrase's notes get that phrase's syllables, one note each (`set_planned`).
Otherwise, or where a phrase came out with more notes or fewer than its words (`set_text`): one
syllable per note; when a phrase has more notes than its words, some syllables hold over several
notes (melismas), preferably stressed or phrase-final ones; stressed syllables go on strong beats
where the melody allows (a small dynamic programme per phrase). Whole words stay in one phrase;
short lyrics repeat to fill the piece, long ones stop at a word boundary when the tune ends.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from composer.melody.rhythm import beat_strength
from composer.plan import SyllablePlan
from composer.music.score import Note
from composer.sing.syllables import Syllable
from composer.music.theory import Meter

PHRASE_GAP_QUARTERS = 0.45  # a rest this long starts a new phrase
EARLY_QUARTERS = 0.1  # a note this much before a planned phrase (humanised timing) still belongs to it
PHRASE_BARS = 4


@dataclass(frozen=True)
class SungSyllable:
    syllable: Syllable
    notes: tuple[Note, ...]  # the first is where the syllable starts; more than one is a melisma
    phrase_end: bool  # last syllable before a breath

    @property
    def start(self) -> float:
        return self.notes[0].start

    @property
    def end(self) -> float:
        return self.notes[-1].end


@dataclass
class SungLine:
    syllables: list[SungSyllable]
    words_total: int  # words in one pass of the lyrics
    notes: list[str] = field(default_factory=list)  # remarks for the description
    text: str = ""  # the words as sung, for the description

    def describe(self) -> str:
        """A sentence or two for the piece's description: what is sung, and any remark."""
        shown = self.text if len(self.text) <= 80 else self.text[:77].rsplit(" ", 1)[0] + " …"
        out = f" Sung words: \"{shown}\"." if shown else ""
        return out + "".join(f" Note: {note}." for note in self.notes)

    def spoken_syllables(self) -> list[Syllable]:
        """Each syllable once, in the order first sung: the voice speaks each once, and a repeated
        line sings the same spoken syllables again."""
        return list({id(sung.syllable): sung.syllable for sung in self.syllables}.values())

    def lyrics(self) -> list[tuple[float, str]]:
        """(start quarter, text) per syllable, hyphenated inside words, for the MIDI lyric events."""
        out = []
        for sung in self.syllables:
            text = sung.syllable.text + ("" if sung.syllable.word_end else "-")
            out.append((sung.start, text))
        return out


def split_phrases(notes: list[Note], meter: Meter, section_starts: list[float]) -> list[list[Note]]:
    """Groups of notes sung in one breath: split at rests, section starts and every 4 bars."""
    phrases: list[list[Note]] = []
    bar_q = meter.bar_quarters
    boundaries = set(round(q, 3) for q in section_starts)
    for note in sorted(notes, key=lambda n: n.start):
        if phrases:
            previous = phrases[-1][-1]
            gap = note.start - previous.end
            bar = round(note.start / bar_q)
            at_bar = abs(note.start - bar * bar_q) < 0.06
            crosses_section = any(previous.start < b <= note.start + 0.06 for b in boundaries)
            new_phrase = gap >= PHRASE_GAP_QUARTERS or crosses_section or (
                at_bar and bar % PHRASE_BARS == 0 and len(phrases[-1]) > 1)
            if not new_phrase:
                phrases[-1].append(note)
                continue
        phrases.append([note])
    return phrases


def _assign(syllables: list[Syllable], notes: list[Note], meter: Meter) -> list[int]:
    """Start-note index for each syllable (first is 0), minimising stress/beat mismatch and melisma cost."""
    m, n = len(syllables), len(notes)
    if m >= n:
        return list(range(n))
    strength = [(0.0, 1.0, 1.5, 2.0)[beat_strength(note.start, meter)] for note in notes]
    inf = float("inf")
    # cost[k][j]: best cost with syllable k starting at note j; back[k][j]: where k-1 started
    cost = [[inf] * n for _ in range(m)]
    back = [[0] * n for _ in range(m)]

    def span_cost(k: int, start: int, end: int) -> float:
        syl = syllables[k]
        mismatch = abs(strength[start] - syl.stress) * (1.0 if syl.stress or strength[start] > 1 else 0.5)
        extra = end - start - 1
        hold = 0.15 if k == m - 1 else 0.35 if syl.stress else 0.8
        return mismatch + hold * extra

    cost[0][0] = 0.0
    for k in range(1, m):
        for j in range(k, n - (m - 1 - k)):
            best, arg = inf, 0
            for i in range(k - 1, j):
                if cost[k - 1][i] < inf:
                    c = cost[k - 1][i] + span_cost(k - 1, i, j)
                    if c < best:
                        best, arg = c, i
            cost[k][j], back[k][j] = best, arg
    last = min(range(m - 1, n), key=lambda j: cost[m - 1][j] + span_cost(m - 1, j, n) if cost[m - 1][j] < inf else inf)
    starts = [last]
    for k in range(m - 1, 0, -1):
        starts.append(back[k][starts[-1]])
    return starts[::-1]


def _take_words(stream: list[Syllable], position: int, capacity: int, lyric_len: int) -> tuple[list[Syllable], int]:
    """Whole words from the cyclic syllable stream that fit in `capacity` notes."""
    taken: list[Syllable] = []
    pos = position
    while len(taken) < capacity:
        if pos >= len(stream):
            break
        word = [stream[pos]]
        while not word[-1].word_end and pos + len(word) < len(stream):
            word.append(stream[pos + len(word)])
        at_lyric_start = pos % lyric_len == 0 and taken
        if at_lyric_start and capacity - len(taken) < max(1, lyric_len // 2):
            break  # don't start another pass of the lyrics with only a few notes left
        if len(taken) + len(word) > capacity:
            if not taken:  # a word longer than the whole phrase: sing what fits, go on next phrase
                word = word[:capacity]
            else:
                break
        taken.extend(word)
        pos += len(word)
    return taken, pos


def set_text(syllables: list[Syllable], melody: list[Note], meter: Meter,
             section_starts: list[float], repeat: bool = True) -> SungLine:
    """Lay `syllables` (one pass of the lyrics) onto the melody notes."""
    words_total = len({s.word_index for s in syllables})
    if not syllables or not melody:
        return SungLine([], words_total)
    phrases = split_phrases(melody, meter, section_starts)
    total_notes = sum(len(p) for p in phrases)
    passes = max(1, -(-total_notes // len(syllables))) if repeat else 1
    stream = syllables * passes
    sung: list[SungSyllable] = []
    pos = 0
    for phrase in phrases:
        if pos >= len(stream):
            break
        taken, pos = _take_words(stream, pos, len(phrase), len(syllables))
        if not taken:
            continue
        starts = _assign(taken, phrase, meter)
        for k, (syl, start) in enumerate(zip(taken, starts)):
            end = starts[k + 1] if k + 1 < len(starts) else len(phrase)
            sung.append(SungSyllable(syl, tuple(phrase[start:end]), phrase_end=k == len(taken) - 1))
    line = SungLine(sung, words_total)
    if pos < len(syllables):
        sung_words = stream[pos - 1].word_index + 1 if pos else 0
        line.notes.append(f"the tune ended before the lyrics: Muse sang {sung_words} of {words_total} words")
    return line


def set_planned(syllables: list[Syllable], melody: list[Note], meter: Meter, plan: SyllablePlan) -> SungLine:
    """Lay the syllable plan's phrases onto the notes written for them: each phrase's syllables on
    the notes inside its bars, one each when the melody followed the plan; melismas where a phrase
    has more notes, the whole words that fit where it has fewer."""
    words_total = len({s.word_index for s in syllables})
    if not syllables or not melody or not plan.phrases:
        return SungLine([], words_total)
    bar_q = meter.bar_quarters
    bounds = [p.start_bar * bar_q - EARLY_QUARTERS for p in plan.phrases]
    groups: list[list[Note]] = [[] for _ in plan.phrases]
    for note in sorted(melody, key=lambda n: n.start):
        groups[max(0, bisect_right(bounds, note.start) - 1)].append(note)
    sung: list[SungSyllable] = []
    planned = 0
    for phrase, group in zip(plan.phrases, groups):
        planned += phrase.count
        if not group or not phrase.count:
            continue
        taken = [syllables[(phrase.first + k) % len(syllables)] for k in range(phrase.count)]
        if len(taken) > len(group):
            taken, _ = _take_words(taken, 0, len(group), len(taken))
        starts = _assign(taken, group, meter)
        for k, (syl, start) in enumerate(zip(taken, starts)):
            end = starts[k + 1] if k + 1 < len(starts) else len(group)
            sung.append(SungSyllable(syl, tuple(group[start:end]), phrase_end=k == len(taken) - 1))
    line = SungLine(sung, words_total)
    if planned < len(syllables) and sung:
        sung_words = sung[-1].syllable.word_index + 1
        line.notes.append(f"the tune ended before the lyrics: Muse sang {sung_words} of {words_total} words")
    return line
