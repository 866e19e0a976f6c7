"""The outside judges of the singing: the word alignment, and the recogniser itself on three short
sung lines (the small CI version of `python -m evaluation.singing`), including proof that it can
say no."""

import numpy as np
import pytest

from composer.audio.render import SAMPLE_RATE
from evaluation.judges import align, normalise, recogniser
from evaluation.singing import sung_words

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


@pytest.fixture(scope="module")
def sung_lines(composer, catalog):
    from composer.sing.vocalist import get_vocalist
    from composer.understanding.understand import understand

    out = []
    for lyrics, voice, seed in LINES:
        request = understand("a song", {"voice": voice, "seed": seed, "length": 8, "lyrics": lyrics}, catalog)
        (draft,) = composer.compose_scores([request])
        out.append((sung_words(draft.sung), get_vocalist().sing(draft.sung, draft.score, voice).audio))
    return out


@pytest.mark.slow
def test_three_short_sung_lines_are_understood(sung_lines):
    shares = []
    for words, audio in sung_lines:
        heard = recogniser().transcribe(audio, SAMPLE_RATE)
        alignment = align(words, normalise(heard))
        assert alignment.share >= 0.7, (alignment.marked(), heard)
        shares.append(alignment.share)
    assert np.mean(shares) >= 0.8, shares


@pytest.mark.slow
def test_the_recogniser_can_say_no(sung_lines):
    """The same vocals played backwards keep the voice, the notes and the rhythm but not the words."""
    for words, audio in sung_lines:
        heard = recogniser().transcribe(audio[::-1].copy(), SAMPLE_RATE)
        assert align(words, normalise(heard)).share <= 0.3, heard
