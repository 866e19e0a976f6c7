"""How a remix reads its changes: a new key is the key the member hears; tempo, pitch and key keep the notes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from composer.remix import keeps_notes, resolve_remix
from composer.errors import InvalidRequest
from composer.understanding.understand import understand


@pytest.fixture
def transposed(catalog):
    """A piece written in C major and played 3 semitones up: members hear (and the card shows) Eb major."""
    return understand("a happy tune", {"theme": "happy", "voice": "piano", "key": "C major", "pitch": 3,
                                       "seed": 4}, catalog)


def sounding(request) -> str:
    return request.key.transposed(request.pitch).name


def test_a_new_key_of_the_same_mode_is_the_sounding_key_and_keeps_the_notes(transposed, catalog):
    assert sounding(transposed) == "Eb major"
    remix = resolve_remix(transposed, {"key": "D major"}, catalog)
    assert keeps_notes(transposed, remix) and sounding(remix) == "D major"
    remix = resolve_remix(transposed, {"key": "D major", "pitch": 2}, catalog)  # then two semitones up from D
    assert sounding(remix) == "E major"


def test_pitch_alone_replaces_the_transposition_and_tempo_only_keeps_everything(transposed, catalog):
    assert sounding(resolve_remix(transposed, {"pitch": 0}, catalog)) == "C major"
    remix = resolve_remix(transposed, {"tempo": "90"}, catalog)
    assert keeps_notes(transposed, remix) and remix == replace(transposed, tempo=90)


def test_a_new_mode_recomposes_in_the_key_asked_for(transposed, catalog):
    remix = resolve_remix(transposed, {"key": "D minor"}, catalog)
    assert not keeps_notes(transposed, remix) and sounding(remix) == "D minor"
    assert remix.seed == transposed.seed


@pytest.mark.parametrize("changes,message", [({"tempo": "fast"}, "whole number"), ({"tempo": 900}, "tempo"),
                                             ({"pitch": 40}, "pitch"), ({"key": "H major"}, "key"),
                                             ({"voice": "kazoo"}, "voice"), ({}, "say what to change"),
                                             ({"tempo": None, "key": ""}, "say what to change")])
def test_bad_changes_say_what_is_allowed(transposed, catalog, changes, message):
    with pytest.raises(InvalidRequest, match=message):
        resolve_remix(transposed, changes, catalog)
