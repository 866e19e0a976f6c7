"""`muse packs check DIR`: every pack with its themes and voices and every problem; exit 0 when all
is good, 2 when anything is rejected (in-process, through the `muse` entry point)."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

from tests.composer.test_packs import mixed_packs  # noqa: F401  (the fixture)

REPO = Path(__file__).resolve().parents[2]


def _muse(*argv: str, capsys) -> tuple[int, str, str]:
    (script,) = entry_points(group="console_scripts", name="muse")
    code = script.load()(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_pack_checks_clean(capsys):
    code, out, err = _muse("packs", "check", str(REPO / "packs"), capsys=capsys)
    assert code == 0 and err == ""
    assert "pack example 1.0.0 by Muse contributors (licence GPL-3.0-or-later) in packs/example" in out
    assert "  theme lofi-tape: " in out
    assert "  voice music-box: " in out and "bank 0 preset 10: Music Box]" in out
    assert out.rstrip().endswith("1 pack: 1 theme and 1 voice served, 0 problems")


def test_one_pack_folder_checks_too_and_json_says_ok(capsys):
    code, out, _ = _muse("packs", "check", str(REPO / "packs" / "example"), "--json", capsys=capsys)
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["problems"] == []
    (pack,) = report["packs"]
    assert pack["name"] == "example" and pack["themes"] == ["lofi-tape"]
    assert pack["voices"][0]["soundfont"]["preset_name"] == "Music Box"


def test_rejected_files_are_listed_and_exit_2(mixed_packs, capsys):  # noqa: F811
    code, out, err = _muse("packs", "check", str(mixed_packs), capsys=capsys)
    assert code == 2
    assert "  theme neon-night: " in out and "  voice square: " in out
    rejected = [line.strip() for line in out.splitlines() if line.strip().startswith("rejected: ")]
    assert len(rejected) == 8
    assert "rejected: packs/neon/voices/fake.json: field 'soundfont.file' names notes.sf2, which is not a " \
           "SoundFont (no RIFF 'sfbk' header)" in rejected
    assert "rejected: packs/stray/pack.json: missing; a pack folder needs a pack.json with name, version, " \
           "author and licence; none of the pack's files are served" in rejected
    assert "1 pack: 1 theme and 1 voice served, 8 problems" in out
    assert err.splitlines()[-1] == f"error: 8 problems in {mixed_packs}; fix them before deploying"
    code, out, _ = _muse("packs", "check", str(mixed_packs), "--json", capsys=capsys)
    assert code == 2 and json.loads(out)["ok"] is False and len(json.loads(out)["problems"]) == 8


def test_a_missing_folder_or_an_empty_one_is_an_error(tmp_path, capsys):
    code, out, err = _muse("packs", "check", str(tmp_path / "nowhere"), capsys=capsys)
    assert code == 2 and out == ""
    assert err.strip() == f"error: {tmp_path / 'nowhere'} is not a folder; give a pack (holding pack.json) " \
                          f"or a folder of packs"
    code, out, err = _muse("packs", "check", str(tmp_path), capsys=capsys)
    assert code == 2 and "no pack found" in out
    code, _, err = _muse("packs", capsys=capsys)
    assert code == 2 and err.startswith("error: ")
