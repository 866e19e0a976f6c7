"""Theme files: every built-in survives write → read unchanged, and each kind of bad upload gets one clear line."""

import json

import pytest

from composer import MAX_THEME_FILE_BYTES, SchemaError, read_theme_file, write_theme_file
from composer.catalog import DATA_DIR

BUILTIN = sorted(p.stem for p in (DATA_DIR / "themes").glob("*.json"))


@pytest.mark.parametrize("fmt", ["json", "toml"])
@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_theme_round_trips(catalog, name, fmt):
    spec = catalog.theme(name).spec
    data = write_theme_file(spec, fmt)
    assert read_theme_file(data, f"{name}.{fmt}") == spec
    assert write_theme_file(read_theme_file(data, f"{name}.{fmt}"), fmt) == data


def test_exports_carry_the_schema_version_first_and_json_is_pretty(catalog):
    unversioned = {k: v for k, v in catalog.theme("jazz").spec.items() if k != "schema"}
    for spec in (unversioned, {**unversioned, "schema": 1}):  # no version, or the version last in the dict
        text = write_theme_file(spec, "json").decode()
        assert text.startswith('{\n  "schema": 1,\n  "name": "jazz"') and text.endswith("}\n")
        assert write_theme_file(spec, "toml").decode().startswith('schema = 1\nname = "jazz"\n')
    with pytest.raises(SchemaError, match="field 'schema' must be 1"):
        write_theme_file({**unversioned, "schema": 2})


def test_a_hand_written_toml_theme_reads_with_instrument_names(catalog):
    spec = json.loads(json.dumps(catalog.theme("chill").spec))
    spec["name"] = "my-chill"
    text = write_theme_file(spec, "toml").decode()
    text = text.replace(f"harmony = {spec['instruments']['harmony']}", 'harmony = "Electric Piano 1"')
    read = read_theme_file(("# my theme\n" + text).encode(), "my-chill.toml")
    assert read["instruments"]["harmony"] == 4 and read["name"] == "my-chill"


def _error(data: bytes, filename: str) -> str:
    with pytest.raises(SchemaError) as caught:
        read_theme_file(data, filename)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(filename.rsplit("/", 1)[-1].replace("\n", "?") + ": ")
    return message


@pytest.mark.parametrize("data,filename,says", [
    (b"{}", "theme.yaml", "must end in .json or .toml, got .yaml"),
    (b"{}", "theme", "must end in .json or .toml, got no suffix"),
    (b" " * (MAX_THEME_FILE_BYTES + 1), "big.json", "may be at most 64 KiB"),
    (b'{"name": "caf\xe9"}', "latin.json", "not UTF-8 text (byte 14)"),
    (b'{\n  "name": "x",\n  "tempo": }', "broken.json", "not valid JSON (line 3, column 12)"),
    (b'name = "x"\ntempo = [1,\n', "broken.toml", "not valid TOML: "),
    (b"name = 'x'\nname = 'y'\n", "twice.toml", "(at line 2, column"),
    (b"[1, 2]", "list.json", "must hold one JSON object with the theme's fields, got a list"),
    (b"null", "null.json", "got null"),
    (b"[" * 50_000, "deep.json", "nested too deeply"),
    (b'{"schema": 1' + b"1" * 6000 + b"}", "digits.json", "Exceeds the limit (4300 digits)"),
    (b"{}", "empty.json", "field 'schema' is required"),
    (b'{"schema": 2}', "future.json", "field 'schema' must be 1 (the schema version this Muse reads), got 2"),
    (b'schema = 1\nname = "Bad Name"\n', "dir/bad.toml", "bad.toml: field 'name' must be lower-case letters"),
    (b"[]", "two\nlines.json", "two?lines.json: the file must hold one JSON object"),
])
def test_bad_files_get_one_line_that_says_what_is_wrong(data, filename, says):
    assert says in _error(data, filename)


def test_the_size_cap_counts_bytes_not_characters(catalog):
    spec = json.loads(json.dumps(catalog.theme("happy").spec))
    data = write_theme_file(spec, "json")
    padded = data[:-2] + b" " * (MAX_THEME_FILE_BYTES - len(data)) + data[-2:]
    assert len(padded) == MAX_THEME_FILE_BYTES and read_theme_file(padded, "happy.json") == spec
    assert "at most 64 KiB" in _error(padded + b" ", "happy.json")


def test_a_utf8_bom_is_fine(catalog):
    spec = catalog.theme("sad").spec
    assert read_theme_file(b"\xef\xbb\xbf" + write_theme_file(spec), "sad.json") == spec


def test_writing_checks_the_spec_and_the_format(catalog):
    with pytest.raises(SchemaError, match="written as json or toml, not 'yaml'"):
        write_theme_file(catalog.theme("sad").spec, "yaml")
    broken = {**catalog.theme("sad").spec, "tempo": {"min": 90, "max": 60, "default": 70}}
    with pytest.raises(SchemaError, match="needs min <= default <= max"):
        write_theme_file(broken)
