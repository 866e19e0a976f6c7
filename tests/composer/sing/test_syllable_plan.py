"""The syllable plan: lyrics laid over the phrases before the melody, a rhythm with one note per
syllable, and the setting that puts each planned phrase's words on its notes."""

import random

import pytest

from composer.melody.rhythm import (SUNG_SECONDS_PER_SYLLABLE, beat_strength, phrase_capacity, sung_density,
                                    sung_rhythm)
from composer.plan import SungPhrase, SyllablePlan
from composer.music.score import Note
from composer.sing.phrasing import _chunk, _Stream, lyric_syllables, with_syllable_plan
from composer.sing.setting import set_planned
from composer.sing.syllables import syllabify
from composer.music.theory import Meter

FOUR, THREE, SIX_EIGHT = Meter(4, 4), Meter(3, 4), Meter(6, 8)


def sung_plan(make_plan_for, prompt, **options):
    options.setdefault("voice", "male")
    return with_syllable_plan(make_plan_for(prompt, **options))


def test_only_singing_voices_get_a_syllable_plan(make_plan_for):
    assert sung_plan(make_plan_for, "happy birthday").syllables is not None
    for voice in ("piano", "synth", "metal", "ethnic", "drums"):
        plan = make_plan_for("happy birthday", voice=voice)
        assert with_syllable_plan(plan) is plan


@pytest.mark.parametrize("prompt,options", [
    ("happy birthday dear friend", {"length": 30}),
    ("a sad song", {"lyrics": "the quick brown fox jumps over the lazy dog and runs away", "length": 40}),
    ("dance", {"lyrics": "rain", "length": 20, "meter": "6/8"}),
    ("epic", {"lyrics": "Twinkle twinkle little star. How I wonder what you are!", "length": 45, "meter": "3/4"}),
])
def test_phrases_tile_the_tune_and_lines_start_phrases(make_plan_for, prompt, options):
    plan = sung_plan(make_plan_for, prompt, **options)
    phrases = plan.syllables.phrases
    body = [(s.start_bar, s.end_bar) for s in plan.sections if s.name != "intro"]
    assert phrases[0].start_bar == body[0][0] and phrases[-1].end_bar == plan.bars
    assert all(a.end_bar == b.start_bar for a, b in zip(phrases, phrases[1:]))
    section_starts = {start for start, _ in body}
    assert all(any(p.start_bar == start for p in phrases) for start in section_starts)
    _, syllables, line_starts = lyric_syllables(plan)
    density = plan.theme.spec["melody"]["density"]
    position = 0
    for phrase in phrases:
        assert phrase.first == position % len(syllables)  # the lyrics in order, none skipped
        assert phrase.count <= phrase_capacity(phrase.bars, plan.meter, plan.tempo, density,
                                               phrase is phrases[-1])[1]
        assert phrase.line_start == (phrase.first in line_starts)
        position += phrase.count
    lines = [p for p in phrases if p.line_start]
    assert lines and all(p.first in line_starts for p in lines)
    # no phrase begins in the middle of a word
    assert all(phrase.first == 0 or syllables[phrase.first - 1].word_end for phrase in phrases)


def test_a_long_line_is_cut_at_a_word_end_into_even_parts(make_plan_for):
    words = "supercalifragilistic is a word the children sing when they are happy all day long"
    plan = sung_plan(make_plan_for, "lullaby", lyrics=words, length=40, theme="lullaby")
    first, second = plan.syllables.phrases[:2]
    assert first.line_start and not second.line_start
    assert first.word_ends[-1]
    assert abs(first.count - second.count) <= 4


@pytest.mark.parametrize("length,parts", [(39, [39]), (47, [24, 23]), (59, [20, 20, 19]), (80, [20, 20, 20, 20])])
def test_a_cut_line_keeps_to_even_parts(length, parts):
    """A line sung whole when it fits (up to 1.5 × comfortable), else in even parts: the rest of a
    line cut in three is cut again, not sung whole at twice the first part's length."""
    stream = _Stream(syllabify(["la"] * length), [0])
    counts, position, share = [], 0, None
    while position < length:
        count, share = _chunk(stream, position, length, comfortable=26, most=50, share=share)
        counts.append(count)
        position += count
    assert counts == parts


@pytest.mark.parametrize("theme,tempo", [("lullaby", 60), ("romantic", 76), ("relax", 70)])
def test_a_slow_theme_sings_its_words_faster_than_its_tune_moves(make_plan_for, theme, tempo):
    words = ("the river runs beside the little village where the morning light is falling on the "
             "windows and the children wake to hear the birds")
    plan = sung_plan(make_plan_for, "song", lyrics=words, length=40, theme=theme, tempo=tempo, meter="4/4")
    seconds_per_bar = plan.bar_quarters * 60.0 / plan.tempo
    phrases = plan.syllables.phrases[:-1]  # the closing phrase holds its last note
    rate = sum(p.count for p in phrases) / sum(p.bars * seconds_per_bar for p in phrases)
    # the theme's own pace sang 0.47-0.74 syllables a second here; the eighth-note grid caps a
    # 4/4 bar at 60-76 beats a minute near 2, and long lines are cut into even parts
    assert rate >= 1.0
    assert sung_density(plan.meter, plan.tempo, 0.6) >= 60.0 / plan.tempo / SUNG_SECONDS_PER_SYLLABLE - 1e-9


