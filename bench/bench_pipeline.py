"""Where a piece's time goes: each stage for 10 / 30 / 60 / 120 s pieces, an instrumental and a sung
voice, in a warm process; the lone warm 30 s piece against its budget; `muse compose` from process
start to files; and compose time against length as a plot (docs/bench_length.png).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Stat, header, quick, table

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "docs" / "bench_length.png"
STAGES = ("understand", "plan", "melody", "arrange", "sing", "render", "encode", "picture", "total")
# where a part is counted in a piece's own timings: sing inside render (the picture is drawn on a
# side thread while the piece renders and encodes: its own time, off the critical path)
INSIDE = {"sing": "render"}
PROMPT = "happy birthday"
BUDGET_S = {"piano": 1.0, "male": 2.0}
COLD_BUDGET_S = 3.0


def _composer():
    from composer.pipeline import Composer

    composer = Composer()
    composer.warm_up("model")
    return composer


def stage_samples(composer, voice: str, length_s: int, seeds: range) -> dict[str, list[float]]:
    """Seconds per stage for lone pieces (one request per call, as a member's /compose), stages disjoint."""
    from composer.understanding.understand import understand

    samples: dict[str, list[float]] = {}
    for seed in seeds:
        started = time.perf_counter()
        request = understand(PROMPT, {"voice": voice, "length": length_s, "seed": seed}, composer.catalog)
        understand_s = time.perf_counter() - started
        (piece,) = composer.compose(request, understand_s=understand_s)
        wall = time.perf_counter() - started
        t = dict(piece.timings_s)
        for part, whole in INSIDE.items():
            t[whole] = t[whole] - t.get(part, 0.0)
        t["total"] = wall
        for stage in STAGES:
            samples.setdefault(stage, []).append(t.get(stage, 0.0))
    return samples


def cold_start(runs: int) -> Stat:
    """`muse compose` from process start to files written (the model engine, a 30 s piece)."""
    times = []
    for seed in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cli", "compose", PROMPT, "--seed", str(seed), "-o", tmp],
                           check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - started)
    return Stat.of(times)


def _plot(lengths: list[int], totals: dict[str, list[float]], fits: dict[str, tuple[float, float, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for voice, values in totals.items():
        slope, intercept, r2 = fits[voice]
        ax.plot(lengths, values, "o", label=f"{voice} (median)")
        ax.plot(lengths, [intercept + slope * x for x in lengths], "-", alpha=0.6,
                label=f"{voice} fit: {intercept:.2f} s + {slope * 30:.2f} s per 30 s, R² {r2:.3f}")
    ax.set_xlabel("piece length (s)")
    ax.set_ylabel("warm compose to files (s)")
    ax.set_title("Muse: compose time against piece length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT)
    plt.close(fig)


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """(slope, intercept, R²) of a least-squares line."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return slope, intercept, 1.0 - ss_res / ss_tot if ss_tot else 1.0


def main() -> None:
    runs = 2 if quick() else 5
    lengths = [10, 30] if quick() else [10, 30, 60, 120]
    header(f"Pipeline: where a piece's time goes (warm process, `{PROMPT}`, medians of {runs} seeds)")
    composer = _composer()
    composer.compose(composer_request(composer, "male", 30, 0))  # the singer's voice loads here
    results: dict[tuple[str, int], dict[str, Stat]] = {}
    for voice in ("piano", "male"):
        for length in lengths:
            samples = stage_samples(composer, voice, length, range(1, runs + 1))
            results[voice, length] = {stage: Stat.of(values) for stage, values in samples.items()}
    print("Stages add up to the total except `picture` (the piano roll, drawn on a side thread while the "
          "piece renders and encodes): `sing` is the voice (singing and its mix) and `render` the band; "
          "`encode` is the audio file and waiting for the documents. "
          "`melody` is the trained model (one request per pass); the total is the wall time of one "
          "`Composer.compose` call, understanding included. Render × real time: seconds of music per "
          "second of render and sing.\n")
    table(["voice", "length s", *[f"{s} s" for s in STAGES], "render × real time"],
          [[voice, length, *[str(r[s]) for s in STAGES],
            f"{length / (r['render'].median + r['sing'].median):.0f}x"]
           for (voice, length), r in results.items()])
    print()
    cold = cold_start(2 if quick() else 3)
    rows = [[f"warm 30 s piece, {voice}", str(results[voice, 30]["total"]), f"≤ {budget:.1f}",
             "met" if results[voice, 30]["total"].median <= budget else "not met"]
            for voice, budget in BUDGET_S.items()]
    rows.append(["cold `muse compose` (process start to files, 30 s piano)", str(cold), f"≤ {COLD_BUDGET_S:.1f}",
                 "met" if cold.median <= COLD_BUDGET_S else "not met"])
    table(["figure", "seconds", "target", ""], rows)
    totals = {voice: [results[voice, n]["total"].median for n in lengths] for voice in BUDGET_S}
    fits = {voice: linear_fit(lengths, values) for voice, values in totals.items()}
    _plot(lengths, totals, fits)
    print()
    for voice, (slope, intercept, r2) in fits.items():
        print(f"- {voice}: total ≈ {intercept:.2f} s + {slope:.4f} s per second of music (R² {r2:.3f}); "
              f"plot: `docs/{PLOT.name}`.")


def composer_request(composer, voice: str, length_s: int, seed: int):
    from composer.understanding.understand import understand

    return understand(PROMPT, {"voice": voice, "length": length_s, "seed": seed}, composer.catalog)


if __name__ == "__main__":
    main()
