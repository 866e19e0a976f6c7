"""/theme create's settings become the one theme schema; a bad setting gets the schema's own message."""

from __future__ import annotations

import pytest

from composer.catalog.customise import customise_theme, theme_name
from composer.errors import SchemaError


def test_names_are_spelled_as_the_schema_wants():
    assert theme_name("Neon Rain") == "neon-rain" and theme_name("  lo  fi ") == "lo-fi"
    assert theme_name("<@123> hi") == "<@123> hi"  # left as typed, so validation refuses it


def test_settings_change_only_what_they_name(catalog):
    base = catalog.theme("retro").spec
    spec = customise_theme(base, "Neon Rain", {"tempo_min": 95, "tempo_max": 105, "mode": "minor",
                                               "progression": "i VI III VII", "groove": "shuffle",
                                               "examples": "neon rain; night drive", "style": "song"})
    assert spec["name"] == "neon-rain" and spec["tempo"] == {"min": 95, "max": 105, "default": 105}
    assert spec["modes"] == ["minor"] and all(k.endswith("minor") for k in spec.get("keys", []))
    assert spec["progressions"]["verse"] == spec["progressions"]["chorus"] == [
        {"chords": ["i", "VI", "III", "VII"], "weight": 1}]
    assert spec["feel"]["groove"] == "shuffle" and spec["feel"]["swing"] == 0.5
    assert spec["examples"] == ["neon rain", "night drive"] and spec["melody"]["style"] == "song"
    untouched = ("drums", "bass", "accompaniment", "instruments", "dynamics", "meters")
    assert {k: spec[k] for k in untouched} == {k: base[k] for k in untouched}


def test_sections_and_a_fixed_key(catalog):
    spec = customise_theme(catalog.theme("happy").spec, "mine",
                           {"progression": "verse: I V vi IV | bridge: vi IV I V", "key": "Bb major"})
    assert spec["progressions"]["bridge"] == [{"chords": ["vi", "IV", "I", "V"], "weight": 1}]
    assert spec["keys"] == ["Bb major"] and spec["modes"] == ["major"]


@pytest.mark.parametrize("settings,message", [
    ({"progression": "I IX V"}, "IX"), ({"tempo_min": 200, "tempo_max": 90}, "tempo"),
    ({"meters": "4/4 11/3"}, "meter"), ({"groove": "polka"}, "groove"), ({"colour": "red"}, "unknown setting"),
])
def test_bad_settings_name_the_field(catalog, settings, message):
    with pytest.raises(SchemaError, match=message):
        customise_theme(catalog.theme("happy").spec, "mine", settings)
