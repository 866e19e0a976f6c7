"""Compose time per theme for a 30-second piece (median, warm process), symbolic and with audio."""

from __future__ import annotations

import statistics
import time

from bench.common import header, table

RUNS = 3


def main() -> None:
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = Composer()
    warm = understand("warm up", {"theme": "happy", "seed": 0, "engine": "rules"}, composer.catalog)
    composer.render(composer.compose_scores([warm])[0])
    header("Themes: a 30-second piece per theme, default voice, warm process (medians of 3)")
    rows = []
    for name in sorted(composer.catalog.themes):
        symbolic, audio = [], []
        for seed in range(1, RUNS + 1):
            request = understand(f"a {name} piece", {"theme": name, "seed": seed, "length": 30, "engine": "rules"},
                                 composer.catalog)
            started = time.perf_counter()
            (composition,) = composer.compose_scores([request])
            composed = time.perf_counter()
            composer.render(composition)
            symbolic.append(composed - started)
            audio.append(time.perf_counter() - started)
        rows.append([name, composition.request.voice, statistics.median(symbolic), statistics.median(audio)])
    table(["theme", "voice", "compose s (plan+melody+arrange+MIDI)", "compose + render s"], rows)


if __name__ == "__main__":
    main()
