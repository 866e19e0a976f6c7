"""Words → syllables with stress from espeak-ng phonemes (the phonemes the voice will speak)."""

import pytest

from composer.sing.syllables import syllabify


@pytest.mark.parametrize("word,count,stressed", [
    ("happy", 2, 0), ("birthday", 2, 0), ("idea", 3, 1), ("astronaut", 3, 0), ("tomorrow", 3, 1),
    ("music", 2, 0), ("love", 1, 0), ("february", 4, 0), ("ninetieth", 3, 0),
])
def test_syllable_count_and_primary_stress(word, count, stressed):
    syllables = syllabify([word])
    assert len(syllables) == count
    assert [s.stress for s in syllables].index(2) == stressed or (count == 1 and syllables[0].stress >= 1)


def test_spelling_parts_rebuild_the_word_and_mark_word_edges():
    words = ["happy", "birthday", "to", "you", "chocolate", "rhythm"]
    syllables = syllabify(words)
    for index, word in enumerate(words):
        parts = [s for s in syllables if s.word_index == index]
        assert "".join(s.text for s in parts).replace("-", "") == word
        assert parts[0].word_start and parts[-1].word_end
        assert all(not s.word_end for s in parts[:-1])
    assert [s.text for s in syllables[:4]] == ["hap", "py", "birth", "day"]


def test_function_words_are_unstressed_and_each_syllable_has_one_vowel():
    syllables = syllabify(["the", "sun", "and", "the", "moon"])
    assert [s.stress > 0 for s in syllables] == [False, True, False, False, True]
    for s in syllables:
        start, end = s.nucleus
        assert 0 <= start < end <= len(s.phonemes)
