"""`/theme from-midi`: a MIDI file becomes a theme; Muse's own pieces come back as what was asked
for, bad files are refused in one line, the theme composes, and real pieces are read right."""

from __future__ import annotations

import io

import mido
import pytest

from composer import understand
from composer.catalog.from_midi import theme_from_midi
from composer.catalog.schema import validate_theme
from composer.errors import InvalidRequest
from evaluation import from_midi as evaluation
from evaluation.analysis import load_midi


@pytest.fixture(scope="module")
def jig(composer, catalog):
    request = understand("a jig in D major", {"engine": "rules", "seed": 3, "length": 12, "format": "midi"}, catalog)
    (piece,) = composer.compose(request)
    return request, piece.artifacts["midi"]


def _midi(*tracks: list[mido.Message]) -> bytes:
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.extend(mido.MidiTrack(events) for events in tracks)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def test_a_composed_jig_comes_back_as_the_theme_it_was_asked_for(jig, catalog):
    request, data = jig
    spec = theme_from_midi(data, "My Jig")
    assert spec == validate_theme(spec)
    assert spec["name"] == "my-jig"
    assert spec["meters"] == [str(request.meter)] == ["6/8"]
    assert spec["keys"] == [request.key.name] == ["D major"] and spec["modes"] == ["major"]
    assert spec["tempo"]["default"] == request.tempo
    assert spec["tempo"]["min"] < request.tempo < spec["tempo"]["max"]
    played = {t.name: t.program for t in load_midi(data).tracks}  # the programs the piece was arranged with
    assert {role: spec["instruments"][role] for role in ("harmony", "bass", "pad")} == \
        {role: played[role] for role in ("harmony", "bass", "pad")}
    assert spec["default_voice"] == request.voice  # its lead instrument is that voice's
    assert spec["drums"]["kit"] == played["drums"] and spec["drums"]["patterns"]["6/8"]["kick"].startswith("x")
    assert spec["melody"]["style"] in ("irish", "folk") and 0.1 <= spec["melody"]["density"] <= 2.0
    assert all(len(p["chords"]) >= 2 for section in spec["progressions"].values() for p in section)
    assert "6/8 in D major" in spec["description"]


def test_the_inferred_theme_composes(jig, composer, catalog):
    spec = theme_from_midi(jig[1], "from-my-jig")
    request = understand("a tune", {"theme": "from-my-jig", "engine": "rules", "length": 6, "seed": 5},
                         catalog.with_themes([spec]))
    (piece,) = composer.compose(request)
    info = load_midi(piece.artifacts["midi"])
    assert (request.theme, str(request.meter), request.key.name) == ("from-my-jig", "6/8", "D major")
    assert info.meter == (6, 8) and info.key_signature == "D" and info.melody and info.melody.notes
    assert 5 <= info.length_s <= 9


def test_a_base_theme_fills_in_what_the_file_cannot_tell(jig, catalog):
    base = catalog.theme("sad").spec
    spec = theme_from_midi(jig[1], "jig-on-sad", base=base)
    assert spec["feel"]["humanize"] == base["feel"]["humanize"]
    assert spec["melody"]["temperature"] == base["melody"]["temperature"]
    assert spec["keys"] == ["D major"]  # what the file tells wins


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


NO_NOTES = _midi([mido.MetaMessage("set_tempo", tempo=500000), mido.MetaMessage("track_name", name="empty")])


@pytest.mark.parametrize("make,expect", [
    (lambda jig: b"these are words, not music\n", "that file is not a MIDI file"),
    (lambda jig: b"", "that file is not a MIDI file"),
    (_truncated, "the MIDI file is damaged: it ends too soon"),
    (lambda jig: jig[:14] + b"MTrk\x00\x00\x00\x04\x00\x90\xff\x40", "the MIDI file is damaged: data byte must be"),
    (lambda jig: NO_NOTES, "the MIDI file has no notes"),
    (lambda jig: b"MThd" + bytes(3 * 1024 * 1024), "the MIDI file is too big (3.0 MiB); it may be at most 2 MiB"),
], ids=["text", "zero-bytes", "truncated", "bad-data-byte", "empty-midi", "3-MiB"])
def test_bad_files_are_refused_in_one_clear_line(jig, make, expect):
    with pytest.raises(InvalidRequest) as refused:
        theme_from_midi(make(jig[1]), "mine")
    message = str(refused.value)
    assert message.startswith(expect) and "\n" not in message and len(message) <= 200


def test_a_file_without_a_time_signature_gets_a_meter_from_its_notes():
    waltz = []  # bass on the downbeat, two chords after it: ONE two three
    for bar in range(16):
        for beat, pitches in enumerate(([43], [59, 62], [59, 62])):
            waltz += [mido.Message("note_on", note=p, velocity=100 if beat == 0 else 60) for p in pitches]
            waltz += [mido.Message("note_off", note=p, time=480 if i == 0 else 0) for i, p in enumerate(pitches)]
    spec = theme_from_midi(_midi(waltz), "waltz")
    assert spec["meters"] == ["3/4"] and spec["keys"] == ["G major"]


def test_fifty_piece_evaluation_subset_reads_meter_and_key():
    """An even spread of 10 of the 50 corpus pieces (`python -m evaluation.from_midi` runs all)."""
    summary = evaluation.summary(evaluation.evaluate(evaluation.subset(10)))
    assert summary["meter"][0] / summary["meter"][1] >= 0.9
    assert summary["key"][0] / summary["key"][1] >= 0.9
    assert summary["tempo"][0] == summary["tempo"][1]  # every stated tempo


@pytest.mark.slow
def test_fifty_piece_evaluation_meets_its_targets():
    rows = evaluation.evaluate(evaluation.SOURCES)
    summary = evaluation.summary(rows)
    assert summary["pieces"] == 50
    assert summary["meter"][0] >= 45 and summary["key"][0] >= 45, evaluation.markdown({"as exported": rows})
    assert summary["tempo"][0] == summary["tempo"][1] == 3
