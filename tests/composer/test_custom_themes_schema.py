"""Schema messages a member can act on, and General MIDI instruments by name."""

import json

import pytest

from composer import SchemaError, gm_instrument_names
from composer.catalog.gm_instruments import close_names, gm_program
from composer.catalog.schema import validate_theme


@pytest.fixture
def spec(catalog):
    return json.loads(json.dumps(catalog.theme("jazz").spec))


def _message(spec) -> str:
    with pytest.raises(SchemaError) as caught:
        validate_theme(spec, source="my.json")
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_the_128_general_midi_names():
    names = gm_instrument_names()
    assert len(names) == 128 == len(set(names))
    assert names[0] == "acoustic grand piano" and names[4] == "electric piano 1" and names[40] == "violin"
    assert names[73] == "flute" and names[89] == "pad 2 (warm)" and names[127] == "gunshot"


@pytest.mark.parametrize("name,program", [
    ("electric piano 1", 4), ("Electric Piano 1", 4), ("ELECTRIC-PIANO-1", 4), ("electric piano", 4),
    ("acoustic guitar (nylon)", 24), ("acoustic guitar nylon", 24), ("warm pad", 89), ("pad 2 (warm)", 89),
    ("square lead", 80), ("string ensemble", 48), ("honky tonk piano", 3), ("gunshot", 127),
])
def test_gm_names_are_matched_without_case_or_punctuation(name, program):
    assert gm_program(name) == program


def test_instrument_names_become_numbers_in_the_validated_spec(spec):
    spec["instruments"].update({"harmony": "Electric Piano 1", "bass": "fretless bass", "pad": "warm pad"})
    out = validate_theme(spec)
    assert (out["instruments"]["harmony"], out["instruments"]["bass"], out["instruments"]["pad"]) == (4, 35, 89)
    assert validate_theme(out) == out


def test_an_unknown_instrument_name_suggests_up_to_three_close_ones(spec):
    spec["instruments"]["harmony"] = "electric pinao 1"
    message = _message(spec)
    assert message.startswith("my.json: field 'instruments.harmony' must be a General MIDI instrument name or "
                              "program number 0-127, got 'electric pinao 1'; did you mean ")
    suggested = message.split("did you mean ", 1)[1].rstrip("?").split(", ")
    assert suggested[0] == "electric piano 1" and len(suggested) <= 3
    assert close_names("zzzz") == []
    spec["instruments"]["harmony"] = "zzzz"
    assert "e.g. 'electric piano 1'" in _message(spec)


@pytest.mark.parametrize("value", [128, -1, True, 4.5, None])
def test_instrument_numbers_stay_0_to_127(spec, value):
    spec["instruments"]["bass"] = value
    assert "field 'instruments.bass' must be a General MIDI instrument name or program number 0-127" in _message(spec)


def test_a_bad_numeral_says_exactly_what_is_accepted(spec):
    spec["progressions"]["verse"][0]["chords"][2] = "IX"
    assert _message(spec) == (
        "my.json: field 'progressions.verse[0].chords[2]' must be a roman numeral chord, got 'IX': use I–VII "
        "(upper case major, lower case minor), optionally b or # before it, then a quality °, o, dim, + or aug, "
        "then 7, maj7, 6, 9, sus2 or sus4 (e.g. I, vi, V7, bVII, ii°, IVmaj7)")


@pytest.mark.parametrize("numeral", ["I", "vi", "V7", "bVII", "ii°", "iio", "viidim", "III+", "IVmaj7", "#ivdim7",
                                     "Isus4", "V9", "vi6", "Vaug"])
def test_every_numeral_form_the_help_names_is_accepted(spec, numeral):
    spec["progressions"]["verse"][0]["chords"][2] = numeral
    assert validate_theme(spec)["progressions"]["verse"][0]["chords"][2] == numeral


@pytest.mark.parametrize("mutate,says", [
    (lambda s: s.__setitem__("meters", ["5/8"]),
     "field 'meters[0]' must be a time signature Muse plays (2/4, 3/4, 4/4, 5/4, 6/8, 9/8, 12/8, 2/2, 3/8, 7/8), "
     "got '5/8'"),
    (lambda s: s["drums"]["patterns"].__setitem__("11/8", {"kick": "x"}),
     "field 'drums.patterns.11/8' is not a meter Muse plays"),
    (lambda s: s.__setitem__("examples", ["x"] * 41),
     "field 'examples' must be a list of 1 to 40 items, got a list of 41"),
    (lambda s: s.__setitem__("examples", "swing"), "field 'examples' must be a list of 1 to 40 items, got 'swing'"),
    (lambda s: s.__setitem__("tempo", [1, 2]), "field 'tempo' must be an object (a table in TOML), got a list of 2"),
    (lambda s: s.__setitem__("description", "x" * 301), "at most 300 characters, got 301 characters"),
    (lambda s: s.__setitem__("mood", "\ud83d"), "field 'mood' must be valid Unicode text"),
    (lambda s: s["tempo"].__setitem__("default", 90), "needs min <= default <= max, got min 100, default 90, max 180"),
    (lambda s: s["drums"]["patterns"]["4/4"].__setitem__("kick", "x" * 97), "1 to 96 sixteenths"),
    (lambda s: s.__setitem__("bad\nkey" * 50, 1), "is not a known field"),
])
def test_schema_messages_say_what_was_given_and_what_is_allowed(spec, mutate, says):
    mutate(spec)
    assert says in _message(spec)


def test_a_spec_that_is_not_an_object():
    message = r"^upload: the spec must be an object \(a table in TOML\), got a list of 1 item$"
    with pytest.raises(SchemaError, match=message):
        validate_theme([1], source="upload")
