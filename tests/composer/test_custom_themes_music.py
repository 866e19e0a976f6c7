"""A custom theme audibly changes the music: ten themes, each the built-in `happy` with ONE field
changed, are asked for in plain words; the MIDI shows that field every time and the base does not.

Composed through `understand` + `Composer.compose` with the rules engine, and with the trained
model for the fields the model must not lose (tempo, mode, progression, instrument).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import mido
import pytest

from composer.music.theory import Key, parse_chord_name, roman_to_chord
from composer.understanding.understand import understand

BASE = "happy"  # 4/4, major, straight 8th hats, root-fifth bass, steel guitar and finger bass, 124 BPM
NEW_PROGRESSION = ["I", "bVI", "bVII", "I"]
CHANGES = {  # name (no word in it that asks for a tempo, mode or meter itself) → (field, its new value)
    "amber": ("tempo", {"min": 40, "max": 60, "default": 52}),
    "basalt": ("modes", ["minor"]),
    "cobalt": ("progressions", {"verse": [{"chords": NEW_PROGRESSION}], "chorus": [{"chords": NEW_PROGRESSION}]}),
    "dune": ("instruments", {"harmony": "vibraphone", "bass": 33, "pad": 4}),
    "ember": ("instruments", {"harmony": 25, "bass": "Fretless Bass", "pad": 4}),
    "fjord": ("feel", {"groove": "swing", "swing": 0.33, "humanize": 0.4}),
    "garnet": ("meters", ["3/4"]),
    "heron": ("drums", {"patterns": {"4/4": {"kick": "x.......x.......", "cowbell": "x.x.x.x.x.x.x.x."}},
                                "fills": False, "level": 0.9}),
    "indigo": ("bass", {"style": "pedal", "octave": 2}),
    "jasper": ("melody", {"density": 0.3, "range": [62, 81], "leap": 0.35, "temperature": 1.0, "style": "folk"}),
}
MODEL_TOO = ("amber", "basalt", "cobalt", "dune")
HAT, COWBELL = 42, 56


@dataclass
class Heard:
    """What a MIDI file says, in beats: tempo, meter, key, programs and notes per channel, chords."""

    tempo: float = 0.0
    meter: tuple[int, int] = (0, 0)
    key: str = ""
    programs: dict[int, int] = field(default_factory=dict)
    notes: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # channel → (start beat, pitch)
    chords: list[str] = field(default_factory=list)


def hear(midi: bytes) -> Heard:
    song, heard = mido.MidiFile(file=io.BytesIO(midi)), Heard()
    for track in song.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                heard.tempo = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature":
                heard.meter = (msg.numerator, msg.denominator)
            elif msg.type == "key_signature":
                heard.key = msg.key
            elif msg.type == "program_change":
                heard.programs[msg.channel] = msg.program
            elif msg.type == "note_on" and msg.velocity:
                heard.notes.setdefault(msg.channel, []).append((tick / song.ticks_per_beat, msg.note))
            elif msg.type == "text" and msg.text.startswith("chord:"):
                heard.chords.append(msg.text[len("chord:"):])
    return heard


def _lead(h: Heard) -> list:
    return h.notes[0]


def _offbeat_hats(h: Heard) -> set[float]:
    return {round(start % 1.0, 2) for start, pitch in h.notes[9] if pitch == HAT and start % 1.0 > 0.01}


def _chords_fit(h: Heard, key: Key) -> bool:
    allowed = {frozenset(roman_to_chord(n, key).pitch_classes) for n in [*NEW_PROGRESSION, "V7"]}
    heard = {parse_chord_name(c) for c in h.chords}
    wanted = {frozenset(roman_to_chord(n, key).pitch_classes) for n in NEW_PROGRESSION}
    return heard <= allowed and wanted <= heard


# name → does this MIDI (and its request) show the changed field? `base`: what the base theme gave
SHOWS = {
    "amber": lambda h, r, base: 40 <= h.tempo <= 60 and r.tempo == 52,
    "basalt": lambda h, r, base: h.key.endswith("m") and r.key.mode == "minor",
    "cobalt": lambda h, r, base: _chords_fit(h, r.key),
    "dune": lambda h, r, base: h.programs[1] == 11,  # harmony channel plays the vibraphone
    "ember": lambda h, r, base: h.programs[2] == 35,  # bass channel plays the fretless bass
    "fjord": lambda h, r, base: _offbeat_hats(h) and all(abs(f - 0.665) < 0.02 for f in _offbeat_hats(h)),
    "garnet": lambda h, r, base: h.meter == (3, 4),
    "heron": lambda h, r, base: sum(p == COWBELL for _, p in h.notes[9]) >= 16
    and not any(p == HAT for _, p in h.notes[9]),
    "indigo": lambda h, r, base: {p % 12 for _, p in h.notes[2]} == {r.key.tonic},
    "jasper": lambda h, r, base: len(_lead(h)) < 0.8 * len(_lead(base)),
}


@pytest.fixture(scope="module")
def custom(catalog):
    specs = []
    for name, (field_name, value) in CHANGES.items():
        spec = json.loads(json.dumps(catalog.theme(BASE).spec))
        spec.update(name=name, **{field_name: value})
        specs.append(spec)
    return catalog.with_themes(specs)


def compose(composer, catalog, words: str, engine: str, **theme):
    options = {"engine": engine, "format": "midi", "length": 20, "seed": 5, **theme}
    (piece,) = composer.compose(understand(words, options, catalog))
    return hear(piece.artifacts["midi"]), piece.request


@pytest.fixture(scope="module")
def base_pieces(composer, custom):
    """The base theme's piece per engine, composed once when first asked for."""
    heard: dict[str, tuple] = {}

    def get(engine: str):
        if engine not in heard:
            heard[engine] = compose(composer, custom, "a tune", engine, theme=BASE)
        return heard[engine]
    return get


def test_ten_themes_each_change_one_field(catalog, custom):
    base = catalog.theme(BASE).spec
    for name in CHANGES:
        spec = custom.theme(name).spec
        assert [k for k in base if k != "name" and base[k] != spec[k]] == [CHANGES[name][0]], name


CASES = [*((name, "rules") for name in CHANGES),
         *(pytest.param(name, "model", marks=pytest.mark.slow) for name in MODEL_TOO)]


@pytest.mark.parametrize("name,engine", CASES)
def test_the_changed_field_is_heard_and_the_base_does_not_have_it(composer, custom, base_pieces, name, engine):
    heard, request = compose(composer, custom, f"a tune in my {name} theme", engine)
    assert request.theme == name and request.theme_spec["name"] == name
    base_heard, base_request = base_pieces(engine)
    assert SHOWS[name](heard, request, base_heard), (name, heard.tempo, heard.meter, heard.key, heard.programs,
                                                     heard.chords)
    assert not SHOWS[name](base_heard, base_request, base_heard), f"the base theme already shows what {name} changes"
