"""`muse data` and `muse train` end to end on a tiny cached corpus (real processes)."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from training.corpus import Work

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def muse(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MUSE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_data_then_train_then_resume(tmp_path):
    shard = tmp_path / "corpus" / "essenFolksong" / "tiny.jsonl"
    shard.parent.mkdir(parents=True)
    with shard.open("w") as sink:
        for i in range(30):
            notes = [(float(q), 1.0, 60 + (q * (i + 1)) % 12) for q in range(16)]
            work = Work(f"essenFolksong/tiny#{i}", "essenFolksong", "folk", ["train", "val", "test"][i % 3],
                        "4/4", 4.0, 0, "major", notes)
            sink.write(json.dumps(asdict(work)) + "\n")
    proc = muse("data", "--tokenize-only", data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout.splitlines()[-1])["tokens"]
    assert counts["train_pieces"] == 10 and counts["val_pieces"] == 10
    args = ["train", "--steps", "4", "--eval-every", "2", "--width", "32", "--layers", "1", "--heads", "2",
            "--batch-size", "2", "--no-progress", "--export", str(tmp_path / "export")]
    proc = muse(*args, data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["step"] == 4
    assert (tmp_path / "runs" / "main" / "last.pt").exists()
    assert (tmp_path / "export" / "model.safetensors").exists()
    proc = muse(*args[:2], "6", *args[3:], data_dir=tmp_path)  # a longer schedule resumes at step 4
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["step"] == 6
    assert len((tmp_path / "runs" / "main" / "log.jsonl").read_text().splitlines()) == 3
