"""`muse theme validate` and `--theme-file`: a member's theme file on the command line."""

import json
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from cli import main
from composer import write_theme_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def theme_file(tmp_path, catalog):
    """A custom waltz in TOML, naming its instruments, built on the jazz theme."""
    spec = json.loads(json.dumps(catalog.theme("jazz").spec))
    spec.update(name="my-waltz", meters=["3/4"], tempo={"min": 80, "max": 100, "default": 90})
    spec["instruments"] = {"harmony": 0, "bass": 32, "keep": ["harmony", "bass"]}
    text = write_theme_file(spec, "toml").decode().replace("harmony = 0", 'harmony = "Vibraphone"')
    path = tmp_path / "my-waltz.toml"
    path.write_text(text)
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_says_ok_with_the_name_and_schema(capsys, theme_file):
    assert run(capsys, "theme", "validate", str(theme_file)) == (0, "ok: my-waltz (schema 1)\n", "")


def test_validate_json_prints_the_normalised_spec(capsys, theme_file):
    code, out, _ = run(capsys, "theme", "validate", str(theme_file), "--json")
    spec = json.loads(out)
    assert code == 0 and spec["name"] == "my-waltz" and spec["instruments"]["harmony"] == 11  # vibraphone


@pytest.mark.parametrize("content,name,message", [
    ('{"schema": 1,\n "name": }', "bad.json", "error: bad.json: not valid JSON (line 2, column 10): Expecting value"),
    ("schema = 1\n", "short.toml", "error: short.toml: field 'name' is required"),
    ("{}", "theme.txt", "error: theme.txt: a theme file must end in .json or .toml, got .txt"),
])
def test_validate_a_bad_file_exits_2_with_one_error_line(capsys, tmp_path, content, name, message):
    (tmp_path / name).write_text(content)
    code, out, err = run(capsys, "theme", "validate", str(tmp_path / name))
    assert (code, out, err) == (2, "", message + "\n")


def test_validate_a_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "theme", "validate", str(tmp_path / "nope.json"))
    assert code == 2 and err == f"error: theme file {tmp_path / 'nope.json'} does not exist\n"


def test_parse_with_a_theme_file_uses_it_like_a_builtin(capsys, theme_file):
    code, out, _ = run(capsys, "parse", "for my grandmother", "--theme-file", str(theme_file))
    request = json.loads(out)["request"]
    assert code == 0 and request["theme"] == "my-waltz" and request["meter"] == "3/4" and request["tempo"] == 90


@pytest.mark.parametrize("extra,message", [
    (["--theme", "sad"], "error: --theme sad and --theme-file (theme 'my-waltz') disagree; give one of them"),
])
def test_theme_and_theme_file_must_agree(capsys, theme_file, extra, message):
    code, _, err = run(capsys, "parse", "x", "--theme-file", str(theme_file), *extra)
    assert (code, err) == (2, message + "\n")
    assert run(capsys, "parse", "x", "--theme-file", str(theme_file), "--theme", "my-waltz")[0] == 0


def test_a_theme_file_may_not_take_a_builtin_name(capsys, tmp_path, catalog):
    (tmp_path / "jazz.json").write_bytes(write_theme_file(catalog.theme("jazz").spec))
    code, _, err = run(capsys, "compose", "x", "--theme-file", str(tmp_path / "jazz.json"), "-o", str(tmp_path / "o"))
    assert code == 2
    assert err == "error: the theme file's name 'jazz' is a built-in theme's; give the theme another name\n"
    assert not (tmp_path / "o").exists()


def test_compose_with_a_bad_theme_file_writes_nothing(capsys, tmp_path):
    (tmp_path / "t.json").write_text('{"schema": 1, "name": "x1", "tempo": 5}')
    code, out, err = run(capsys, "compose", "x", "--theme-file", str(tmp_path / "t.json"), "-o", str(tmp_path / "o"))
    assert code == 2 and out == "" and err.startswith("error: t.json: field ") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_compose_with_a_theme_file_as_a_real_process(tmp_path, theme_file):
    proc = subprocess.run([sys.executable, "-m", "cli", "compose", "a slow dance", "--theme-file", str(theme_file),
                           "--engine", "rules", "--format", "midi", "--length", "10", "--seed", "3", "--json",
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)
    assert manifest["request"]["theme"] == "my-waltz" and manifest["request"]["meter"] == "3/4"
    song = mido.MidiFile(manifest["files"]["midi"])
    programs = {m.channel: m.program for t in song.tracks for m in t if m.type == "program_change"}
    assert programs[1] == 11 and programs[2] == 32  # harmony is the vibraphone the file names
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (3, 4) for m in song.tracks[0])
