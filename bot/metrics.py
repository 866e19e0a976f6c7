"""Prometheus metrics of one bot: queue depth, batch sizes, time to defer and to deliver, job outcomes.

Imported only when the health port is set (prometheus_client is the optional `scaleout` extra).
Every bot gets its own registry, so several bots in one process (tests) never share a series.
The queue's `QueueStats.note` feeds the histograms and counters as events happen; the queue
gauges and the GPU gauge are read when Prometheus scrapes.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from bot.job_queue import JobQueue

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("delivered", "failed", "cancelled", "refused")
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
DEFER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)  # Discord wants it within 3 s
DELIVER_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)

GpuReader = Callable[[], list[float]]  # utilisation of each visible GPU, 0–1


class BotMetrics:
    """The series of one bot, fed by its queue's stats; `exposition()` is the /metrics body."""

    def __init__(self, queue: "JobQueue", gpu: GpuReader | None = None):
        self.queue = queue
        self.registry = CollectorRegistry()
        r = self.registry
        Gauge("muse_queue_waiting", "Jobs accepted and waiting for the composer", registry=r) \
            .set_function(lambda: len(queue.waiting))
        Gauge("muse_queue_running", "Jobs being composed or rendered", registry=r) \
            .set_function(lambda: len(queue.running))
        self.batch_size = Histogram("muse_batch_size", "Pieces composed together in one model pass",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.defer_s = Histogram("muse_defer_seconds", "Interaction created to deferred (Discord allows 3 s)",
                                 buckets=DEFER_BUCKETS, registry=r)
        self.deliver_s = Histogram("muse_deliver_seconds", "Job accepted to its pieces delivered",
                                   buckets=DELIVER_BUCKETS, registry=r)
        self.jobs = Counter("muse_jobs", "Jobs by how they ended (refused: turned away at admission)",
                            ["outcome"], registry=r)
        for outcome in OUTCOMES:  # every outcome is a series from the start, at 0
            self.jobs.labels(outcome)
        if gpu is not None:
            r.register(GpuCollector(gpu))

    def note(self, event: str, value: float) -> None:
        """A `QueueStats.note` observer: batch, deferred, delivered, failed, cancelled, refused."""
        if event == "batch":
            self.batch_size.observe(value)
        elif event == "deferred":
            self.defer_s.observe(max(0.0, value))  # Discord's clock and ours may differ by a little
        elif event in OUTCOMES:
            self.jobs.labels(event).inc()
            if event == "delivered":
                self.deliver_s.observe(value)

    def attach(self) -> None:
        self.queue.stats.observers.append(self.note)

    def detach(self) -> None:
        if self.note in self.queue.stats.observers:
            self.queue.stats.observers.remove(self.note)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class GpuCollector:
    """`muse_gpu_utilization{gpu="0"}`, read at scrape time; a failed read leaves it out of that scrape."""

    def __init__(self, read: GpuReader):
        self.read = read

    def collect(self) -> Iterator[Metric]:
        try:
            values = self.read()
        except Exception as exc:  # the driver went away, NVML hiccups: the other metrics still scrape
            log.debug("GPU utilisation not read: %s", exc)
            return
        family = GaugeMetricFamily("muse_gpu_utilization", "GPU busy share over the last sample period (0-1)",
                                   labels=["gpu"])
        for index, value in enumerate(values):
            family.add_metric([str(index)], value)
        yield family


def gpu_reader() -> GpuReader | None:
    """A way to read GPU utilisation when a GPU is visible, else None (the gauge is then left out).

    torch is asked only when this process loaded it already (the local composer), so a bot whose
    composer is the Ray tier never imports it for this; otherwise NVML through pynvml, if installed."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available() and torch.cuda.device_count():
                count = torch.cuda.device_count()
                torch.cuda.utilization(0)  # needs pynvml (NVIDIA) or amdsmi (ROCm): raises without them
                return lambda: [torch.cuda.utilization(i) / 100 for i in range(count)]
        except Exception as exc:  # no driver, no NVML, an old torch: many shapes of "no GPU here"
            log.debug("no GPU utilisation through torch: %s", exc)
    return _nvml_reader()


def _nvml_reader() -> GpuReader | None:
    try:
        import pynvml  # type: ignore[import-not-found]

        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception as exc:  # not installed, no driver, no device
        log.debug("no GPU utilisation through NVML: %s", exc)
        return None
    if not handles:
        return None
    return lambda: [pynvml.nvmlDeviceGetUtilizationRates(h).gpu / 100 for h in handles]
