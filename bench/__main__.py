"""Run every benchmark in turn; each prints a Markdown section."""

import importlib
import sys

SUITES = ["bench.bench_pipeline", "bench.bench_parse", "bench.bench_themes", "bench.bench_storage", "bench.bench_bot", "bench.bench_model", "bench.bench_model_quality",
          "bench.bench_sing", "bench.bench_jam"]


def main() -> int:
    wanted = sys.argv[1:]
    for name in SUITES:
        if wanted and not any(w in name for w in wanted):
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a suite that has not landed yet
            raise
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
