"""Theme and voice files: the shipped ones validate; broken ones get a message naming file and field."""

import json
import shutil
from pathlib import Path

import pytest

from composer.catalog import DATA_DIR, Catalog, load_theme_file, load_voice_file
from composer.errors import SchemaError
from composer.catalog.schema import validate_theme

FIXTURES = Path(__file__).parent.parent / "fixtures" / "themes"


def test_shipped_catalog_has_the_contract_voices_and_first_themes(catalog):
    assert set(catalog.voices) == {"female", "male", "metal", "ethnic", "synth", "piano", "drums"}
    assert {"birthday", "happy", "sad"} <= set(catalog.themes)
    assert catalog.voice("female").sings and catalog.voice("male").sings
    assert not catalog.voice("piano").sings


@pytest.mark.parametrize("path", sorted((DATA_DIR / "themes").glob("*.json")), ids=lambda p: p.stem)
def test_every_theme_file_validates(path):
    assert load_theme_file(path).name == path.stem


@pytest.mark.parametrize("path", sorted((DATA_DIR / "voices").glob("*.json")), ids=lambda p: p.stem)
def test_every_voice_file_validates(path):
    assert load_voice_file(path).name == path.stem


@pytest.mark.parametrize("fixture,message", [
    ("bad_tempo.json", r"bad_tempo.json: field 'tempo.max' must be a whole number from 30 to 300, got 999"),
    ("bad_roman.json", r"bad_roman.json: field 'progressions.verse\[0\].chords\[1\]' must be a roman numeral"),
    ("bad_drum.json", r"bad_drum.json: field 'drums.patterns.4/4.cowbel' is not a drum; allowed: kick, snare"),
    ("bad_field.json", r"bad_field.json: field 'colour' is not a known field; allowed: schema, name"),
    ("bad_missing.json", r"bad_missing.json: field 'progressions.chorus' is required"),
    ("bad_json.json", r"bad_json.json: not valid JSON \(line 3"),
    ("bad_meter.json", r"bad_meter.json: field 'meters\[0\]' must be a time signature"),
])
def test_broken_theme_files_name_file_field_and_allowed(fixture, message):
    with pytest.raises(SchemaError, match=message):
        load_theme_file(FIXTURES / fixture)


def test_name_must_match_file(tmp_path):
    spec = json.loads((DATA_DIR / "themes" / "happy.json").read_text())
    (tmp_path / "joyful.json").write_text(json.dumps(spec))
    with pytest.raises(SchemaError, match="field 'name' must match the file name"):
        load_theme_file(tmp_path / "joyful.json")


def test_broken_voice_file_is_reported(tmp_path):
    spec = json.loads((DATA_DIR / "voices" / "piano.json").read_text())
    spec["lead"]["register"] = [60, 65]
    (tmp_path / "piano.json").write_text(json.dumps(spec))
    with pytest.raises(SchemaError, match="piano.json: field 'lead.register' must span at least an octave"):
        load_voice_file(tmp_path / "piano.json")


def test_catalog_from_dir_fails_on_the_first_broken_file(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.copy(FIXTURES / "bad_tempo.json", tmp_path / "data" / "themes" / "bad_tempo.json")
    with pytest.raises(SchemaError, match="bad_tempo.json"):
        Catalog.from_dir(tmp_path / "data")


def test_custom_theme_joins_one_catalog_only(catalog):
    spec = json.loads((DATA_DIR / "themes" / "happy.json").read_text())
    spec["name"] = "my-sunny-day"
    extended = catalog.with_theme(spec)
    assert "my-sunny-day" in extended.themes and "my-sunny-day" not in catalog.themes
    assert not extended.theme("my-sunny-day").builtin


def test_theme_spec_round_trips_through_json(catalog):
    spec = catalog.theme("birthday").spec
    assert validate_theme(json.loads(json.dumps(spec))) == spec


def test_every_theme_names_its_melody_style_from_the_tokenizer(catalog):
    """The model's style token is theme data (melody.style), no longer a table in code."""
    from composer.model.tokenizer import STYLES

    styles = {name: theme.spec["melody"].get("style") for name, theme in catalog.themes.items()}
    assert all(style in STYLES for style in styles.values()), styles
    assert styles["epic"] == "chorale" and styles["jazz"] == "irish" and styles["birthday"] == "folk"


def test_unknown_melody_style_names_the_field_and_the_allowed_styles(catalog):
    spec = json.loads(json.dumps(catalog.theme("happy").spec))
    spec["melody"]["style"] = "polka"
    with pytest.raises(SchemaError) as error:
        catalog.with_theme(spec, source="my upload")
    assert str(error.value) == ("my upload: field 'melody.style' must be one of "
                                "folk, irish, scottish, chorale, song, early, classical, got 'polka'")


@pytest.mark.parametrize("style,token", [(None, "STYLE_folk"), ("chorale", "STYLE_chorale")])
def test_the_model_header_uses_the_themes_style_or_folk(catalog, style, token):
    import random

    from composer.melody.model import _layout, _spec
    from composer.model.tokenizer import Tokenizer
    from composer.plan import make_plan
    from composer.understanding.understand import understand

    spec = json.loads(json.dumps(catalog.theme("epic").spec))
    spec["name"] = "my-epic"
    spec["melody"].pop("style")
    if style:
        spec["melody"]["style"] = style
    extended = catalog.with_theme(spec)
    request = understand("battle", {"theme": "my-epic"}, extended)
    plan = make_plan(request, extended.theme("my-epic"), extended.voice(request.voice), random.Random(1))
    tok = Tokenizer()
    assert _spec(plan, _layout(plan, 1024), tok, 1).header[1] == tok.ids[token]


def test_a_set_of_custom_themes_can_leave_out_the_invalid_ones(catalog):
    good = json.loads(json.dumps(catalog.theme("happy").spec)) | {"name": "sunny-side"}
    bad = good | {"name": "broken", "tempo": "fast"}
    with pytest.raises(SchemaError, match="tempo"):
        catalog.with_themes([good, bad])
    rejected = []
    extended = catalog.with_themes([good, bad], on_invalid=lambda spec, exc: rejected.append(spec["name"]))
    assert "sunny-side" in extended.themes and "broken" not in extended.themes and rejected == ["broken"]
