"""Lyrics text → singable words: numbers spelled out, accents folded, other scripts and symbols
skipped with a note, nothing ever raises."""

import pytest

from composer.errors import InvalidRequest
from composer.request import LYRICS_MAX_CHARS
from composer.sing.lyrics import FALLBACK_WORDS, MAX_WORDS, spell_number, words_from_text


def test_prompt_words_pass_through_lower_case():
    lyrics = words_from_text("Happy Birthday, dear Anna!")
    assert lyrics.words == ["happy", "birthday", "dear", "anna"]
    assert lyrics.notes == []


@pytest.mark.parametrize("token,words", [
    ("90th", ["ninetieth"]),
    ("1st", ["first"]),
    ("1999", ["nineteen", "ninety", "nine"]),
    ("21", ["twenty", "one"]),
    ("3.5", ["three", "point", "five"]),
    ("1,000", ["one", "thousand"]),
    ("12345678901234567890", ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero",
                              "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"]),
])
def test_numbers_and_dates_are_spelled_out(token, words):
    assert spell_number(token) == words


def test_numbers_only_lyrics_are_sung_as_words_with_a_note():
    lyrics = words_from_text("1 2 3 2024")
    assert lyrics.words == ["one", "two", "three", "twenty", "twenty", "four"]
    assert any("numbers" in note for note in lyrics.notes)


@pytest.mark.parametrize("text", ["🎉🎂🥳", "", "   ", "!!! ??? ...", "♪ ♫ ♬"])
def test_nothing_singable_falls_back_to_la_with_a_note(text):
    lyrics = words_from_text(text)
    assert tuple(lyrics.words) == FALLBACK_WORDS
    assert lyrics.fallback
    assert any("la la la" in note for note in lyrics.notes)


def test_non_english_words_fold_accents_and_skip_other_scripts():
    lyrics = words_from_text("Straße déjà vu naïve 你好 Привет café")
    assert lyrics.words == ["strasse", "deja", "vu", "naive", "cafe"]
    assert any("你好" in note and "Привет" in note for note in lyrics.notes)


def test_five_thousand_characters_are_capped_not_crashed():
    text = ("la di da " * 700)[:5000]
    lyrics = words_from_text(text)
    assert len(lyrics.words) == MAX_WORDS
    assert any("only the first" in note for note in lyrics.notes)


def test_five_thousand_character_lyrics_option_is_a_clear_error(make_request):
    with pytest.raises(InvalidRequest, match="lyrics is too long.*at most"):
        make_request("happy birthday", voice="male", lyrics="a" * 5000)
    assert LYRICS_MAX_CHARS < 5000
