"""Measure an earlier commit beside this checkout, for a change's before/after figures.

    python tools/measure_before.py quality --rev 9c33565 --data data/tokens
        today's `evaluation` run inside a checkout of REV (its composer, its checkpoint) on the same
        held-out tunes and requests; writes docs/melody_eval_before.md
    python tools/measure_before.py cost --rev 9c33565 [--title "What the whole-corpus model costs"]
        warm 30 s compose (piano, male, female) and cold `muse compose`, timed the same way in REV's
        checkout and then in this one; writes the table as the section TITLE of docs/benchmarks.md
        (replaced when it is there, else placed before the singing-quality sections)

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
COST_TITLE = "What the whole-corpus model costs"
TAIL_END = "## Singing quality"
PIECES = [("piano", "happy birthday", "piano", 5), ("male", "happy birthday", "male", 6),
          ("female", "twinkle little star so bright", "female", 6)]
# the same code in both checkouts: Composer.compose's own timings (compose, total) and a cold CLI run
TIMING = """
import json, statistics, subprocess, sys, tempfile, time
from composer.pipeline import Composer
from composer.understanding.understand import understand
composer = Composer()
out = {}
for name, prompt, voice, runs in json.loads(sys.argv[1]):
    samples = {}
    for seed in range(runs + 1):
        started = time.perf_counter()
        request = understand(prompt, {"voice": voice, "length": 30, "engine": "model", "seed": seed}, composer.catalog)
        (piece,) = composer.compose(request, understand_s=time.perf_counter() - started)
        if seed:  # seed 0 warms up
            for stage in ("compose", "total"):
                samples.setdefault(stage, []).append(piece.timings_s[stage])
    out[name] = {stage: statistics.median(v) for stage, v in samples.items()}
cold = []
for seed in range(3):
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli", "compose", "happy birthday", "--seed", str(seed), "-o", tmp],
                       check=True, capture_output=True)
        cold.append(time.perf_counter() - started)
out["cold_s"] = statistics.median(cold)
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


def cost(rev: str, title: str) -> None:
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
    heading = f"### {title}"
    section = "\n".join([
        f"{heading} (`python tools/measure_before.py cost --rev {rev}`)", "",
        f"The same timing code in a checkout of {rev}, then in this one, one after the other on the same "
        f"machine ({machine()}, {date.today().isoformat()}).", "", *rows, "", ""])
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    if heading in text:
        start = text.index(heading)
        ends = [i for i in (text.find("\n### ", start + 1), text.find("\n## ", start + 1)) if i >= 0]
        end = min(ends) + 1 if ends else len(text)
    else:
        start = end = text.index(TAIL_END)
    path.write_text(text[:start] + section + text[end:])
    print(section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/measure_before.py")
    parser.add_argument("what", choices=("quality", "cost"))
    parser.add_argument("--rev", required=True)
    parser.add_argument("--data", type=Path, default=Path("data/tokens"), help="token arrays from `muse data`")
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--title", default=COST_TITLE, help="the cost section's heading in docs/benchmarks.md")
    args = parser.parse_args(argv)
    quality(args.rev, args.data, args.pieces) if args.what == "quality" else cost(args.rev, args.title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
