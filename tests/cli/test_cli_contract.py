"""The `muse` command line as ARCHITECTURE.md specifies it, run as a real process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MUSE = [sys.executable, "-m", "cli"]
ROOT = Path(__file__).resolve().parents[2]


def muse(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*MUSE, *args], capture_output=True, text=True, cwd=cwd, input=stdin,
                          env=env, timeout=120)


def test_compose_json_manifest(tmp_path):
    out = tmp_path / "out"
    proc = muse("compose", "happy birthday", "--voice", "male", "--seed", "1234", "--length", "12",
                "--json", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)  # exactly one JSON object on stdout
    request = manifest["request"]
    assert request["prompt"] == "happy birthday" and request["theme"] == "birthday"
    assert request["voice"] == "male" and request["seed"] == 1234 and request["lyrics"] == "happy birthday"
    assert request["meter"] == "3/4" and request["length_s"] == 12
    for kind in ("midi", "audio", "image", "text"):
        assert Path(manifest["files"][kind]).is_file()
    assert manifest["files"]["audio"].endswith(".mp3")
    assert manifest["engine"]["name"] == "model"  # the trained checkpoint is the default
    assert manifest["engine"]["checkpoint"].endswith("checkpoints/melody")
    assert manifest["description"].startswith("A cheerful")
    assert manifest["timings_s"]["total"] > 0


def test_compose_is_deterministic_across_processes(tmp_path):
    runs = []
    for name in ("a", "b"):
        proc = muse("compose", "a sad song", "--seed", "77", "--length", "8", "--format", "midi",
                    "--json", "-o", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        runs.append(Path(json.loads(proc.stdout)["files"]["midi"]).read_bytes())
    assert runs[0] == runs[1]


def test_variations_manifest(tmp_path):
    proc = muse("compose", "happy", "--variations", "2", "--seed", "5", "--length", "6", "--format", "midi",
                "--json", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)
    assert [v["request"]["seed"] for v in manifest["variations"]] == [5, 6]


def test_parse_prints_the_resolved_request():
    proc = muse("parse", "a sad piano piece in D minor at 70 bpm", "--json")
    assert proc.returncode == 0, proc.stderr
    request = json.loads(proc.stdout)["request"]
    assert (request["theme"], request["voice"], request["key"], request["tempo"]) == ("sad", "piano", "D minor", 70)


def test_parse_batch_keeps_order_and_reports_errors_per_line(tmp_path):
    lines = [
        {"prompt": "happy birthday", "options": {"voice": "male"}},
        {"prompt": "", "options": {}},
        {"prompt": "sad song", "options": {"tempo": 5000}},
        "not json",
        {"prompt": "a waltz", "options": {"meter": "3/4"}},
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n")
    proc = muse("parse", "--batch", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 5
    assert rows[0]["request"]["voice"] == "male"
    assert "prompt is empty" in rows[1]["error"]
    assert "tempo must be between 30 and 300" in rows[2]["error"]
    assert "not a JSON object" in rows[3]["error"]
    assert rows[4]["request"]["meter"] == "3/4"


@pytest.mark.parametrize("kind,names", [
    ("themes", {"birthday", "happy", "sad"}),
    ("voices", {"female", "male", "metal", "ethnic", "synth", "piano", "drums"}),
])
def test_catalog_listings(kind, names):
    proc = muse(kind, "--json")
    assert proc.returncode == 0, proc.stderr
    assert names <= {row["name"] for row in json.loads(proc.stdout)[kind]}


@pytest.mark.parametrize("args,message", [
    (["compose", "happy", "--voice", "tuba"], "unknown voice 'tuba'; voices: drums, ethnic"),
    (["compose", "happy", "--tempo", "0"], "tempo must be between 30 and 300"),
    (["compose", "happy", "--tempo", "5000"], "tempo must be between 30 and 300"),
    (["compose", "   "], "prompt is empty"),
    (["compose", "happy", "--theme", "polka"], "unknown theme 'polka'"),
    (["compose", "happy", "--key", "H major"], "key must be a note name and mode"),
    (["compose", "happy", "--length", "1"], "length must be between 5 and 300"),
    (["compose", "happy", "--format", "flac"], "format must be one of"),
    (["compose", "x" * 4001], "at most 4000"),
    (["compose"], "the following arguments are required: prompt"),
    (["dance"], "invalid choice: 'dance'"),
    (["parse"], "a PROMPT is required"),
])
def test_bad_input_exits_2_with_one_error_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    proc = muse(*args, "-o", str(out)) if args[0] == "compose" and len(args) > 1 else muse(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists()


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    proc = muse("compose", "happy", "-o", str(target))
    assert proc.returncode == 2 and "not a directory" in proc.stderr
    assert target.read_text() == "keep me"
