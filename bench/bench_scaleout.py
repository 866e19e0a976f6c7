"""The scale-out figures of issue #17, and the capacity table derived from them.

Composing throughput through the Ray Serve composer tier with 1 and 2 CPU replicas on a throw-away
local cluster (tests/ray_cluster.py), driven the way the bot drives it (`RemoteComposer`: compose,
then finish on the replica); pieces per second per GPU at batch 1 / 8 / 32 / 128 when a GPU is
visible; and `docs/capacity.md`, the replicas, GPUs and bot shards needed for 10k / 100k / 1M
requests a day, derived from those figures by `capacity_rows` (unit-tested, no Ray needed).
The same summary replaces the `## Measured` section of docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import math
import os
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from bench.common import Stat, header, machine, quick, table

ROOT = Path(__file__).resolve().parents[1]
CAPACITY_DOC = ROOT / "docs" / "capacity.md"
SCALE_OUT_DOC = ROOT / "docs" / "scale-out.md"
MEASURED = "## Measured"

# -- the workload --------------------------------------------------------------------------------
LENGTH_S = 30  # a 30 s piano piece, as bench_pipeline's headline piece
PROMPT = "happy birthday"
LIMIT_BYTES = 10 * 1024 * 1024  # the bot's default upload limit (bot.jobspec.DEFAULT_FILESIZE_LIMIT)
CONCURRENT = 8  # requests in flight at once: one bot batch's worth (the tier's default max batch)
RATIO_TARGET = 1.7  # 2 replicas against 1, on a 2-core machine (the expectation)
GPU_BATCHES = (1, 8, 32, 128)

# -- the capacity model's assumptions (each stated in docs/capacity.md) ----------------------------
DAILY_REQUESTS = (10_000, 100_000, 1_000_000)
DELIVERY_P95_S = 30.0  # the target: 95 % of pieces delivered within 30 s of the request
RHO_MAX = 0.7  # utilisation ceiling per pool: room for a lost replica and for the minute's jitter
SECONDS_PER_DAY = 86_400
MINUTES_PER_DAY = 1_440
REQUESTS_PER_SERVER_PER_DAY = 5  # a server's daily jam example plus a few members' /compose
JAM_SHARE = 1 / REQUESTS_PER_SERVER_PER_DAY  # the day's requests that are jam examples (one a server)
# Jams fire at the top of the hour in each server's own time zone, so a zone's jams land on the same
# UTC minute. The largest zone group (Central European Time) holds about a fifth of servers, and
# about a quarter of a zone's servers pick its most popular evening hour: 5 % of all jam examples
# fire in one minute.
BUSIEST_MINUTE_JAM_SHARE = 0.20 * 0.25
MEMBER_PEAK = 2.0  # members' own /compose: the evening hour runs at twice the day's average
# The busiest minute's rate over the day's average rate: that minute's jam examples, compressed
# into one minute, plus the members' evening peak.
PEAK_FACTOR = MINUTES_PER_DAY * JAM_SHARE * BUSIEST_MINUTE_JAM_SHARE + (1 - JAM_SHARE) * MEMBER_PEAK
SERVERS_PER_SHARD = 2_500  # Discord requires a shard per at most 2,500 servers
# Gateway events a server sends the bot a day with discord.py's default intents (messages without
# content, typing, reactions, voice states, member and channel updates): about 500 messages, each
# with a typing event, plus reactions and the rest, in a small-to-middling server.
GATEWAY_EVENTS_PER_SERVER_PER_DAY = 2_000


# ================================================================================================
# The capacity derivation: pure functions, unit-tested in tests/test_bench_scaleout.py
# ================================================================================================
@dataclass(frozen=True)
class CapacityInputs:
    """What the derivation takes from the measurements."""

    replica_pieces_per_s: float  # one CPU replica (one core) composing and finishing, at load
    service_p50_s: float  # a lone piece through the tier (compose, then finish), no queue
    service_p95_s: float
    finish_s_per_piece: float  # render and encode on a replica: the CPU part a GPU does not take
    gpu_pieces_per_s: float | None = None  # drafts per second on one GPU at its best batch; None: not measured
    gpu_service_s: float | None = None  # that batch's model pass, seconds
    gpu_note: str = "needs a GPU run"


@dataclass(frozen=True)
class Sizing:
    """A pool of identical servers sized for a Poisson arrival rate."""

    servers: int
    rho: float
    wait_p95_s: float  # Erlang-C: the 95th percentile of the wait for a free replica
    delivery_p95_s: float  # ≈ wait p95 + service p95
    bound: str  # which rule set the count: "ρ ≤ 0.7" or "p95 ≤ 30 s"

    @property
    def met(self) -> bool:
        return self.delivery_p95_s <= DELIVERY_P95_S


@dataclass(frozen=True)
class CapacityRow:
    requests_per_day: int
    average_per_s: float
    peak_per_s: float
    cpu: Sizing
    gpu: Sizing | None  # None: no GPU figure measured
    finish_cores: int  # CPU cores beside the GPUs for rendering and encoding
    servers: int
    shards: int
    events_per_shard_s: float
    peak_interactions_per_shard_s: float


def peak_rate(requests_per_day: int, peak_factor: float = PEAK_FACTOR) -> float:
    """Requests per second in the busiest minute."""
    return requests_per_day / SECONDS_PER_DAY * peak_factor


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c (c = servers, offered load a = λ/μ < c).

    From the Erlang-B recursion, which stays finite for hundreds of servers where the textbook
    sum of a^k/k! overflows."""
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return servers * blocking / (servers - offered * (1 - blocking))


