"""`muse data` and `muse train` end to end on tiny corpora (real processes), killed and resumed."""

import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.composer.model.abc_text import abc_file
from training.corpus import CORPUS_VERSION, Work

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
TRAIN_ARGS = ["train", "--checkpoint-every", "0", "--steps", "400", "--width", "32", "--layers", "1", "--heads", "2",
              "--batch-size", "2", "--eval-every", "50", "--no-progress", "--context", "256"]


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MUSE_DATA_DIR": str(data_dir)}


def muse(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=_env(data_dir),
                          timeout=300, cwd=ROOT)


def kill_when(args: list[str], data_dir: Path, ready, timeout_s: float = 120.0) -> int:
    """Start `muse *args`, SIGKILL it (its whole process group) as soon as `ready()` holds; returns how
    many times `ready` was polled. Fails if the command ends on its own first."""
    log = (data_dir / "killed.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "cli", *args], stdout=log, stderr=subprocess.STDOUT,
                            env=_env(data_dir), cwd=ROOT, start_new_session=True)
    deadline, polls = time.monotonic() + timeout_s, 0
    try:
        while not ready():
            polls += 1
            if proc.poll() is not None:
                pytest.fail(f"`muse {args[0]}` ended (rc {proc.returncode}) before it could be killed:\n"
                            + (data_dir / "killed.log").read_text()[-2000:])
            if time.monotonic() > deadline:
                pytest.fail(f"`muse {args[0]}` never got there:\n" + (data_dir / "killed.log").read_text()[-2000:])
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == -signal.SIGKILL
    return polls


# ---- muse data ---------------------------------------------------------------------------------------------

FILES, TUNES = 30, 25


def _tiny_source(folder: Path) -> Path:
    """essenFolksong/ with FILES small ABC files of TUNES tunes each, laid out like music21's corpus."""
    rng = random.Random(0)
    collection = folder / "essenFolksong"
    collection.mkdir(parents=True)
    for i in range(FILES):
        (collection / f"f{i:02d}.abc").write_text(abc_file(rng, TUNES))
    return folder


def _outputs(data_dir: Path) -> dict[str, object]:
    corpus = data_dir / "corpus" / f"v{CORPUS_VERSION}"
    tokens = data_dir / "tokens"
    return {"melodies": json.loads(gzip.decompress((corpus / "melodies.json.gz").read_bytes())),
            "stats": json.loads((tokens / "stats.json").read_text()),
            **{f"{s}.npy": (tokens / f"{s}.npy").read_bytes() for s in ("train", "val", "test")}}


def test_data_killed_mid_parse_resumes_to_the_same_corpus(tmp_path):
    source = _tiny_source(tmp_path / "source")
    killed = tmp_path / "killed"
    killed.mkdir()
    shards = killed / "corpus" / f"v{CORPUS_VERSION}" / "shards" / "essenFolksong"
    args = ["data", "--source", str(source), "--workers", "1"]
    kill_when(args, killed, lambda: any(shards.glob("*.json.gz")))

    done = sorted(shards.glob("*.json.gz"))
    assert 1 <= len(done) < FILES, "the run was killed too late to test a resume"
    for shard in done:  # every visible shard is whole; a torn write can only be a .part file
        records = json.loads(gzip.decompress(shard.read_bytes()))
        assert len(records) == TUNES and all(r["id"].startswith(f"essenFolksong/{shard.name[:-8]}#") for r in records)
    assert {p.name for p in shards.iterdir()} - {p.name for p in done} <= {
        p.name for p in shards.glob("*.part")}
    assert not (killed / "corpus" / f"v{CORPUS_VERSION}" / "melodies.json.gz").exists()

    resumed = muse(*args, data_dir=killed)
    assert resumed.returncode == 0, resumed.stderr
    parsed = json.loads(resumed.stdout.splitlines()[0])["parsed"]
    assert parsed == {"files": FILES, "cached_files": len(done), "parsed_files": FILES - len(done)}

    whole = tmp_path / "whole"
    whole.mkdir()
    straight = muse(*args, data_dir=whole)
    assert straight.returncode == 0, straight.stderr
    assert json.loads(straight.stdout.splitlines()[0])["parsed"]["parsed_files"] == FILES
    ours, theirs = _outputs(killed), _outputs(whole)
    assert len(ours["melodies"]["works"]) > 0.9 * FILES * TUNES
    assert ours["stats"]["train_tokens"] > 0 and ours["stats"]["val_tokens"] > 0
    assert ours == theirs
    assert len(list(shards.glob("*.json.gz"))) == FILES


