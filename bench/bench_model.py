"""The melody model's speed, and what batching buys a server.

Sampled tokens/s at batch 1 / 8 / 32 (30 s plans over every theme, the sampler's own masks), then
pieces per second for 8 concurrent 30 s requests: one at a time (`Composer.compose` per request,
as a one-thread worker would) against the server's way (one model pass for all 8, then finishing
them on as many threads as the machine has cores).
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import Stat, header, quick, table

BATCHES = (1, 8, 32)
CONCURRENT = 8
GAIN_TARGET = 3.0


def _plans(catalog, count: int, length_s: int = 30):
    from composer.plan import make_plan
    from composer.understanding.understand import understand

    themes = sorted(catalog.themes)
    plans = []
    for i in range(count):
        request = understand("a tune", {"theme": themes[i % len(themes)], "length": length_s, "seed": i,
                                        "voice": "piano", "engine": "model"}, catalog).seeded()
        plans.append(make_plan(request, catalog.theme_of(request), catalog.voice(request.voice),
                               random.Random(request.seed)))
    return plans


def tokens_per_s(engine, catalog, batch: int, runs: int) -> tuple[Stat, Stat]:
    """(sampled tokens/s over the batch, seconds per batch)."""
    import torch

    from composer.melody.model import _layout, _spec
    from composer.model.sample import generate

    plans = _plans(catalog, batch)
    rates, times = [], []
    torch.set_num_threads(1)  # as the engine samples
    for run in range(runs + 1):
        specs = [_spec(p, _layout(p, engine.config.n_positions), engine.tokenizer, run * 100 + i)
                 for i, p in enumerate(plans)]
        started = time.perf_counter()
        sequences = generate(engine.fast, engine.tokenizer, specs)
        elapsed = time.perf_counter() - started
        if run:  # the first pass warms up
            rates.append(sum(len(s) for s in sequences) / elapsed)
            times.append(elapsed)
    return Stat.of(rates), Stat.of(times)


def _requests(composer, count: int, offset: int):
    from composer.understanding.understand import understand

    themes = sorted(composer.catalog.themes)
    return [understand("a tune", {"theme": themes[i % len(themes)], "length": 30, "voice": "piano",
                                  "seed": offset + i}, composer.catalog) for i in range(count)]


def one_at_a_time(composer, requests) -> float:
    started = time.perf_counter()
    for request in requests:
        composer.compose(request)
    return len(requests) / (time.perf_counter() - started)


def batched(composer, requests, pool: ThreadPoolExecutor) -> float:
    started = time.perf_counter()
    drafts = composer.compose_scores(requests)
    list(pool.map(composer.finish, drafts))
    return len(requests) / (time.perf_counter() - started)


def main() -> None:
    from composer.pipeline import Composer

    runs = 2 if quick() else 3
    composer = Composer()
    composer.warm_up("model")
    engine = composer.engine("model")
    header(f"Melody model ({engine.info.version}): sampling speed and batching (medians of {runs})")
    rows = []
    for batch in BATCHES[:2] if quick() else BATCHES:
        rate, seconds = tokens_per_s(engine, composer.catalog, batch, runs)
        rows.append([batch, str(rate), str(seconds)])
    table(["batch", "tokens/s (all sequences)", "s per batch"], rows)
    print()
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-finish") as pool:
        batched(composer, _requests(composer, CONCURRENT, 900), pool)  # every thread's synth loads here
        alone, together = [], []
        for run in range(runs):
            alone.append(one_at_a_time(composer, _requests(composer, CONCURRENT, 100 * run)))
            together.append(batched(composer, _requests(composer, CONCURRENT, 100 * run), pool))
    alone_s, together_s = Stat.of(alone), Stat.of(together)
    gain = together_s.median / alone_s.median
    table(["8 concurrent 30 s requests", "pieces/s"],
          [["one at a time (compose each, one thread)", str(alone_s)],
           [f"one model pass, finished on {workers} threads", str(together_s)],
           ["batching gain", f"{gain:.2f}x (target ≥ {GAIN_TARGET:.0f}x: {'met' if gain >= GAIN_TARGET else 'not met'})"]])
    print("\nThe sampler runs on one BLAS thread (tiny matrix products gain nothing from more). A piece is "
          "finished (rendered, encoded, drawn) in full on one thread; FluidSynth, the effects and the MP3 "
          "encoder release the GIL, so finishing threads share the cores.")


if __name__ == "__main__":
    main()