def wait_p95_s(servers: int, rate: float, mu: float) -> float:
    """The 95th percentile of the M/M/c wait: P(W > t) = C · exp(-(cμ - λ) t)."""
    if rate >= servers * mu:
        return math.inf
    waiting = erlang_c(servers, rate / mu)
    if waiting <= 0.05:
        return 0.0
    return math.log(waiting / 0.05) / (servers * mu - rate)


def size_pool(rate: float, mu: float, service_p95_s: float, rho_max: float = RHO_MAX,
              target_s: float = DELIVERY_P95_S) -> Sizing:
    """The fewest servers with utilisation ≤ rho_max, then more until wait p95 + service p95 ≤ target
    (never met when the service alone exceeds the target: then the ρ count is returned, flagged)."""
    servers = max(1, math.ceil(rate / (rho_max * mu) - 1e-9))
    bound = f"ρ ≤ {rho_max}"
    while True:
        wait = wait_p95_s(servers, rate, mu)
        if wait + service_p95_s <= target_s or service_p95_s > target_s:
            return Sizing(servers, rate / (servers * mu), wait, wait + service_p95_s, bound)
        servers, bound = servers + 1, f"p95 ≤ {target_s:.0f} s"


def shards_needed(servers: int) -> int:
    return max(1, math.ceil(servers / SERVERS_PER_SHARD))


def capacity_row(requests_per_day: int, inputs: CapacityInputs) -> CapacityRow:
    """One volume's CPU replicas, GPU replicas (when measured) and shards."""
    rate = peak_rate(requests_per_day)
    cpu = size_pool(rate, inputs.replica_pieces_per_s, inputs.service_p95_s)
    gpu = None
    if inputs.gpu_pieces_per_s:
        gpu_service = (inputs.gpu_service_s or 0.0) + inputs.finish_s_per_piece
        gpu = size_pool(rate, inputs.gpu_pieces_per_s, gpu_service)
    finish_cores = max(1, math.ceil(rate * inputs.finish_s_per_piece / RHO_MAX - 1e-9))
    servers = math.ceil(requests_per_day / REQUESTS_PER_SERVER_PER_DAY)
    shards = shards_needed(servers)
    events = servers / shards * GATEWAY_EVENTS_PER_SERVER_PER_DAY / SECONDS_PER_DAY
    return CapacityRow(requests_per_day, requests_per_day / SECONDS_PER_DAY, rate, cpu, gpu, finish_cores,
                       servers, shards, events, rate / shards)


def capacity_rows(inputs: CapacityInputs, volumes: tuple[int, ...] = DAILY_REQUESTS) -> list[CapacityRow]:
    return [capacity_row(volume, inputs) for volume in volumes]


# -- Markdown ---------------------------------------------------------------------------------------
def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """bench.common.table's output as a string (the same number formatting)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        table(headers, rows)
    return out.getvalue()


def _gpu_cell(sizing: Sizing | None, note: str) -> str:
    return note if sizing is None else f"{sizing.servers} (ρ {sizing.rho:.2f})"


def capacity_table(rows: list[CapacityRow], gpu_note: str) -> str:
    return markdown_table(
        ["requests / day", "busiest-minute rate (pieces/s)", "CPU replicas (cores)", "GPU replicas",
         "cores beside the GPUs (finishing)", "servers", "bot shards"],
        [[f"{r.requests_per_day:,}", r.peak_per_s, f"{r.cpu.servers} (ρ {r.cpu.rho:.2f})",
          _gpu_cell(r.gpu, gpu_note), r.finish_cores, f"{r.servers:,}", r.shards] for r in rows])


def capacity_doc(inputs: CapacityInputs, rows: list[CapacityRow], measured_on: str, today: str) -> str:
    """docs/capacity.md: the table, its inputs and assumptions, the formulas and the checks."""
    cpu_checks = markdown_table(
        ["requests / day", "average rate (pieces/s)", "peak rate λ", "CPU replicas c", "ρ = λ / (c·μ)",
         "Erlang-C P(wait)", "wait p95 (s)", "delivery p95 (s)", "count set by"],
        [[f"{r.requests_per_day:,}", r.average_per_s, r.peak_per_s, r.cpu.servers, f"{r.cpu.rho:.2f}",
          f"{erlang_c(r.cpu.servers, r.peak_per_s / inputs.replica_pieces_per_s):.3f}", r.cpu.wait_p95_s,
          r.cpu.delivery_p95_s, r.cpu.bound] for r in rows])
    shard_rows = markdown_table(
        ["requests / day", "servers", "shards", "servers per shard", "gateway events per shard (per s, average)",
         "Muse requests per shard in the busiest minute (per s)"],
        [[f"{r.requests_per_day:,}", f"{r.servers:,}", r.shards, f"{r.servers / r.shards:,.0f}",
          r.events_per_shard_s, r.peak_interactions_per_shard_s] for r in rows])
    gpu_text = ("No GPU figure was measured here, so the GPU column gives no count (\"needs a GPU run\"): "
                "`python -m bench scaleout` on a machine with a GPU measures one and fills it."
                if inputs.gpu_pieces_per_s is None else
                f"GPU replicas: sized the same way with μ_gpu = {inputs.gpu_pieces_per_s:.2f} drafts/s per GPU "
                f"({inputs.gpu_note}); service p95 = the batch's model pass ({inputs.gpu_service_s:.2f} s) "
                f"+ finishing ({inputs.finish_s_per_piece:.2f} s).")
    inputs_table = markdown_table(["input", "value", "where it comes from"], [
        ["μ: pieces/s of one CPU replica (one core)", inputs.replica_pieces_per_s,
         f"measured: 2 replicas, one core each, {CONCURRENT} requests in flight, ÷ 2"],
        ["service time of a lone piece, p50 / p95 (s)", f"{inputs.service_p50_s:.2f} / {inputs.service_p95_s:.2f}",
         "measured: one request at a time through the tier, compose then finish"],
        ["finishing (render + encode) per piece (s)", inputs.finish_s_per_piece,
         "measured: the replica's own finish timing (stats()) for the lone pieces"],
        ["μ_gpu: drafts/s of one GPU replica", "not measured" if inputs.gpu_pieces_per_s is None
         else f"{inputs.gpu_pieces_per_s:.2f}", inputs.gpu_note],
        ["requests per server per day", REQUESTS_PER_SERVER_PER_DAY, "assumed: a daily jam example and ~4 /compose"],
        ["share of requests that are jam examples", f"{JAM_SHARE:.2f}", "one jam example per server per day"],
        ["share of the day's jam examples in the busiest minute", f"{BUSIEST_MINUTE_JAM_SHARE:.2f}",
         "assumed: largest zone group ≈ 1/5 of servers × ≈ 1/4 of them on its most popular hour"],
        ["members' evening peak ÷ daily average", f"{MEMBER_PEAK:g}", "assumed"],
        ["k: busiest minute ÷ average rate", f"{PEAK_FACTOR:.1f}", "derived (below)"],
        ["utilisation ceiling ρ_max", f"{RHO_MAX:g}", "chosen (below)"],
        ["delivery target", f"p95 ≤ {DELIVERY_P95_S:.0f} s", "the issue"],
        ["servers per shard", f"≤ {SERVERS_PER_SHARD:,}", "Discord's sharding rule"],
        ["gateway events per server per day", f"{GATEWAY_EVENTS_PER_SERVER_PER_DAY:,}",
         "assumed (default intents, a small-to-middling server)"],
    ])
    return f"""# Capacity: composer replicas, GPUs and bot shards