@pytest.mark.parametrize("lyrics,theme,bars", [("sunny morning by the sea", "happy", 2),
                                                ("dancing all night", "dance", 1)])
def test_short_lines_share_a_phrase_as_shorter_phrases(make_plan_for, lyrics, theme, bars):
    plan = sung_plan(make_plan_for, "song", lyrics=lyrics, theme=theme, length=30, meter="4/4")
    phrases = plan.syllables.phrases
    assert phrases[0].bars == bars and all(p.bars < 4 for p in phrases)
    assert all(p.line_start for p in phrases)


def phrase(stresses, bars=2, start=0):
    ends = tuple(True for _ in stresses)
    return SungPhrase(start, bars, tuple(stresses), ends, 0, True)


@pytest.mark.parametrize("meter", [FOUR, THREE, SIX_EIGHT, Meter(2, 4), Meter(5, 4), Meter(7, 8)])
@pytest.mark.parametrize("stresses", [(2, 0, 2, 0, 2), (0, 2, 0, 0, 2, 0, 2), (2,), (1, 2), (0, 2, 0, 2, 0, 2, 0)])
def test_rhythm_has_one_note_per_syllable_inside_the_phrase(meter, stresses):
    for final in (False, True):
        p = phrase(stresses, bars=3)
        rhythm = sung_rhythm(p, meter, final, random.Random(3))
        assert len(rhythm) == len(stresses)
        starts = [s for s, _ in rhythm]
        assert starts == sorted(set(starts))
        assert all(d > 0 for _, d in rhythm)
        assert all(abs(s + d - t) < 1e-9 for (s, d), (t, _) in zip(rhythm, rhythm[1:]))  # legato
        assert abs(rhythm[-1][0] + rhythm[-1][1] - 3 * meter.bar_quarters) < 1e-9
        stressed = [beat_strength(s, meter) >= 1 for (s, _), st in zip(rhythm, stresses) if st == 2]
        assert all(stressed)
        if final:  # the closing bar holds the last syllable alone, from its downbeat
            assert abs(rhythm[-1][0] - 2 * meter.bar_quarters) < 1e-9


def test_rhythm_puts_stress_on_strong_beats():
    p = phrase((0, 2, 0, 2, 0, 0, 2), bars=4)  # "a-WAY in the MAN-ger, no CRIB"
    rhythm = sung_rhythm(p, FOUR, False)
    strengths = [beat_strength(s, FOUR) for (s, _), st in zip(rhythm, p.stresses) if st == 2]
    assert min(strengths) >= 2


def quarters(starts, duration=1.0):
    return [Note(float(s), duration, 60, 90) for s in starts]


def planned(counts, bars=1, words=("happy", "birthday")):
    syllables = syllabify(list(words))
    phrases, first = [], 0
    for k, count in enumerate(counts):
        taken = [syllables[(first + i) % len(syllables)] for i in range(count)]
        at = first % len(syllables)
        phrases.append(SungPhrase(k * bars, bars, tuple(s.stress for s in taken),
                                  tuple(s.word_end for s in taken), at, at == 0))
        first += count
    return syllables, SyllablePlan(tuple(phrases), len(syllables))


def test_planned_phrases_get_one_note_per_syllable():
    syllables, plan = planned([4, 4])
    melody = quarters([0, 1, 2, 3.5]) + quarters([4, 4.5, 5, 6])
    line = set_planned(syllables, melody, FOUR, plan)
    assert [s.syllable.text for s in line.syllables] == ["hap", "py", "birth", "day"] * 2
    assert all(len(s.notes) == 1 for s in line.syllables)
    assert [s.phrase_end for s in line.syllables] == [False, False, False, True] * 2
    assert not line.notes


def test_planned_phrase_with_spare_notes_sings_melismas():
    syllables, plan = planned([4])
    melody = quarters([0, 0.5, 1, 2, 3])
    line = set_planned(syllables, melody, FOUR, plan)
    assert [s.syllable.text for s in line.syllables] == ["hap", "py", "birth", "day"]
    assert sum(len(s.notes) for s in line.syllables) == 5


def test_planned_phrase_with_too_few_notes_sings_the_whole_words_that_fit():
    syllables, plan = planned([4, 4])
    melody = quarters([0, 1, 2]) + quarters([4, 5, 6, 7])
    line = set_planned(syllables, melody, FOUR, plan)
    texts = [s.syllable.text for s in line.syllables]
    assert texts == ["hap", "py", "hap", "py", "birth", "day"]
    assert all(len(s.notes) >= 1 for s in line.syllables)


def test_humanised_notes_stay_in_their_planned_phrase():
    syllables, plan = planned([2, 2])
    melody = [Note(0.01, 1, 60, 90), Note(1.0, 3, 60, 90), Note(3.98, 1, 60, 90), Note(5.02, 3, 60, 90)]
    line = set_planned(syllables, melody, FOUR, plan)
    assert [s.syllable.text for s in line.syllables] == ["hap", "py", "birth", "day"]
    assert [s.phrase_end for s in line.syllables] == [False, True, False, True]


def test_tune_shorter_than_the_lyrics_says_so():
    syllables, plan = planned([2], words=("happy", "birthday", "to", "you"))
    line = set_planned(syllables, quarters([0, 1]), FOUR, plan)
    assert any("tune ended before the lyrics: Muse sang 1 of 4 words" in n for n in line.notes)