# ---- muse train --------------------------------------------------------------------------------------------

def _tiny_tokens(data_dir: Path, works: int = 40) -> None:
    """$MUSE_DATA_DIR/tokens from a compact corpus of random 4/4 tunes (three in four for training)."""
    from composer.model.tokenizer import Tokenizer
    from training.corpus import write_compact
    from training.dataset import build

    rng = random.Random(1)
    rows = []
    for i in range(works):
        notes = [(float(q), 1.0, rng.randrange(60, 77)) for q in range(32)]
        rows.append(Work(f"essenFolksong/tiny.abc#{i}", "essenFolksong", "folk", "val" if i % 4 == 0 else "train",
                         "4/4", 4.0, 0, "major", notes))
    write_compact(data_dir / "corpus", rows)
    counts = build(data_dir / "corpus", data_dir / "tokens", Tokenizer(), 256)
    assert counts["train_pieces"] == 30 and counts["val_pieces"] == 10


def _logged_steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]


def test_train_killed_mid_run_resumes_from_its_checkpoint(tmp_path):
    _tiny_tokens(tmp_path)
    run = tmp_path / "runs" / "main"

    def progressing() -> bool:
        return (run / "last.pt").exists() and (run / "log.jsonl").exists() and bool(_logged_steps(run))

    kill_when(["-v", *TRAIN_ARGS], tmp_path, progressing)
    assert (run / "last.pt").exists()
    first = _logged_steps(run)
    assert first and first[-1] < 400, "the run was killed too late to test a resume"

    proc = muse("-v", *TRAIN_ARGS, data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    resumed_at = [int(n) for n in re.findall(r"resumed at step (\d+)", proc.stderr)]
    # Killed just after logging step 50 and before that step's checkpoint, it resumes at 49 and logs 50 again.
    assert len(resumed_at) == 1 and first[-1] - 1 <= resumed_at[0] < 400, proc.stderr[-2000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["step"] == 400
    assert _logged_steps(run) == list(range(50, 401, 50))  # each validation once, none lost, none repeated
    assert result["last"]["step"] == 400
    assert (run / "best" / "model.safetensors").exists()


def test_data_then_train_then_resume_a_longer_schedule(tmp_path):
    shard = tmp_path / "corpus" / f"v{CORPUS_VERSION}" / "shards" / "essenFolksong" / "tiny.abc.json.gz"
    shard.parent.mkdir(parents=True)
    rng = random.Random(2)
    records = []
    for i in range(30):
        notes = [(float(q), 1.0, rng.randrange(60, 77)) for q in range(16)]
        records.append(asdict(Work(f"essenFolksong/tiny.abc#{i}", "essenFolksong", "folk", "", "4/4", 4.0, 0,
                                   "major", notes)))
    shard.write_bytes(gzip.compress(json.dumps(records).encode()))
    proc = muse("data", "--tokenize-only", data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "parsed" not in lines[0] and lines[0]["corpus"]["collections"]["essenFolksong"]["in_corpus"] == 30
    counts = lines[-1]["tokens"]
    assert sum(counts[f"{s}_pieces"] for s in ("train", "val", "test")) == 30 and counts["train_pieces"] > 20
    assert (tmp_path / "tokens" / "corpus_report.json").exists()
    args = ["train", "--steps", "4", "--eval-every", "2", "--width", "32", "--layers", "1", "--heads", "2",
            "--batch-size", "2", "--no-progress", "--export", str(tmp_path / "export")]
    proc = muse(*args, data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["step"] == 4
    assert (tmp_path / "runs" / "main" / "last.pt").exists()
    assert (tmp_path / "export" / "model.safetensors").exists()
    with (tmp_path / "runs" / "main" / "log.jsonl").open("a") as log:  # as a run killed after logging step 6
        log.write(json.dumps({"step": 6, "val_loss": 9.9}) + "\n")  # and before checkpointing it leaves it
    proc = muse(*args[:2], "6", *args[3:], data_dir=tmp_path)  # a longer schedule resumes at step 4
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["step"] == 6
    log = [json.loads(line) for line in (tmp_path / "runs" / "main" / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [2, 4, 6] and log[-1]["val_loss"] != 9.9
