"""Understanding speed: `muse parse --batch` throughput and single-prompt latency.

Run: `.venv/bin/python bench/bench_parse.py [--prompts 1000]`. Prompts are generated (distinct, so the
embedding cache never answers for free) from a small vocabulary of how people ask for music.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench.common import header, quick, table  # noqa: E402

_SUBJECTS = ["my grandma's birthday", "a rainy night in the city", "a battle between two kingdoms", "studying for exams",
             "a haunted lighthouse", "my baby going to sleep", "christmas eve with the family", "a morning walk in the woods",
             "a road trip with friends", "a smoky jazz bar", "an army parade", "floating past distant galaxies",
             "an old arcade game", "a summer beach party", "saying goodbye to an old friend", "our wedding anniversary",
             "a quest for lost treasure", "yoga after work", "a rock concert in a stadium", "a lazy sunday morning"]
_OPENERS = ["", "make me a song about ", "please compose something for ", "I need music for ", "a tune about ",
            "can you write a piece for ", "hey muse, "]
_EXTRAS = ["", ", in D minor", ", 90 bpm", ", sung by a woman", ", male vocals", ", on piano", ", about 45 seconds",
           ", as a waltz", ", very fast", ", in the key of F", ", with shredding guitars", ", 6/8 time", ", two minutes long",
           ", chiptune style", ", played on a koto", ", slow and soft"]


def prompts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < count:
        text = (rng.choice(_OPENERS) + rng.choice(_SUBJECTS) + rng.choice(_EXTRAS) + rng.choice(_EXTRAS)
                + f" #{len(out)}")  # the number keeps every prompt distinct
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def batch_in_process(texts: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) for run_batch over the prompts; CPU time shows what an unshared core would take."""
    from cli.parse_cmd import run_batch

    lines = io.StringIO("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    run_batch(lines, out)
    elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    assert out.getvalue().count("\n") == len(texts)
    return elapsed, cpu_s


def batch_cli(texts: list[str]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "parse", "--batch", f.name, "--json"], check=True,
                   capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def single_latencies_ms(texts: list[str]) -> tuple[list[float], list[float]]:
    from composer.catalog import default_catalog
    from composer.understanding.understand import understand

    catalog = default_catalog()
    understand("warm-up: happy birthday", {}, catalog)
    times, cpu_times = [], []
    for text in texts:
        started, cpu = time.perf_counter(), time.process_time()
        understand(text, {}, catalog)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
    return times, cpu_times


def startup_s(args: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli", *args], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=200 if quick() else 1000)
    args = parser.parse_args(argv or [])
    texts = prompts(args.prompts)
    chars = sum(len(t) for t in texts)
    header("Understanding (muse parse)")
    from composer.understanding import semantic

    started = time.perf_counter()
    semantic.get_semantics()
    load_s = time.perf_counter() - started
    batch_in_process(prompts(64, seed=99))  # warm: model loaded, theme embeddings cached
    warm_s, warm_cpu_s = batch_in_process(texts)
    cli_s = batch_cli(texts)
    latencies, cpu_latencies = single_latencies_ms(prompts(100, seed=7))
    p50, p95 = statistics.median(latencies), sorted(latencies)[int(len(latencies) * 0.95) - 1]
    load = os.getloadavg()[0]
    table(["measure", "value"], [
        [f"prompts / characters (mean {chars / len(texts):.0f} chars)", f"{len(texts)} / {chars}"],
        ["embedding model load (MiniLM on ONNX Runtime), s", round(load_s, 3)],
        ["batch, warm, in process: characters/s", round(chars / warm_s)],
        ["batch, warm, in process: prompts/s", round(len(texts) / warm_s, 1)],
        ["batch, warm, in process: characters per CPU-second", round(chars / warm_cpu_s)],
        ["`muse parse --batch` end to end (process start + load + parse), s", round(cli_s, 2)],
        ["`muse parse --batch` end to end: characters/s", round(chars / cli_s)],
        ["single prompt after warm-up, median ms", round(p50, 1)],
        ["single prompt after warm-up, p95 ms", round(p95, 1)],
        ["single prompt after warm-up, median CPU ms", round(statistics.median(cpu_latencies), 1)],
        ["`muse parse PROMPT` process, s (median of 3)", round(startup_s(["parse", "a sad song"]), 2)],
        ["`muse parse PROMPT --theme sad --key 'D minor'` (no model), s", round(
            startup_s(["parse", "a sad song", "--theme", "sad", "--key", "D minor"]), 2)],
        ["`muse --help` process, s", round(startup_s(["--help"]), 2)],
        ["1-minute load average during the run (2 cores)", round(load, 1)],
    ])


if __name__ == "__main__":
    main(sys.argv[1:])
