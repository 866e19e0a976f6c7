"""Per-stage medians for a 30-second piece in a warm process, and process start to files."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import header, table

RUNS = 5


def warm_stages(prompt: str, options: dict, runs: int = RUNS) -> dict[str, float]:
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = Composer()
    composer.compose(understand(prompt, {**options, "seed": 0}, composer.catalog))
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, runs + 1):
            started = time.perf_counter()
            request = understand(prompt, {**options, "seed": seed}, composer.catalog)
            understand_s = time.perf_counter() - started
            (result,) = composer.compose(request, understand_s=understand_s)
            for stage, seconds in result.timings_s.items():
                samples.setdefault(stage, []).append(seconds)
    return {stage: statistics.median(values) for stage, values in samples.items()}


def cold_start_s(runs: int = 3) -> float:
    times = []
    for seed in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cli", "compose", "happy birthday", "--seed", str(seed),
                            "-o", tmp], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    header("Pipeline: a 30-second piece, warm process (medians of 5)")
    rows = []
    for engine in ("model", "rules"):
        for label, prompt, options in [
            ("birthday / piano / mp3", "happy birthday", {"voice": "piano", "length": 30}),
            ("sad / piano / mp3", "a sad song", {"voice": "piano", "length": 30}),
            ("happy / metal / mp3", "something happy", {"voice": "metal", "length": 30}),
        ]:
            stages = warm_stages(prompt, {**options, "engine": engine})
            rows.append([engine, label, stages["understand"], stages["compose"], stages["render"], stages["encode"],
                         stages["total"]])
    table(["engine", "piece", "understand s", "compose s", "render s", "encode s", "total s"], rows)
    print(f"\nProcess start to files (`muse compose`, cold process, median of 3): {cold_start_s():.2f} s")


if __name__ == "__main__":
    main()