Written by `python -m bench scaleout` (`bench/bench_scaleout.py`, `capacity_rows`) from the figures
it measured; do not edit by hand. Measured on: {measured_on}. Date: {today}. The measurements
themselves are in `docs/benchmarks.md` (section `scaleout`) and `docs/scale-out.md` (Measured).

## The table

What it takes to deliver 95 % of pieces within {DELIVERY_P95_S:.0f} s of the request, in the
busiest minute of the day.

{capacity_table(rows, inputs.gpu_note)}
A CPU replica is one core (`num_cpus: 1`), composing with the trained model and finishing its own
pieces. {gpu_text} "Cores beside the GPUs" is the rendering and encoding a GPU replica still does on
CPUs: λ × finishing seconds ÷ ρ_max. Bot shards carry the Gateway; the Ray head, PostgreSQL and the
bot processes' own CPU are not in these counts.

## Inputs

{inputs_table}
## How it is derived

1. **Peak rate.** Requests arrive at D / 86,400 per second on average. Daily jams fire at the top
   of the hour in each server's time zone, so a zone's jam examples all land in one UTC minute:
   the busiest minute carries k times the average rate, with

   ```
   k = 1,440 × jam share × busiest minute's share of jam examples + (1 − jam share) × members' peak
     = 1,440 × {JAM_SHARE:.2f} × {BUSIEST_MINUTE_JAM_SHARE:.2f} + {1 - JAM_SHARE:.2f} × {MEMBER_PEAK:.1f}
     = {PEAK_FACTOR:.1f}
   ```

   λ = D / 86,400 × k. Sizing for that minute's rate covers the rest of the day. A scheduler that
   spread each jam over its first ten minutes would divide the jam term by ten (k ≈
   {MINUTES_PER_DAY * JAM_SHARE * BUSIEST_MINUTE_JAM_SHARE / 10 + (1 - JAM_SHARE) * MEMBER_PEAK:.1f}).
2. **Replicas: utilisation bound, checked with M/M/c.** Each replica is treated as one server of
   rate μ (its measured throughput at load, which already includes what batching gains) and the
   arrivals in the busiest minute as Poisson. c = ⌈λ / (ρ_max · μ)⌉ with ρ_max = {RHO_MAX}: the
   utilisation bound, chosen over sizing to the latency target alone because (a) a minute is short
   and its arrivals are burstier than Poisson, (b) one replica lost (Serve restarts it in seconds)
   must not tip the pool over ρ = 1, and (c) M/M/c's wait falls off a cliff near ρ = 1, so a pool
   sized to the target alone has no margin for a wrong μ. The count is then checked: the wait for a
   free replica has P(W > t) = C(c, a) · e^(−(cμ − λ) t), with a = λ / μ and C the Erlang-C
   probability of waiting, so its p95 is ln(C / 0.05) / (cμ − λ) (0 when C ≤ 0.05). Delivery p95 is
   taken as wait p95 + the lone piece's service p95 (the two tails seldom coincide, so this leans
   high; by the union bound the sum exceeds it for at most 10 % of pieces); if that exceeded
   {DELIVERY_P95_S:.0f} s, c would grow until it did not (column "count set by").
3. **Shards.** Servers = D / {REQUESTS_PER_SERVER_PER_DAY} requests per server per day; shards =
   ⌈servers / {SERVERS_PER_SHARD:,}⌉. A shard's Gateway load is its servers ×
   {GATEWAY_EVENTS_PER_SERVER_PER_DAY:,} events a day, nearly all of it Discord traffic the bot
   ignores; Muse's own interactions are the last column.

### Check of the CPU pool (μ = {inputs.replica_pieces_per_s:.3f} pieces/s per replica)

{cpu_checks}
### Shards and their Gateway load

