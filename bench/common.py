"""Timing helpers shared by the benchmark scripts: the machine line, medians with their range, tables."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable


def quick() -> bool:
    """`make bench-quick` (MUSE_BENCH_QUICK=1): fewer runs and sizes, for development, same code paths."""
    return os.environ.get("MUSE_BENCH_QUICK", "") not in ("", "0")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> str:
    """CPU model and cores, Python, torch and the GPU when there is one."""
    line = f"{os.cpu_count()} cores, {cpu_name()}, Python {platform.python_version()}"
    try:
        import torch

        line += f", torch {torch.__version__}"
        line += f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    except ImportError:
        pass
    return line


def header(title: str) -> None:
    print(f"\n## {title}\n\nMachine: {machine()}. Date: {date.today().isoformat()}.\n")


@dataclass(frozen=True)
class Stat:
    """A median with the smallest and largest of the runs behind it."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float]) -> "Stat":
        values = list(values)
        return cls(statistics.median(values), min(values), max(values), len(values))

    def __str__(self) -> str:
        if self.runs == 1 or self.low == self.high:
            return _number(self.median)
        return f"{_number(self.median)} ({_number(self.low)}–{_number(self.high)})"


def _number(value: float) -> str:
    if value != value:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def timed(fn: Callable[[], object], runs: int) -> Stat:
    return Stat.of(timings(fn, runs))


def median_s(fn: Callable[[], object], runs: int) -> float:
    return timed(fn, runs).median


def table(headers: list[str], rows: list[list[object]]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(_number(c) if isinstance(c, float) else str(c) for c in row) + " |")
