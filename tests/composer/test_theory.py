import pytest

from composer.music.theory import Key, Meter, roman_to_chord


@pytest.mark.parametrize("text,name", [
    ("D minor", "D minor"), ("Bb major", "Bb major"), ("F#m", "F# minor"), ("f# minor", "F# minor"),
    ("C", "C major"), ("Eb", "Eb major"), ("A#", "Bb major"), ("Gb major", "Gb major"), ("g minor", "G minor"),
])
def test_key_parse_and_spelling(text, name):
    assert Key.parse(text).name == name


@pytest.mark.parametrize("text", ["H major", "", "C## minor", "do major"])
def test_bad_keys_are_rejected(text):
    with pytest.raises(ValueError):
        Key.parse(text)


@pytest.mark.parametrize("key,sharps", [("C major", 0), ("G major", 1), ("F major", -1), ("D minor", -1),
                                        ("E major", 4), ("Bb major", -2), ("F# minor", 3), ("Eb minor", -6)])
def test_key_signature_sharps(key, sharps):
    assert Key.parse(key).sharps == sharps


def test_meter_pulses():
    assert Meter.parse("6/8").pulses == 2 and Meter.parse("6/8").compound
    assert Meter.parse("3/4").pulses == 3 and Meter.parse("3/4").bar_quarters == 3
    assert Meter.parse("2/2").pulse_quarters == 2
    with pytest.raises(ValueError):
        Meter.parse("4/5")


def test_roman_numerals_in_major_and_minor():
    c = Key.parse("C major")
    assert roman_to_chord("I", c).pitch_classes == {0, 4, 7}
    assert roman_to_chord("vi", c).pitch_classes == {9, 0, 4}
    assert roman_to_chord("V7", c).pitch_classes == {7, 11, 2, 5}
    assert roman_to_chord("bVII", c).pitch_classes == {10, 2, 5}
    a = Key.parse("A minor")
    assert roman_to_chord("i", a).pitch_classes == {9, 0, 4}
    assert roman_to_chord("V", a).pitch_classes == {4, 8, 11}  # harmonic-minor dominant
    assert roman_to_chord("ii°", a).pitch_classes == {11, 2, 5}
    assert roman_to_chord("Imaj7", c).name(c) == "Cmaj7"


def test_leading_tone_diminished_in_minor():
    c_minor = Key.parse("C minor")
    assert roman_to_chord("vii°", c_minor).pitch_classes == {11, 2, 5}
    assert roman_to_chord("bII", c_minor).pitch_classes == {1, 5, 8}
