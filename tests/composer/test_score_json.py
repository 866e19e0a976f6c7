"""Scores to compact versioned JSON and back: every field exactly, and one clear line for bad data."""

from __future__ import annotations

import json

import pytest

from composer.errors import MuseError, ScoreDataError
from composer.music.score import Note, Score, Track
from composer.formats.score_json import SCORE_JSON_VERSION, score_from_json, score_to_json


def _full_score() -> Score:
    """Every field away from its default, floats that only survive an exact round trip."""
    lead = Track("vocals", 53, 0, [Note(0.1 + 0.2, 1 / 3, 60, 100), Note(4, 0.5, 127, 1), Note(7.25, 2.0, 0, 64)],
                 bus="lead", instrument="voice oohs", volume=110, pan=30, reverb_send=55)
    drums = Track("drums", 25, 9, [Note(0.0, 0.25, 36, 90), Note(1e-7, 0.125, 42, 70)],
                  bus="drums", instrument="TR-808 kit", volume=115, pan=64, reverb_send=0)
    empty = Track("pad", 89, 3, [], bus="band", instrument="", volume=0, pan=127, reverb_send=127)
    return Score(tempo=97, numerator=7, denominator=8, key_name="F# minor", key_sharps=3, total_quarters=31.5,
                 tracks=[lead, drums, empty], title="Ünïcode «title» — 🎵",
                 lyrics=[(0.30000000000000004, "hap"), (4.0, "py"), (7.25, "naïve\nline")],
                 chords=[(0.0, "F#m"), (3.5, "C#7"), (7.0, "Dmaj7")],
                 sections=[(0.0, "intro"), (3.5, "verse"), (28.0, "ending")])


def test_every_field_round_trips_exactly() -> None:
    score = _full_score()
    back = score_from_json(score_to_json(score))
    assert back == score
    assert back.tracks[0].notes[0].start == 0.1 + 0.2 and back.tracks[0].notes[0].duration == 1 / 3
    assert [(t.bus, t.instrument, t.volume, t.pan, t.reverb_send) for t in back.tracks] == \
        [("lead", "voice oohs", 110, 30, 55), ("drums", "TR-808 kit", 115, 64, 0), ("band", "", 0, 127, 127)]
    assert all(isinstance(item, tuple) for item in back.lyrics + back.chords + back.sections)
    assert score_to_json(back) == score_to_json(score)  # stable bytes


def test_bytes_are_compact_versioned_json() -> None:
    data = score_to_json(_full_score())
    assert data.startswith(b'{"version":1,') and SCORE_JSON_VERSION == 1
    assert b", " not in data and b": " not in data and b"\n  " not in data
    raw = json.loads(data)
    assert raw["tracks"][0]["notes"][1] == [4, 0.5, 127, 1]  # [start, duration, pitch, velocity]
    assert score_from_json(data.decode("utf-8")) == _full_score()  # text as well as bytes


@pytest.mark.parametrize("voice", ["piano", "female", "drums"])
def test_composed_scores_round_trip(composer, make_request, voice) -> None:
    request = make_request("happy birthday dear Anna", voice=voice, length=10,
                           lyrics="happy birthday dear Anna" if voice == "female" else "")
    (piece,) = composer.compose_scores([request])
    assert piece.score.chords and piece.score.sections
    if voice == "female":
        assert piece.score.lyrics
    back = score_from_json(score_to_json(piece.score))
    assert back == piece.score


def _damaged(**changes) -> bytes:
    raw = json.loads(score_to_json(_full_score()))
    for path, value in changes.items():
        target = raw
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return json.dumps(raw).encode()


@pytest.mark.parametrize("data,says", [
    (b"\x89PNG\r\n\x1a\n not json", "not readable JSON"),
    (b"", "not readable JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"tempo": 120}', "format version None"),
    (_damaged(version=2), "format version 2; this Muse reads version 1"),
    (_damaged(version="1"), "format version '1'"),
    (_damaged(tempo=KeyError), "'tempo' is missing"),
    (_damaged(tempo=True), "'tempo' must be a whole number"),
    (_damaged(total_quarters="long"), "'total_quarters' must be a number"),
    (_damaged(tracks={"a": 1}), "'tracks' must be a list"),
    (_damaged(tracks__0__pan=KeyError), "'pan' is missing"),
    (_damaged(tracks__0__notes__0=[0, 1, 60]), "is not [start, duration, pitch, velocity]"),
    (_damaged(tracks__0__notes__0=[0, 1, 128, 90]), "out of MIDI range"),
    (_damaged(tracks__0__notes__0=[0, 1, 60.5, 90]), "pitch must be a whole number"),
    (_damaged(chords__0=["0", "C"]), "'chords' time must be a number"),
    (_damaged(lyrics__1=[1.0]), "an entry of 'lyrics' is not [quarter, text]"),
    (b'{"version":1,"tempo":NaN}', "'tempo' must be a whole number, got nan"),
    (_damaged(title=None), "'title' must be text"),
])
def test_unreadable_or_other_version_data_raises_one_clear_line(data: bytes, says: str) -> None:
    with pytest.raises(ScoreDataError) as caught:
        score_from_json(data)
    message = str(caught.value)
    assert isinstance(caught.value, MuseError)
    assert says in message and "\n" not in message and len(message) < 200
    assert message.startswith("stored score ")


def test_non_finite_values_are_refused_both_ways() -> None:
    score = _full_score()
    score.tracks[0].notes[0] = Note(float("nan"), 1.0, 60, 90)
    with pytest.raises(ScoreDataError, match="cannot be stored"):
        score_to_json(score)
    raw = score_to_json(_full_score()).replace(b'"total_quarters":31.5', b'"total_quarters":Infinity')
    with pytest.raises(ScoreDataError, match="'total_quarters' must be a number"):
        score_from_json(raw)
