"""Measure an earlier commit beside this checkout, for a change's before/after figures.

    python tools/measure_before.py quality --rev 9c33565 --data data/tokens
        today's `evaluation` run inside a checkout of REV (its composer, its checkpoint) on the same
        held-out tunes and requests; writes docs/melody_eval_before.md
    python tools/measure_before.py cost --rev 9c33565
        warm 30 s compose (piano, male, female) and cold `muse compose` with bench.bench_pipeline's
        own functions, in REV's checkout and then in this one; rewrites the cost table in
        docs/benchmarks.md

REV is checked out with `git worktree` into a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import machine  # noqa: E402  (run as a script from the repository root)
COST_START = "### What the whole-corpus model costs"
COST_END = "## Singing benchmarks"
PIECES = [("piano", "happy birthday", "piano", 5), ("male", "happy birthday", "male", 6),
          ("female", "twinkle little star so bright", "female", 6)]
TIMING = """
import json, sys
from bench.bench_pipeline import cold_start_s, warm_stages
out = {name: warm_stages(prompt, {"voice": voice, "length": 30, "engine": "model"}, runs=runs)
       for name, prompt, voice, runs in json.loads(sys.argv[1])}
out["cold_s"] = cold_start_s()
print(json.dumps(out))
"""


@contextmanager
def checkout(rev: str):
    folder = Path(tempfile.mkdtemp(prefix="muse-before-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(folder), rev], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], check=True)


def _run(tree: Path, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "MUSE_DATA_DIR": tempfile.mkdtemp(prefix="muse-data-")}
    return subprocess.run([sys.executable, *args], cwd=tree, env=env, check=True, capture_output=True,
                          text=True).stdout


def quality(rev: str, data: Path, pieces: int) -> None:
    with checkout(rev) as tree:
        for name in ("evaluation/realism.py", "evaluation/model.py", "evaluation/model_card.py",
                     "evaluation/ngram.py", "training/corpus.py"):  # today's yardstick, REV's music
            shutil.copy(ROOT / name, tree / name)
        out = _run(tree, ["-m", "evaluation.model", "--engines", "model,rules", "--skip-nll", "--pieces",
                          str(pieces), "--data", str(data.resolve())])
    tables = "\n".join(line for line in out.splitlines() if not line.startswith("{"))
    (ROOT / "docs" / "melody_eval_before.md").write_text(
        f"# Melody model before the whole-corpus model (commit {rev})\n\n"
        f"Written by `python tools/measure_before.py quality --rev {rev}`: today's `python -m evaluation.model "
        f"--engines model,rules --skip-nll --pieces {pieces}` run inside a checkout of {rev} (its composer, "
        f"sampler and checkpoint) on today's held-out tunes. {machine()}, {date.today().isoformat()}.\n\n"
        + tables + "\n")


def cost(rev: str) -> None:
    spec = json.dumps(PIECES)
    with checkout(rev) as tree:
        before = json.loads(_run(tree, ["-c", TIMING, spec]).splitlines()[-1])
    after = json.loads(_run(ROOT, ["-c", TIMING, spec]).splitlines()[-1])
    rows = [f"| | before ({rev}) | after (this checkout) |", "|---|---:|---:|"]
    for name, prompt, _, runs in PIECES:
        for stage in ("compose", "total"):
            rows.append(f"| warm 30 s {name} ({prompt}, median of {runs}): {stage} s | "
                        f"{before[name][stage]:.3f} | {after[name][stage]:.3f} |")
    rows.append(f"| cold `muse compose` (process start to files, median of 3), s | {before['cold_s']:.2f} | "
                f"{after['cold_s']:.2f} |")
    section = "\n".join([
        f"{COST_START} (`python tools/measure_before.py cost --rev {rev}`)", "",
        f"`bench.bench_pipeline`'s warm_stages and cold_start_s in a checkout of {rev}, then in this one, one "
        f"after the other on the same machine ({machine()}, {date.today().isoformat()}).", "", *rows, "", ""])
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    start, end = text.index(COST_START), text.index(COST_END)
    path.write_text(text[:start] + section + text[end:])
    print(section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/measure_before.py")
    parser.add_argument("what", choices=("quality", "cost"))
    parser.add_argument("--rev", required=True)
    parser.add_argument("--data", type=Path, default=Path("data/tokens"), help="token arrays from `muse data`")
    parser.add_argument("--pieces", type=int, default=200)
    args = parser.parse_args(argv)
    quality(args.rev, args.data, args.pieces) if args.what == "quality" else cost(args.rev)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
