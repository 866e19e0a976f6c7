"""Arrangement and MIDI: tracks by role, drums on channel 10, tempo/meter/key stated, same seed same bytes."""

import io

import mido
import pretty_midi
import pytest

from evaluation.analysis import ends_on_tonic, load_midi, same_pitch_overlaps
from composer.arrange import arrange
from composer.formats.midi import midi_bytes
from composer.music.theory import Key


def _score(make_plan_for, rules_engine, prompt="happy birthday", **options):
    plan = make_plan_for(prompt, **options)
    (melody,) = rules_engine.write([plan], [plan.request.seed])
    return plan, arrange(plan, melody, plan.request.seed)


def test_roles_and_drum_channel(make_plan_for, rules_engine):
    _, score = _score(make_plan_for, rules_engine)
    names = [t.name for t in score.tracks]
    assert names[:3] == ["lead", "harmony", "bass"] and "drums" in names
    assert score.track("drums").channel == 9
    assert all(t.notes for t in score.tracks)


def test_singing_voice_track_is_named_vocals(make_plan_for, rules_engine):
    _, score = _score(make_plan_for, rules_engine, voice="male")
    assert score.track("vocals") is not None and score.track("lead") is None


@pytest.mark.parametrize("prompt,options", [
    ("happy birthday", {"key": "F major", "tempo": 120, "meter": "3/4"}),
    ("a sad song", {"key": "C# minor", "tempo": 64, "meter": "4/4"}),
    ("happy", {"key": "Bb major", "tempo": 132, "meter": "6/8"}),
])
def test_midi_states_tempo_meter_key_and_parses(make_plan_for, rules_engine, prompt, options):
    plan, score = _score(make_plan_for, rules_engine, prompt, **options)
    data = midi_bytes(score)
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    assert pm.get_tempo_changes()[1][0] == pytest.approx(options["tempo"], abs=0.01)
    ts = pm.time_signature_changes[0]
    assert f"{ts.numerator}/{ts.denominator}" == options["meter"]
    key = Key.parse(options["key"])
    assert pm.key_signature_changes[0].key_number == key.tonic + (12 if key.mode == "minor" else 0)
    assert any(i.is_drum for i in pm.instruments)
    mid = mido.MidiFile(file=io.BytesIO(data))
    names = [m.name for t in mid.tracks for m in t if m.type == "track_name"]
    assert "lead" in names
    info = load_midi(data)
    assert abs(info.length_s - plan.duration_s) < 0.01
    assert ends_on_tonic(info, key)
    for track in info.tracks:
        assert same_pitch_overlaps(track.notes) == 0, track.name


def test_same_request_and_seed_give_identical_bytes(make_plan_for, rules_engine):
    first = midi_bytes(_score(make_plan_for, rules_engine, seed=5)[1])
    again = midi_bytes(_score(make_plan_for, rules_engine, seed=5)[1])
    other = midi_bytes(_score(make_plan_for, rules_engine, seed=6)[1])
    assert first == again and first != other


def test_pitch_transposes_everything_but_drums(make_plan_for, rules_engine):
    _, plain = _score(make_plan_for, rules_engine, key="C major")
    _, up = _score(make_plan_for, rules_engine, key="C major", pitch=2)
    assert [n.pitch + 2 for n in plain.track("bass").notes] == [n.pitch for n in up.track("bass").notes]
    assert [n.pitch for n in plain.track("drums").notes] == [n.pitch for n in up.track("drums").notes]
    assert up.key_name == "D major"


def test_drums_voice_is_drum_led(make_plan_for, rules_engine):
    _, score = _score(make_plan_for, rules_engine, voice="drums")
    drums = len(score.track("drums").notes)
    total = sum(len(t.notes) for t in score.tracks)
    assert drums / total >= 0.5


@pytest.mark.parametrize("prompt", ["happy birthday 🎂🎉", "joyeux anniversaire à Chloé", "生日快乐 happy", "مرحبا happy"])
def test_titles_in_any_script_never_break_the_midi(make_plan_for, rules_engine, prompt):
    _, score = _score(make_plan_for, rules_engine, prompt, theme="happy")
    mid = mido.MidiFile(file=io.BytesIO(midi_bytes(score)))
    title = next(m.name for m in mid.tracks[0] if m.type == "track_name")
    assert title and "🎂" not in title
    if "Chloé" in prompt:
        assert "Chloé" in title
