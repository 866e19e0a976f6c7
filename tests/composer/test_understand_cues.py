"""Explicit parameters written in English: each reader against the ways people write them."""

import pytest

from composer.understanding import cues
from composer.understanding.voice_cues import read_voices
from composer.music.theory import Key


@pytest.mark.parametrize("text, bpm", [
    ("120 bpm", 120), ("at 96bpm", 96), ("♩=96", 96), ("quarter note = 60", 60), ("♩ = 72", 72), ("q=100", 100), ("tempo 180", 180),
    ("tempo: 140 please", 140), ("at 70 beats per minute", 70), ("largo", 50), ("an adagio", 68),
    ("andante", 88), ("allegro", 132), ("presto", 176), ("prestissimo", 200), ("a slow song", 70),
    ("very slow", 52), ("very fast happy polka", 172), ("fast", 144), ("mid-tempo groove", 104),
])
def test_tempo(text, bpm):
    assert cues.read_tempos(text)[0].value == bpm


@pytest.mark.parametrize("text", ["meet at 5 pm", "my grandma turns 90", "a quick jingle", "a 30 second intro",
                                  "at 12 o'clock", "happy birthday"])
def test_no_tempo(text):
    assert cues.read_tempos(text) == []


def test_a_number_beats_a_tempo_word():
    found = cues.read_tempos("slow but at 180 bpm")
    assert found[0].value == 180 and found[0].exact and not found[1].exact


@pytest.mark.parametrize("text, key", [
    ("in D minor", "D minor"), ("B flat major", "Bb major"), ("F#m", "F# minor"), ("in the key of F", "F major"),
    ("something in F sharp minor, 6/8 time", "F# minor"), ("in E-flat", "Eb major"), ("Bbm ballad", "Bb minor"),
    ("IN D MINOR", "D minor"), ("make it in G for my mom", "G major"), ("c major", "C major"),
    ("in a minor", "A minor"), ("a waltz in G major", "G major"), ("key: Ab", "Ab major"), ("C♯ minor", "C# minor"),
])
def test_key(text, key):
    assert cues.read_keys(text)[0].value == Key.parse(key)


@pytest.mark.parametrize("text", ["Am I dreaming", "in a minor key", "a drum solo", "in a minute", "8pm", "am",
                                  "a B side", "in a garden", "plan B", "a minor detail"])
def test_no_key(text):
    assert cues.read_keys(text) == []


def test_mode_without_tonic():
    assert cues.read_mode("something in a minor key").value == "minor"


@pytest.mark.parametrize("text, meter", [
    ("3/4", "3/4"), ("6/8 time", "6/8"), ("a waltz", "3/4"), ("a jig", "6/8"), ("a slip jig", "9/8"),
    ("march time", "2/4"), ("cut time", "2/2"), ("a polka", "2/4"), ("in 7/8", "7/8"), ("twelve-eight", "12/8"),
])
def test_meter(text, meter):
    assert cues.read_meters(text)[0].value == meter


@pytest.mark.parametrize("text", ["24/7 radio", "50/50", "1/2 cup", "a march"])
def test_no_meter(text):
    assert cues.read_meters(text) == []


@pytest.mark.parametrize("text, seconds", [
    ("30 seconds", 30), ("two minutes", 120), ("half a minute", 30), ("1:30", 90), ("short", 20),
    ("a 30 second intro jingle", 30), ("a 30s jingle", 30), ("twenty-five seconds", 25),
    ("a minute and a half", 90), ("1m30s", 90), ("2.5 minutes", 150), ("a 90-second clip", 90),
    ("one minute of upbeat synth pop", 60), ("2 min 30 sec", 150), ("ten minutes", 600), ("45 sec", 45),
])
def test_length(text, seconds):
    assert cues.read_lengths(text)[0].value == seconds


@pytest.mark.parametrize("text", ["80s synth pop", "1980s disco", "the '90s", "at 10:30 pm", "a 5th birthday"])
def test_no_length(text):
    assert cues.read_lengths(text) == []


@pytest.mark.parametrize("text, semitones", [
    ("transpose up 2 semitones", 2), ("down a whole step", -2), ("an octave higher", 12),
    ("pitch -3 semitones", -3), ("shift it down 5 semitones", -5), ("raise it by one semitone", 1),
])
def test_pitch(text, semitones):
    assert cues.read_pitch(text).value == semitones


@pytest.mark.parametrize("text, count", [("three variations", 3), ("give me 2 versions", 2), ("4 different takes", 4)])
def test_variations(text, count):
    assert cues.read_variations(text).value == count


# Written for the singer rule in composer/understanding/voice_cues.py, not taken from any example file:
# other verbs than "sung", other words for the singer, describing words between.
@pytest.mark.parametrize("text, voice", [
    ("a lullaby sang by a lady", "female"), ("a folk tune voiced by my grandma", "female"),
    ("vocals by a young woman over soft guitar", "female"), ("a lass who sings the blues", "female"),
    ("an anthem belted out by a fierce, proud queen", "female"), ("a waltz in a princess's voice", "female"),
    ("a sea shanty voiced by a guy", "male"), ("a campfire song sang by an old man", "male"),
    ("a lullaby crooned by grandpa", "male"), ("vocals by my dad", "male"),
    ("an aria sung by a tall, dark gentleman", "male"), ("a fella singing in the rain", "male"),
    ("a ballad sung by an old bloke", "male"), ("the lads' vocals on a drinking song", "male"),
])
def test_a_named_singer_however_phrased(catalog, text, voice):
    found = read_voices(text, catalog.voices.values())
    assert found and found[0].voice == voice and found[0].strength == 3, found


@pytest.mark.parametrize("text, voice", [
    ("sang by a lady for my son", "female"),  # the son is who it is for, not who sings
    ("voiced by my aunt, about her brother", "female"),
    ("a piano piece by a woman composer", "piano"),  # written by, not sung by
    ("a song for my son on the piano", "piano"),
])
def test_who_sings_is_not_who_it_is_for(catalog, text, voice):
    found = read_voices(text, catalog.voices.values())
    assert found and found[0].voice == voice and {c.voice for c in found if c.strength == 3} <= {voice}, found
