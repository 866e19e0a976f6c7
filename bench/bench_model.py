"""Melody model speed: sampled tokens/s for 1 and 8 requests at once, and whole-compose time
(plan + model melody + arrangement + render + encode) for 30/60/120 s pieces, warm process."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.common import header, table

RUNS = 3


def _plans(count: int, length_s: int = 30):
    import random

    from composer.catalog import default_catalog
    from composer.plan import make_plan
    from composer.understanding.understand import understand

    catalog = default_catalog()
    themes = sorted(catalog.themes)
    plans = []
    for i in range(count):
        request = understand("a tune", {"theme": themes[i % len(themes)], "length": length_s, "seed": i,
                                        "voice": "piano", "engine": "model"}, catalog)
        plans.append(make_plan(request, catalog.theme(request.theme), catalog.voice(request.voice),
                               random.Random(request.seed)))
    return plans


def tokens_per_s(engine, concurrent: int) -> tuple[float, float]:
    """(sampled tokens/s summed over the batch, seconds per batch), median of RUNS."""
    from composer.melody.model import _layout, _spec
    from composer.model.sample import generate

    plans = _plans(concurrent)
    rates, times = [], []
    for run in range(RUNS):
        specs = [_spec(p, _layout(p, engine.config.n_positions), engine.tokenizer, seed=run * 100 + i) for i, p in enumerate(plans)]
        started = time.perf_counter()
        sequences = generate(engine.fast, engine.tokenizer, specs)
        elapsed = time.perf_counter() - started
        rates.append(sum(len(s) for s in sequences) / elapsed)
        times.append(elapsed)
    return statistics.median(rates), statistics.median(times)


def compose_s(length_s: int) -> dict[str, float]:
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = Composer()
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(RUNS + 1):
            request = understand("happy birthday", {"voice": "piano", "length": length_s, "seed": seed,
                                                    "engine": "model"}, composer.catalog)
            (result,) = composer.compose(request)
            if seed == 0:
                continue  # warm-up
            for stage, seconds in result.timings_s.items():
                samples.setdefault(stage, []).append(seconds)
    return {stage: statistics.median(v) for stage, v in samples.items()}


def main() -> None:
    import torch

    from composer.melody.model import ModelEngine

    torch.set_num_threads(1)
    engine = ModelEngine()
    header(f"Melody model ({engine.info.version}): sampling and compose speed, warm (medians of {RUNS})")
    rows = []
    for concurrent in (1, 8):
        rate, batch_s = tokens_per_s(engine, concurrent)
        rows.append([concurrent, rate, batch_s])
    table(["concurrent requests", "tokens/s (all)", "s per batch"], rows)
    print()
    rows = []
    for length in (30, 60, 120):
        stages = compose_s(length)
        rows.append([f"{length} s", stages["compose"], stages["render"], stages["encode"], stages["total"]])
    table(["piece", "compose s", "render s", "encode s", "total s"], rows)
    print("\nOne torch thread; the machine is shared, so absolute figures vary with load.")


if __name__ == "__main__":
    main()