{shard_rows}
Caveats: μ was measured with {CONCURRENT} requests in flight; at a larger pool's load batches grow
and μ with them, so the CPU counts lean high. The service time is measured on this machine's cores;
a slower or busier core lengthens it. Sung pieces (a voice) take about 1.3 × a piano piece's time
(`docs/benchmarks.md`, pipeline) and are not in the workload.
"""


def replace_section(page: str, heading: str, text: str) -> str:
    """The page with everything after `heading` (up to the next heading of its level, or the end)
    replaced by `text`; the heading is added at the end when the page has none."""
    level = heading.split(" ", 1)[0] + " "
    start = page.find(f"\n{heading}\n")
    if start < 0:
        return page.rstrip("\n") + f"\n\n{heading}\n\n{text.strip()}\n"
    body = start + len(heading) + 2
    following = page.find(f"\n{level}", body)
    rest = page[following:] if following >= 0 else ""
    return page[:body] + "\n" + text.strip() + "\n" + rest


# ================================================================================================
# Measuring: a local Ray cluster, the tier deployed on it, RemoteComposer driving it
# ================================================================================================
@dataclass
class Cpu:
    """CPU seconds by process, read from /proc: what the replicas, Ray and this driver used."""

    ticks: float = float(os.sysconf("SC_CLK_TCK"))

    def process_s(self, pid: int, tid: int | None = None) -> float:
        """A process's CPU seconds, or one of its threads' (`tid`)."""
        path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
        try:
            fields = Path(path).read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    def threads_s(self, pid: int) -> dict[int, float]:
        try:
            tids = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:
            return {}
        return {tid: self.process_s(pid, tid) for tid in tids}

    def machine_busy_s(self) -> float:
        """Every process's CPU on this machine (colleagues' test runs included)."""
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(values[:8]) - values[3] - values[4]) / self.ticks  # less idle and iowait


@dataclass
class Window:
    """The CPU used by each process group over one stretch of measuring."""

    groups: dict[str, float] = field(default_factory=dict)
    machine_s: float = 0.0
    wall_s: float = 0.0


def process_groups(cluster: Any, replica_pids: set[int]) -> dict[int, str]:
    """pid → group: the replicas, the Serve controller, the raylet and GCS, other Ray processes,
    and this driver."""
    groups = {os.getpid(): "driver (this process: sends requests, receives pieces)"}
    for pid in cluster.pids():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        groups[pid] = ("replicas" if pid in replica_pids else "Serve controller" if "ServeController" in cmd
                       else "raylet" if "/raylet" in cmd else "GCS server" if "gcs_server" in cmd
                       else "other Ray processes")
    return groups


@contextlib.contextmanager
def cpu_window(groups: dict[int, str], window: Window) -> Iterator[None]:
    """Adds the CPU each group used inside the block to `window`."""
    cpu = Cpu()
    before = {pid: cpu.process_s(pid) for pid in groups}
    machine_before, started = cpu.machine_busy_s(), time.perf_counter()
    yield
    for pid, name in groups.items():
        window.groups[name] = window.groups.get(name, 0.0) + cpu.process_s(pid) - before[pid]
    window.machine_s += cpu.machine_busy_s() - machine_before
    window.wall_s += time.perf_counter() - started


def pin(replica_pids: list[int], cores: list[int] | None) -> None:
    """Each replica's threads on its own core (cores[i]), or every core again when `cores` is None.

    Every thread is set (a process's affinity is per thread); threads started later inherit it."""
    every = set(range(os.cpu_count() or 1))
    for i, pid in enumerate(replica_pids):
        mask = {cores[i % len(cores)]} if cores else every
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(task.name), mask)


def replica_threads(pid: int, before: dict[int, float]) -> dict[str, str]:
    """Which of a replica's threads did the work since `before` (Cpu.threads_s): a replica that
    oversubscribed its core (a BLAS or torch pool per call) would show many busy threads."""
    used = {tid: s - before.get(tid, 0.0) for tid, s in Cpu().threads_s(pid).items()}
    total = sum(used.values()) or 1.0
    busy = sorted((s for s in used.values() if s >= 0.05 * total), reverse=True)
    try:
        cores = ",".join(map(str, sorted(os.sched_getaffinity(pid))))
    except OSError:
        cores = "?"
    return {"threads": str(len(used)), "busy": str(len(busy)),
            "shares": " / ".join(f"{s / total:.0%}" for s in busy), "cores": cores}


def make_requests(composer: Any, count: int, offset: int) -> list[Any]:
    """30 s piano pieces as a member's /compose asks for them, each with its own seed."""
    from composer import default_engine
    from composer.understanding.understand import understand

    return [understand(PROMPT, {"voice": "piano", "length": LENGTH_S, "seed": offset + i,
                                "engine": default_engine()}, composer.catalog) for i in range(count)]


async def one_piece(remote: Any, request: Any) -> float:
    """Seconds from asking to holding the finished piece: compose (batched on a replica), then finish."""
    started = time.perf_counter()
    (draft,) = await remote.compose_scores([request])
    piece = await remote.finish(draft, LIMIT_BYTES)
    assert piece.artifacts.get("audio"), "a piece came back without audio"
    return time.perf_counter() - started


async def closed_loop(remote: Any, requests: list[Any], concurrent: int) -> tuple[float, list[float]]:
    """(pieces/s, latencies): `concurrent` clients, each sending its next request when its last piece
    is back, until every request is done. Filling and draining are inside the time."""
    pending = iter(requests)
    latencies: list[float] = []

    async def client() -> None:
        for request in pending:
            latencies.append(await one_piece(remote, request))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrent)))
    return len(requests) / (time.perf_counter() - started), latencies


