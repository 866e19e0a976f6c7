"""The outside judges of the singing: the word alignment (which says no to missing, wrong and
reordered words), the report's spread over tune sets, and the recogniser itself on three short
sung lines (the small CI version of `python -m evaluation.singing`) and on one line spoken
plainly (the ceiling the singing is measured against)."""

import numpy as np
import pytest

from composer.audio.render import SAMPLE_RATE
from evaluation.judges import align, normalise, recogniser
from evaluation.singing import SungPiece, seed_sets, shape_rows, spoken_line, spread_rows, sung_words, word_shapes

LINES = [  # (lyrics, voice, seed): short lines, not among the evaluation's
    ("hold my hand and walk with me", "male", 27),
    ("thank you for the music", "female", 24),
    ("we are going to the seaside on Sunday", "male", 23),
]


def test_alignment_counts_missing_wrong_and_reordered_words():
    sung = "happy birthday to you happy birthday to you".split()
    assert align(sung, sung).share == 1.0
    heard = normalise("Have the birthday to you, happy birthday!")
    alignment = align(sung, heard)
    assert alignment.recognised == 5 and alignment.marked().startswith("~~happy~~ birthday to you happy birthday")
    assert align(sung, list(reversed(sung))).share <= 0.5
    assert align(sung, []).share == 0.0


def test_heard_text_is_normalised_like_the_lyrics():
    assert normalise("Turning 32 today, it's Bob's 90th!") == ["turning", "thirty", "two", "today", "its", "bobs",
                                                              "ninetieth"]
    assert normalise("We're sure I'm fine, don't worry, you'll see") == normalise("we are sure I am fine do not worry you will see")
    assert normalise("🎉") == []
    assert normalise("Goodnight, driving licence") == normalise("good night driving license")


def test_the_report_shows_each_seed_sets_share_and_the_range():
    def piece(voice: str, heard: str) -> SungPiece:
        sung = "one two three four".split()
        return SungPiece("line", voice, 0, "one two three four", align(sung, heard.split()), align(sung, sung),
                         heard, "", 0, 0, [], 0.0)

    assert seed_sets(3) == [300, 400, 500] and seed_sets(0) == [300]
    pieces = [piece("male", "one two"), piece("male", "one two three four"),  # set 1: 6 of 8
              piece("male", "one"), piece("male", "")]  # set 2: 1 of 8
    assert spread_rows(pieces, lines=2) == ["| male | 75.0% / 12.5% | 12.5%–75.0% | 100.0% / 100.0% | 100.0%–100.0% |"]
    assert spread_rows(pieces[:2], lines=2) == []  # one set: no spread to show


def test_the_report_shows_where_words_are_lost_by_their_shape():
    from composer.music.score import Note
    from composer.sing.setting import SungLine, SungSyllable
    from composer.sing.syllables import syllabify

    text = "happy birthday dear Eleanor"
    syllables = syllabify(text.split())
    ends = {1, len(syllables) - 1}  # a breath after "happy" and at the end
    sung = [SungSyllable(s, (Note(k, 1.0, 60, 90),), k in ends) for k, s in enumerate(syllables)]
    line = SungLine(sung + sung, words_total=4, text=text)  # sung twice
    shapes = word_shapes(line)
    assert len(shapes) == len(sung_words(line)) == 8
    first, inside = "several syllables, first in its phrase", "several syllables, inside a phrase"
    assert shapes[:4] == [first, first, "one syllable, inside a phrase", inside]
    assert shapes[4] == first  # the repeat starts a phrase again

    words = sung_words(line)
    heard = align(words, "happy birthday dear eleanor happy birthday dear".split())  # the last eleanor lost
    piece = SungPiece("line", "male", 0, text, heard, heard, "", "", 0, 0, [], 0.0, word_shapes=shapes)
    rows = shape_rows([piece])
    assert "| several syllables, inside a phrase | 50.0% of 2 | — |" in rows
    assert "| one syllable, inside a phrase | 100.0% of 2 | — |" in rows
    assert "| several syllables, first in its phrase | 100.0% of 4 | — |" in rows


SEEDS_PER_LINE = 3  # one melody per seed: a line is judged on three tunes, not on one lucky or unlucky one


@pytest.fixture(scope="module")
def sung_lines(composer, catalog):
    from composer.sing.vocalist import get_vocalist
    from composer.understanding.understand import understand

    out = []
    for lyrics, voice, seed in LINES:
        takes = []
        for take in range(SEEDS_PER_LINE):
            request = understand("a song", {"voice": voice, "seed": seed + take, "length": 8, "lyrics": lyrics},
                                 catalog)
            (draft,) = composer.compose_scores([request])
            takes.append((sung_words(draft.sung), get_vocalist().sing(draft.sung, draft.score, voice).audio))
        out.append(takes)
    return out


@pytest.mark.slow
def test_three_short_sung_lines_are_understood(sung_lines):
    means = []
    for takes in sung_lines:
        shares, heard_texts = [], []
        for words, audio in takes:
            heard = recogniser().transcribe(audio, SAMPLE_RATE)
            shares.append(align(words, normalise(heard)).share)
            heard_texts.append(heard)
        assert np.mean(shares) >= 0.7, (shares, heard_texts)
        means.append(float(np.mean(shares)))
    assert np.mean(means) >= 0.75, means


@pytest.mark.slow
def test_the_spoken_ceiling_hears_the_words_once_in_plain_speech_and_with_vowels_held(composer):
    lyrics, _, seed = LINES[2]
    spoken, held = spoken_line(composer, lyrics, {"prompt": "a song", "options": {"lyrics": lyrics}}, seed)
    assert spoken.sung == normalise(lyrics)  # each word once, as the voice says it
    assert spoken.share >= 0.85, spoken.marked()
    assert held.sung == spoken.sung  # the same words, each once
    assert held.share >= 0.6, held.marked()
