"""`make bench`: Muse's speed figures, printed as Markdown tables for docs/benchmarks.md."""