@dataclass
class Throughput:
    """One deployment's measured runs."""

    replicas: int
    pinned: bool
    rate: Stat
    latencies: list[float]
    batch_sizes: list[int]
    compose_s_per_piece: float  # the replicas' model passes, per piece composed
    finish_s_per_piece: float
    window: Window
    threads: list[dict[str, str]]

    def latency(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = (len(ordered) - 1) * q / 100
    low, high = math.floor(index), math.ceil(index)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def stats_delta(before: dict[str, dict], after: dict[str, dict]) -> tuple[list[int], float, float]:
    """(batch sizes, model seconds per piece, finish seconds per piece) between two stats() reads."""
    sizes: list[int] = []
    composed = compose_s = finished = finish_s = 0.0
    for replica, now in after.items():
        then = before.get(replica, {"batches": 0, "pieces": 0, "compose_s": 0.0, "finished": 0, "finish_s": 0.0})
        new = now["batches"] - then["batches"]
        sizes += now["batch_sizes"][-new:] if new else []
        composed += now["pieces"] - then["pieces"]
        compose_s += now["compose_s"] - then["compose_s"]
        finished += now["finished"] - then["finished"]
        finish_s += now["finish_s"] - then["finish_s"]
    return sizes, compose_s / max(1.0, composed), finish_s / max(1.0, finished)


async def measure(remote: Any, cluster: Any, composer: Any, replicas: int, pinned: bool, runs: int,
                  pieces: int) -> Throughput:
    """Warm-up (excluded), then `runs` closed-loop runs of `pieces` requests, CPU read throughout."""
    stats = await remote.replica_stats(replicas)
    pids = sorted(s["pid"] for s in stats.values())
    pin(pids, list(range(os.cpu_count() or 1)) if pinned else None)
    await closed_loop(remote, make_requests(composer, 2 * CONCURRENT, 90_000), CONCURRENT)  # warm-up
    before = await remote.replica_stats(replicas)
    groups = process_groups(cluster, set(pids))
    thread_before = {pid: Cpu().threads_s(pid) for pid in pids}
    window, rates, latencies = Window(), [], []
    for run in range(runs):
        requests = make_requests(composer, pieces, 1_000 * (run + 1) + 100 * replicas)
        with cpu_window(groups, window):
            rate, seen = await closed_loop(remote, requests, CONCURRENT)
        rates.append(rate)
        latencies += seen
    sizes, compose_s, finish_s = stats_delta(before, await remote.replica_stats(replicas))
    threads = [replica_threads(pid, thread_before[pid]) for pid in pids]
    pin(pids, None)
    return Throughput(replicas, pinned, Stat.of(rates), latencies, sizes, compose_s, finish_s, window, threads)


async def lone_service(remote: Any, composer: Any, count: int) -> tuple[list[float], float, float]:
    """Pieces sent one at a time to one replica pinned to one core: the service time with no queue.
    (latencies, model s per piece, finish s per piece), the last two from the replica's own stats."""
    before = await remote.replica_stats(1)
    pids = [s["pid"] for s in before.values()]
    pin(pids, [0])
    try:
        latencies = [await one_piece(remote, request) for request in make_requests(composer, count, 50_000)]
    finally:
        pin(pids, None)
    _, compose_s, finish_s = stats_delta(before, await remote.replica_stats(1))
    return latencies, compose_s, finish_s


def check_stopped(cluster: Any) -> None:
    """After the cluster's `with`: none of its processes (raylet, GCS, replicas) may be left."""
    leftovers = cluster.pids()
    if leftovers:
        raise RuntimeError(f"the bench's Ray cluster left processes behind: {leftovers}")


@dataclass
class CpuFigures:
    runs: list[Throughput]
    lone: list[float]  # latencies of pieces sent one at a time
    lone_compose_s: float  # of which the model pass, per piece
    lone_finish_s: float  # and the render and encode
    deploy_s: dict[int, float]
    engine: str


def measure_cpu(runs: int, pieces: int, lone: int) -> CpuFigures:
    """1 then 2 CPU replicas on a throw-away cluster, each as deployed and pinned one core each."""
    from composer import Composer, default_engine
    from composer_tier.client import RemoteComposer
    from tests.ray_cluster import ray_cluster

    composer = Composer()
    composer.warm_up("rules")  # the driver only understands prompts (the embedding model loads here)
    engine = default_engine()
    measured: list[Throughput] = []
    service: tuple[list[float], float, float] = ([], math.nan, math.nan)
    deploy_s: dict[int, float] = {}
    # stopped, every process of it, however the block ends; the replicas compute on the CPU even where
    # the machine has a GPU
    with model_device_env("cpu"), ray_cluster(num_cpus=4) as cluster:
        remote = None
        for replicas in (1, 2):
            deploy_s[replicas] = cluster.deploy(replicas=replicas, engine=engine, timeout_s=300)
            remote = remote or RemoteComposer.connect(cluster.address)  # the app must exist first
            for pinned in (False, True):
                measured.append(asyncio.run(measure(remote, cluster, composer, replicas, pinned, runs, pieces)))
                _progress(measured[-1])
            if replicas == 1:
                service = asyncio.run(lone_service(remote, composer, lone))
    check_stopped(cluster)
    return CpuFigures(measured, *service, deploy_s, engine)


def _progress(run: Throughput) -> None:
    """A line on stderr while the suite runs (stdout is the section)."""
    import sys

    print(f"  [scaleout] {run.replicas} replica(s), {'pinned' if run.pinned else 'as deployed'}: "
          f"{run.rate} pieces/s", file=sys.stderr, flush=True)


# -- GPU -------------------------------------------------------------------------------------------
@dataclass
class GpuFigures:
    device: str
    model_device: str
    rows: list[tuple[int, Stat, Stat, list[int]]]  # batch, drafts/s, seconds per batch, batch sizes seen


def gpu_visible() -> str | None:
    """The GPU's name when torch sees one, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def replica_device(pid: int) -> str:
    """Where a replica's model computed: "cuda" when nvidia-smi lists the replica's process on the GPU,
    else "cpu" (the engine picks its device itself, MUSE_MODEL_DEVICE or auto; Ray only grants the GPU)."""
    try:
        listed = subprocess.run(["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "cpu (no nvidia-smi)"
    return "cuda" if str(pid) in listed else "cpu"


@contextlib.contextmanager
def model_device_env(device: str) -> Iterator[None]:
    """MUSE_MODEL_DEVICE for the processes started inside (a Ray cluster's replicas inherit `ray start`'s
    environment): CPU replicas must not take a GPU the machine happens to have."""
    before = os.environ.get("MUSE_MODEL_DEVICE")
    os.environ["MUSE_MODEL_DEVICE"] = device
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MUSE_MODEL_DEVICE", None)
        else:
            os.environ["MUSE_MODEL_DEVICE"] = before


def deploy_batch(cluster: Any, engine: str, batch: int, gpus: int) -> None:
    """One replica with `gpus` GPUs and max batch `batch` (max_ongoing_requests raised to hold it)."""
    import yaml

    from tests.ray_cluster import BIN, ENV

    config = cluster.serve_config(1, engine, max_batch_size=batch, batch_wait_timeout_s=0.2)
    (app,) = config["applications"]
    app["args"] = {**app["args"], "num_gpus": gpus, "num_cpus": 1}
    (deployment,) = app["deployments"]
    deployment["max_ongoing_requests"] = max(int(deployment.get("max_ongoing_requests", 0)), batch)
    path = cluster.temp_dir / f"serve-batch-{batch}.yaml"
    path.write_text(yaml.safe_dump(config))
    subprocess.run([str(BIN / "serve"), "run", str(path), "--non-blocking", "--address", cluster.address],
                   env={**os.environ, **ENV}, check=True, capture_output=True, timeout=300, cwd=ROOT)
    cluster.wait_running(1, timeout_s=300)


async def batch_rate(remote: Any, composer: Any, batch: int, rounds: int) -> tuple[Stat, Stat, list[int], str]:
    """Drafts/s with `batch` requests sent together per round (one warm-up round excluded), and
    where the replica's model ran."""
    before = await remote.replica_stats(1)
    rates, seconds = [], []
    for round_ in range(rounds + 1):
        requests = make_requests(composer, batch, 200_000 + 1_000 * round_ + batch)
        started = time.perf_counter()
        await remote.compose_scores(requests)
        elapsed = time.perf_counter() - started
        if round_:
            rates.append(batch / elapsed)
            seconds.append(elapsed)
    sizes, _, _ = stats_delta(before, await remote.replica_stats(1))
    (pid,) = [stats["pid"] for stats in before.values()]
    return Stat.of(rates), Stat.of(seconds), sizes, replica_device(pid)


def measure_gpu(batches: tuple[int, ...], rounds: int, gpus: int = 1) -> GpuFigures:
    """One replica with one GPU, at each max batch size. `gpus=0` runs the same path on CPUs (to try
    the code on a machine without a GPU)."""
    from composer import Composer, default_engine
    from composer_tier.client import RemoteComposer
    from tests.ray_cluster import ray_cluster

    composer = Composer()
    composer.warm_up("rules")
    engine = default_engine()
    rows, devices = [], set()
    cpus = max(2, os.cpu_count() or 2)
    with model_device_env("auto" if gpus else "cpu"), ray_cluster(num_cpus=cpus, num_gpus=gpus) as cluster:
        remote = None
        for batch in batches:
            deploy_batch(cluster, engine, batch, gpus)
            remote = remote or RemoteComposer.connect(cluster.address)
            *row, device = asyncio.run(batch_rate(remote, composer, batch, rounds))
            rows.append((batch, *row))
            devices.add(device)
    check_stopped(cluster)
    return GpuFigures(gpu_visible() or "none (CPU stand-in)", " and ".join(sorted(devices)), rows)


# ================================================================================================
# The section
# ================================================================================================
def _sizes(sizes: list[int]) -> str:
    """Batch sizes seen, e.g. `mean 3.2, max 8 (1×4, 2×3, 4×9)`."""
    if not sizes:
        return "none"
    counts = ", ".join(f"{size}×{n}" for size, n in sorted(Counter(sizes).items()))
    return f"mean {statistics.fmean(sizes):.1f}, max {max(sizes)} ({counts})"


def throughput_table(cpu: CpuFigures) -> str:
    rows = []
    for run in cpu.runs:
        rows.append([run.replicas, "one core each (pinned)" if run.pinned else "as deployed (any core)",
                     str(run.rate), run.latency(50), run.latency(95), _sizes(run.batch_sizes),
                     run.compose_s_per_piece, run.finish_s_per_piece])
    return markdown_table(["replicas", "cores", "pieces/s", "latency p50 (s)", "latency p95 (s)",
                           "batch sizes seen by the replicas", "model pass s per piece",
                           "finish s per piece (its wait for a render thread included)"], rows)


def ratios(cpu: CpuFigures) -> dict[bool, float]:
    """2-replica ÷ 1-replica pieces/s (medians), as deployed (False) and pinned (True)."""
    by = {(r.replicas, r.pinned): r.rate.median for r in cpu.runs}
    return {pinned: by[2, pinned] / by[1, pinned] for pinned in (False, True)
            if (1, pinned) in by and (2, pinned) in by}


def _group_order(name: str) -> tuple[int, str]:
    first = ("replicas", "driver (this process: sends requests, receives pieces)", "Serve controller")
    return (first.index(name) if name in first else len(first), name)


def replica_cores(run: Throughput) -> tuple[float, float]:
    """(cores the replicas got, pieces per replica CPU-second) over a deployment's measured runs."""
    cpu_s = run.window.groups.get("replicas", 0.0)
    return cpu_s / (run.window.wall_s or 1.0), len(run.latencies) / max(1e-9, cpu_s)


def scaling_note(cpu: CpuFigures, pinned: bool) -> str:
    """The ratio split into the cores the replicas got and the work they did per CPU-second:
    pieces/s ≈ cores × pieces per CPU-second."""
    by = {(r.replicas, r.pinned): r for r in cpu.runs}
    if (1, pinned) not in by or (2, pinned) not in by:
        return ""
    (cores1, work1), (cores2, work2) = replica_cores(by[1, pinned]), replica_cores(by[2, pinned])
    others = max(0.0, by[2, pinned].window.machine_s - sum(by[2, pinned].window.groups.values()))
    return (f"the replicas got {cores1:.2f} cores with 1 replica and {cores2:.2f} with 2 ({cores2 / cores1:.2f}×), "
            f"and made {work1:.3f} and {work2:.3f} pieces per CPU-second ({work2 / work1:.2f}×); other processes "
            f"on the machine took {others / (by[2, pinned].window.wall_s or 1.0):.2f} cores during the 2-replica runs")


def cpu_table(cpu: CpuFigures) -> str:
    """Where the CPU went during the measured runs, as cores busy (CPU seconds ÷ wall seconds)."""
    names = sorted({name for run in cpu.runs for name in run.window.groups}, key=_group_order)
    headers = ["replicas", "cores", *names, "all of this cluster and driver", "whole machine",
               "other processes on the machine", "pieces per replica CPU-second"]
    rows = []
    for run in cpu.runs:
        wall = run.window.wall_s or 1.0
        ours = sum(run.window.groups.values())
        rows.append([run.replicas, "pinned" if run.pinned else "as deployed",
                     *[f"{run.window.groups.get(n, 0.0) / wall:.2f}" for n in names], f"{ours / wall:.2f}",
                     f"{run.window.machine_s / wall:.2f}", f"{max(0.0, run.window.machine_s - ours) / wall:.2f}",
                     replica_cores(run)[1]])
    return markdown_table(headers, rows)


def gpu_section(gpu: GpuFigures | None) -> str:
    if gpu is None:
        rows = [[batch, "not measured: no GPU on this machine", ""] for batch in GPU_BATCHES]
        note = (f"No GPU is visible here ({machine()}), so the per-GPU rows are not measured. On a machine "
                "with one, `python -m bench scaleout` deploys one replica with `num_gpus: 1` at each max batch "
                "size (user_config `max_batch_size`) and measures drafts per second.")
        return note + "\n\n" + markdown_table(["batch", "pieces/s per GPU", "s per batch"], rows)
    rows = [[batch, str(rate), str(seconds), _sizes(sizes)] for batch, rate, seconds, sizes in gpu.rows]
    note = (f"GPU: {gpu.device}; one replica with `num_gpus: 1`, a round of `batch` requests sent together, "
            f"drafts (composed, not finished) per second; the replica's model ran on `{gpu.model_device}` "
            "(nvidia-smi's compute processes).")
    if gpu.model_device != "cuda":
        note += " So these rows are the model on the replica's CPU, not on the GPU: not a GPU figure."
    return note + "\n\n" + markdown_table(["batch", "drafts/s per GPU", "s per batch", "batch sizes seen"], rows)


def best_gpu_row(rows: list[tuple[int, Stat, Stat, list[int]]], finish_s: float) -> tuple[int, Stat, Stat, list[int]]:
    """The batch with the most drafts/s whose pass plus finishing still fits the delivery target (a
    bigger batch is faster per piece but makes every piece in it wait for the whole pass)."""
    fitting = [row for row in rows if row[2].median + finish_s <= DELIVERY_P95_S] or rows[:1]
    return max(fitting, key=lambda row: row[1].median)


def capacity_inputs(cpu: CpuFigures, gpu: GpuFigures | None) -> CapacityInputs:
    """μ from the pinned 2-replica run (÷ 2: a replica's core, sharing the machine with Ray and the
    driver, as a node full of replicas would), service from the lone pieces."""
    pinned = {r.replicas: r for r in cpu.runs if r.pinned}
    two = pinned.get(2) or max(cpu.runs, key=lambda r: r.replicas)
    inputs = dict(replica_pieces_per_s=two.rate.median / two.replicas, service_p50_s=percentile(cpu.lone, 50),
                  service_p95_s=percentile(cpu.lone, 95), finish_s_per_piece=cpu.lone_finish_s)
    if gpu is not None and gpu.model_device == "cuda":
        batch, rate, seconds, _ = best_gpu_row(gpu.rows, cpu.lone_finish_s)
        return CapacityInputs(**inputs, gpu_pieces_per_s=rate.median, gpu_service_s=seconds.median,
                              gpu_note=f"measured: {gpu.device}, batch {batch}")
    note = "needs a GPU run" if gpu is None else "needs a GPU run (the engine ran on the CPU)"
    return CapacityInputs(**inputs, gpu_note=note)


def summary(cpu: CpuFigures, inputs: CapacityInputs, rows: list[CapacityRow]) -> str:
    """The figures in a few lines: docs/scale-out.md's Measured section."""
    by = {(r.replicas, r.pinned): r for r in cpu.runs}
    ratio = ratios(cpu)
    lines = [f"Written by `python -m bench scaleout` (`bench/bench_scaleout.py`). Machine: {machine()}. "
             f"Date: {date.today().isoformat()}. Full tables: `docs/benchmarks.md` (section `scaleout`); "
             "capacity and its derivation: `docs/capacity.md`.", ""]
    for pinned, label in ((True, "one core per replica (pinned)"), (False, "as deployed (replicas on any core)")):
        if (1, pinned) in by and (2, pinned) in by:
            one, two = by[1, pinned], by[2, pinned]
            lines.append(f"- Throughput, {label}: 1 replica {one.rate} pieces/s, 2 replicas {two.rate} pieces/s: "
                         f"**{ratio[pinned]:.2f}×** (target ≥ {RATIO_TARGET}×: "
                         f"{'met' if ratio[pinned] >= RATIO_TARGET else 'not met'}). Latency p50 / p95 with "
                         f"{CONCURRENT} in flight: {one.latency(50):.2f} / {one.latency(95):.2f} s (1 replica), "
                         f"{two.latency(50):.2f} / {two.latency(95):.2f} s (2).")
    lines.append(f"- A lone piece through the tier (compose, then finish): p50 {inputs.service_p50_s:.2f} s, "
                 f"p95 {inputs.service_p95_s:.2f} s.")
    lines.append(f"- GPU: {inputs.gpu_note}.")
    lines += ["", capacity_table(rows, inputs.gpu_note)]
    return "\n".join(lines)


def main() -> None:
    runs, pieces, lone = (2, 12, 3) if quick() else (3, 40, 8)
    header(f"Scale-out: the composer tier on Ray Serve, 1 and 2 CPU replicas (medians of {runs} runs)")
    if importlib.util.find_spec("ray") is None:
        print("Not measured: the `scaleout` extra (Ray Serve) is not installed (`pip install '.[scaleout]'`).")
        return
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    cpu = measure_cpu(runs, pieces, lone)
    gpu = measure_gpu(GPU_BATCHES[:2] if quick() else GPU_BATCHES, 2 if quick() else 3) if gpu_visible() else None
    inputs = capacity_inputs(cpu, gpu)
    rows = capacity_rows(inputs)
    print_section(cpu, gpu, inputs, rows, load_before, time.perf_counter() - started)
    write_docs(cpu, inputs, rows)


def print_section(cpu: CpuFigures, gpu: GpuFigures | None, inputs: CapacityInputs, rows: list[CapacityRow],
                  load_before: float, took_s: float) -> None:
    threads = next((r.threads for r in cpu.runs if r.replicas == 2 and r.pinned), [])
    print(f"Produced by `python -m bench scaleout` (`bench/bench_scaleout.py`): a throw-away local Ray cluster "
          "(`tests/ray_cluster.py`, 4 logical CPUs) with the `muse-composer` app deployed from "
          f"`deploy/ray/serve.yaml`, 1 then 2 replicas of 1 CPU each, engine `{cpu.engine}`. This process drives it "
          f"through `RemoteComposer` as the bot does: {CONCURRENT} clients, each asking for a {LENGTH_S} s piano "
          "piece (`compose_scores` of one request, batched on the replica with the other clients' calls, then "
          "`finish` on a replica) and its next one when the piece is back. A run is "
          f"{'12' if quick() else '40'} pieces (seeds vary), after a warm-up of {2 * CONCURRENT} that is not "
          "counted; pieces/s is the run's pieces over its wall time. Each deployment is measured as deployed "
          "(the replica's threads on any core) and with each replica pinned to its own core "
          "(`sched_setaffinity` on all its threads).\n")
    print(throughput_table(cpu))
    ratio = ratios(cpu)
    for pinned, label in ((True, "pinned, one core per replica"), (False, "as deployed")):
        if pinned in ratio:
            print(f"- 2 replicas ÷ 1 replica, {label}: **{ratio[pinned]:.2f}×** (target ≥ {RATIO_TARGET}×: "
                  f"{'met' if ratio[pinned] >= RATIO_TARGET else 'not met'}): {scaling_note(cpu, pinned)}.")
    print(f"- A lone piece through the tier (one request at a time, 1 replica on one core): p50 "
          f"{inputs.service_p50_s:.2f} s, p95 {inputs.service_p95_s:.2f} s over {len(cpu.lone)} pieces; on the "
          f"replica, the model pass {cpu.lone_compose_s:.2f} s and finishing {cpu.lone_finish_s:.2f} s a piece.")
    print("- Deploy (`serve run` to every replica running, model warm): "
          + ", ".join(f"{n} replica(s) {s:.1f} s" for n, s in cpu.deploy_s.items()) + ".")
    print("- Threads per replica: one composing thread (the model samples on one BLAS thread, "
          "composer/melody/model.py `_one_thread`), `finish_threads` render threads = the replica's Ray CPUs (1), "
          "and the pipeline's side thread for the picture; Ray sets OMP_NUM_THREADS to the replica's CPUs (1) "
          "in the worker. Threads that did ≥ 5 % of a replica's CPU in the pinned 2-replica runs (from "
          "/proc/PID/task): " + "; ".join(f"core {t.get('cores')}: {t.get('busy')} of {t.get('threads')} threads "
                                         f"({t.get('shares')})" for t in threads) + ".")
    print("\nWhere the CPU went during the measured runs (cores busy: CPU seconds ÷ wall seconds; 2 at most "
          "here). \"Other processes\" is the rest of the machine: colleagues' work running at the same time.\n")
    print(cpu_table(cpu))
    print(f"\n### Pieces per second per GPU\n\n{gpu_section(gpu)}")
    print(f"### Capacity (derived in `docs/capacity.md`)\n\n{capacity_table(rows, inputs.gpu_note)}")
    print(f"1-minute load average at the start: {load_before:.1f}, at the end: {os.getloadavg()[0]:.1f}. "
          f"The section took {took_s / 60:.1f} min.")


def write_docs(cpu: CpuFigures, inputs: CapacityInputs, rows: list[CapacityRow]) -> None:
    CAPACITY_DOC.write_text(capacity_doc(inputs, rows, machine(), date.today().isoformat()))
    page = SCALE_OUT_DOC.read_text()
    SCALE_OUT_DOC.write_text(replace_section(page, MEASURED, summary(cpu, inputs, rows)))


if __name__ == "__main__":
    main()
