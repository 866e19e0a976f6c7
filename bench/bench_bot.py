"""The bot under load, through the Discord stand-in: the real `muse bot --sync` (model engine) in a
subprocess, members played by the real stand-in.

1. Members at once (1, 8, 10, 50; closed loop: each member asks again as soon as its piece is
   delivered): time to defer, p50/p95 time to delivery, pieces per second, with default batching
   and with MUSE_BATCH_MAX=1, whose ratio is the batching gain; at 8 members also one at a time
   altogether (batch 1 and one render thread).
2. Burst: 50 members send 100 /compose within 10 s, with the default limits and with the caps
   lifted. Every one must be deferred within 3 s and end delivered exactly once or politely
   refused; none lost. The bot's peak resident memory (VmHWM) is read at the end of the run.
3. Steady: 20 requests per 10 s spread over 50 members for 40 s; target p95 to delivery ≤ 30 s.
4. Memory: resident memory idle after start, after 50 jobs and after 500 more (no leak: within 10 %).
5. Cold start: process start to READY (commands synced on the way), median over every bot start.

Pieces are 30 s long (LENGTH_S), except in the memory run (MEMORY_LENGTH_S = 6 s: 550 pieces of 30 s
would take longer than the rest together on 2 cores). Quick mode (MUSE_BENCH_QUICK=1) runs fewer
members, requests and jobs through the same code.

Run: `.venv/bin/python -m bench --no-docs bot` (about 15 minutes on 2 cores; quick: a few).
MUSE_BENCH_BOT_PARTS=load,burst,steady,memory picks parts; MUSE_BENCH_MEMORY_JOBS sets the memory run.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Stat, header, quick, table  # noqa: E402
from tests.discord_standin import StandIn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
LENGTH_S = 30
CONCURRENCY_PLOT = ROOT / "docs" / "bench_concurrency.png"
MEMORY_LENGTH_S = 6
MEMBERS = 50
LEVELS = {1: 2, 8: 8} if QUICK else {1: 3, 8: 16, 10: 20, 50: 50}  # members at once → jobs
BURST_REQUESTS, BURST_WINDOW_S = (24, 3.0) if QUICK else (100, 10.0)
STEADY_PER_S, STEADY_S = 2.0, (10.0 if QUICK else 40.0)
MEMORY_JOBS = int(os.environ.get("MUSE_BENCH_MEMORY_JOBS", "50" if QUICK else "500"))
LIFTED = {"MUSE_COOLDOWN_S": "0", "MUSE_GUILD_ACTIVE_MAX": "1000", "MUSE_QUEUE_MAX": "1000"}
DEFER_S, STEADY_P95_S = 3.0, 30.0
WAIT_S = 600.0  # for one piece; a request still waiting then counts as lost

PROMPTS = ["happy birthday", "a slow sad piano song", "an epic adventure", "a chill evening", "a spooky night",
           "a lullaby for my daughter", "a jazzy tune", "retro game music", "a proud march", "dance all night"]

QUICK_NOTE = " Quick mode: fewer requests; its figures check the code paths, too few to judge the targets."
COLD_STARTS: list[float] = []  # seconds from process start to READY, every bot this run started


def _has_midi(delivery) -> bool:
    return any(n.endswith(".mid") for n in delivery.attachments)


def _status_mb(pid: int, field_name: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return (values or [float("nan")])[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class BotProcess:
    """`muse bot --sync` pointed at the stand-in, with its own data directory; `ready_s` is the
    time from process start to READY (set on entry)."""

    def __init__(self, standin: StandIn, data_dir: Path, **limits: str):
        env = {**os.environ, **standin.env, "MUSE_DATA_DIR": str(data_dir), "MUSE_ENGINE": "model", **limits}
        self.log = open(data_dir / "bot.log", "w")  # a pipe nobody reads would fill and stall the bot
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(ROOT / ".venv/bin/muse"), "bot", "--sync"], env=env, cwd=data_dir,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.standin = standin
        self.ready_s = float("nan")

    async def __aenter__(self) -> "BotProcess":
        await self.standin.wait_synced(timeout=120)
        await self.standin.wait_ready(timeout=60)
        self.ready_s = time.monotonic() - self.started
        await asyncio.sleep(0.5)  # discord.py handles READY
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@dataclass
class Outcome:
    sent_at: float
    interaction_id: int = 0
    acked_after_s: float | None = None
    delivered_after_s: float | None = None
    refused: bool = False
    pieces: int = 0  # deliveries carrying a MIDI file: exactly 1 when delivered


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    peak_mb: float = float("nan")  # the bot's VmHWM at the end of the run

    def delivered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.delivered_after_s is not None]

    def times(self) -> list[float]:
        return [o.delivered_after_s for o in self.delivered()]

    def lost(self) -> int:
        return len(self.outcomes) - len(self.delivered()) - sum(o.refused for o in self.outcomes)

    def not_once(self) -> int:
        return sum(1 for o in self.delivered() if o.pieces != 1)

    def late(self) -> int:
        return sum(1 for o in self.outcomes if o.acked_after_s is None or o.acked_after_s >= DEFER_S)

    def acks(self) -> list[float]:
        return [o.acked_after_s for o in self.outcomes if o.acked_after_s is not None]

    def throughput(self) -> float:
        done = self.delivered()
        if not done:
            return 0.0
        last = max(o.sent_at + o.delivered_after_s for o in done)
        return len(done) / (last - min(o.sent_at for o in self.outcomes))


class Bench:
    """A stand-in with MEMBERS members and one bot process; `compose` plays one member's request."""

    def __init__(self, limits: dict[str, str]):
        self.limits = limits

    async def __aenter__(self) -> "Bench":
        self.standin = await StandIn().__aenter__()
        self.users = [self.standin.add_user(f"member{i}") for i in range(MEMBERS)]
        self.tmp = tempfile.TemporaryDirectory(prefix="muse-bench-bot-")
        try:
            self.bot = await BotProcess(self.standin, Path(self.tmp.name), **self.limits).__aenter__()
        except BaseException:
            print((Path(self.tmp.name) / "bot.log").read_text()[-3000:], file=sys.stderr)
            raise
        COLD_STARTS.append(self.bot.ready_s)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.bot.__aexit__(*exc)
        finally:
            await self.standin.__aexit__(*exc)
            self.tmp.cleanup()

    async def compose(self, user, outcome: Outcome, length_s: int = LENGTH_S) -> None:
        recorder = self.standin.recorder
        since = len(recorder.deliveries)
        ix = await self.standin.slash("compose", prompt=random.choice(PROMPTS), length=length_s, user=user)
        iid = outcome.interaction_id = ix.record.id
        ack = await recorder.wait_delivery(lambda d: d.interaction_id == iid and d.kind == "callback", 10, since=since)
        outcome.acked_after_s = ix.acked_after_s
        if ack.callback_type == 4:
            outcome.refused = ack.ephemeral and "try again" in ack.content
            return
        done = await recorder.wait_delivery(lambda d: d.interaction_id == iid and _has_midi(d), WAIT_S, since=since)
        outcome.delivered_after_s = done.at - outcome.sent_at

    async def settle(self, run: Run) -> Run:
        """Count each request's pieces once everything is in (a second copy would show up here), read
        the peak memory, and drop the stand-in's copies of the files."""
        await asyncio.sleep(1.0)
        pieces: dict[int, int] = {}
        for d in self.standin.recorder.deliveries:
            if d.kind != "callback" and d.interaction_id is not None and _has_midi(d):
                pieces[d.interaction_id] = pieces.get(d.interaction_id, 0) + 1
        for o in run.outcomes:
            o.pieces = pieces.get(o.interaction_id, 0)
        run.peak_mb = _status_mb(self.bot.proc.pid, "VmHWM")
        self.standin.recorder.deliveries.clear()
        return run

    async def gather(self, tasks: list[asyncio.Task]) -> None:
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                print(f"  (a request failed in the bench: {type(result).__name__}: {result})", file=sys.stderr)

    async def closed_loop(self, members: int, jobs: int, length_s: int = LENGTH_S) -> Run:
        """`members` members each ask again as soon as their piece is delivered, `jobs` in all."""
        run = Run()

        async def member(user) -> None:
            for _ in range(jobs // members):
                outcome = Outcome(sent_at=time.monotonic())
                run.outcomes.append(outcome)
                await self.compose(user, outcome, length_s)

        await self.gather([asyncio.create_task(member(u)) for u in self.users[:members]])
        return await self.settle(run)

    async def open_loop(self, requests: int, window_s: float) -> Run:
        """`requests` requests evenly spread over `window_s`, from the members in turn."""
        run, tasks, started = Run(), [], time.monotonic()
        for i in range(requests):
            await asyncio.sleep(max(0.0, started + i * window_s / requests - time.monotonic()))
            outcome = Outcome(sent_at=time.monotonic())
            run.outcomes.append(outcome)
            tasks.append(asyncio.create_task(self.compose(self.users[i % MEMBERS], outcome)))
        await self.gather(tasks)
        return await self.settle(run)


async def load_levels(limits: dict[str, str], levels: dict[int, int]) -> dict[int, Run]:
    random.seed(1)
    async with Bench({**LIFTED, **limits}) as bench:
        return {members: await bench.closed_loop(members, jobs) for members, jobs in levels.items()}


async def burst(limits: dict[str, str]) -> Run:
    random.seed(2)
    async with Bench(limits) as bench:
        return await bench.open_loop(BURST_REQUESTS, BURST_WINDOW_S)


async def steady() -> Run:
    random.seed(3)
    async with Bench(LIFTED) as bench:
        return await bench.open_loop(int(STEADY_PER_S * STEADY_S), STEADY_S)


async def memory(jobs: int = MEMORY_JOBS, concurrency: int = 25) -> dict[str, float]:
    """Resident memory (MiB) idle after start, after 50 jobs and after `jobs` more (6 s pieces)."""
    random.seed(4)
    async with Bench(LIFTED) as bench:
        pid = bench.bot.proc.pid
        await asyncio.sleep(2.0)
        out = {"idle": _status_mb(pid, "VmRSS")}
        warm = await bench.closed_loop(concurrency, 50, MEMORY_LENGTH_S)
        out["after 50"] = _status_mb(pid, "VmRSS")
        more = Run()
        for _ in range(jobs // 50):  # in rounds of 50, so the stand-in's copies of the files are dropped
            more.outcomes += (await bench.closed_loop(concurrency, 50, MEMORY_LENGTH_S)).outcomes
        out["after more"] = _status_mb(pid, "VmRSS")
        out["peak"] = _status_mb(pid, "VmHWM")
        out["delivered"] = len(warm.delivered()) + len(more.delivered())
        out["more"] = len(more.delivered())
        out["lost"] = float(warm.lost() + more.lost())
        return out


def _row(name: str, run: Run) -> list[object]:
    times = run.times()
    return [name, len(run.outcomes), len(run.delivered()), sum(o.refused for o in run.outcomes), run.lost(),
            run.not_once(), run.late(), _pct(run.acks(), 50), max(run.acks(), default=float("nan")),
            _pct(times, 50), _pct(times, 95), run.throughput()]


COLUMNS = ["run", "sent", "delivered", "politely refused", "lost", "delivered ≠ once", f"deferred ≥ {DEFER_S:.0f} s",
           "defer p50 (s)", "slowest defer (s)", "p50 to delivery (s)", "p95 to delivery (s)", "pieces / s"]


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report_load() -> None:
    batched = asyncio.run(load_levels({}, LEVELS))
    single = asyncio.run(load_levels({"MUSE_BATCH_MAX": "1"}, LEVELS))
    alone = asyncio.run(load_levels({"MUSE_BATCH_MAX": "1", "MUSE_RENDER_THREADS": "1"}, {8: LEVELS[8]}))
    print(f"\n### Members at once ({LENGTH_S} s pieces, caps and cooldown lifted)\n")
    print("Each member asks again as soon as its piece is delivered. Default batching is MUSE_BATCH_MAX=8 "
          "with one render thread per core; batch 1 composes one request per model pass.\n")
    rows = []
    for members in LEVELS:
        rows.append(_row(f"{members} at once, batch 8", batched[members]))
        rows.append(_row(f"{members} at once, batch 1", single[members]))
    rows.append(_row("8 at once, batch 1 and one render thread", alone[8]))
    table(COLUMNS, rows)
    print()
    for members in LEVELS:
        gain = batched[members].throughput() / (single[members].throughput() or float("nan"))
        line = f"- Batching gain at {members} at once (pieces/s, batch 8 over batch 1): {gain:.2f}x"
        if members == 8:
            over_alone = batched[8].throughput() / (alone[8].throughput() or float("nan"))
            line += (f" (target ≥ 3x: {_met(gain >= 3)}); over one at a time altogether (batch 1, one render "
                     f"thread): {over_alone:.2f}x")
        print(line + ".")
    plot_concurrency({"batch 8": {m: batched[m].throughput() for m in LEVELS},
                      "batch 1": {m: single[m].throughput() for m in LEVELS}}, CONCURRENCY_PLOT)
    print(f"\nThroughput against members at once: `docs/{CONCURRENCY_PLOT.name}`.")


def plot_concurrency(series: dict[str, dict[int, float]], path: Path) -> None:
    """Pieces per second against members composing at once, one line per batching setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, points in series.items():
        members = sorted(points)
        ax.plot(members, [points[m] for m in members], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("members composing at once")
    ax.set_ylabel(f"pieces delivered per second ({LENGTH_S} s pieces)")
    ax.set_title("Muse bot (model engine): throughput against concurrency")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def report_burst() -> float:
    runs = [("default limits (cooldown 3 s, 3 per member, 20 per server)", burst({})),
            ("caps and cooldown lifted", burst(LIFTED))]
    print(f"\n### Burst: {MEMBERS} members send {BURST_REQUESTS} `/compose` within {BURST_WINDOW_S:.0f} s "
          f"({LENGTH_S} s pieces, batch 8)\n")
    done = [(name, asyncio.run(coro)) for name, coro in runs]
    table(COLUMNS, [_row(name, run) for name, run in done])
    print()
    for name, run in done:
        ok = run.late() == 0 and run.lost() == 0 and run.not_once() == 0
        print(f"- {name}: all deferred within {DEFER_S:.0f} s, none lost, each delivered exactly once: {_met(ok)}.")
    return done[-1][1].peak_mb


def report_steady() -> float:
    run = asyncio.run(steady())
    print(f"\n### Steady: {STEADY_PER_S * 10:.0f} requests per 10 s over {MEMBERS} members for {STEADY_S:.0f} s "
          f"({LENGTH_S} s pieces, batch 8, caps lifted)\n")
    table(COLUMNS, [_row("steady", run)])
    p95 = _pct(run.times(), 95)
    print(f"\n- p95 to delivery {p95:.1f} s (target ≤ {STEADY_P95_S:.0f} s: "
          f"{_met(p95 <= STEADY_P95_S and run.lost() == 0)}).")
    return run.peak_mb


def report_memory(burst_peak_mb: float, steady_peak_mb: float) -> None:
    m = asyncio.run(memory())
    growth = m["after more"] - m["after 50"]
    print("\n### Resident memory of the bot process\n")
    table(["when", "MiB"], [
        ["idle, after start", m["idle"]],
        [f"peak (VmHWM) over the burst with caps lifted ({LENGTH_S} s pieces)", burst_peak_mb],
        [f"peak (VmHWM) over the steady run ({LENGTH_S} s pieces)", steady_peak_mb],
        [f"after 50 jobs ({MEMORY_LENGTH_S} s pieces, 25 members at once)", m["after 50"]],
        [f"after {m['more']:.0f} more jobs", m["after more"]],
        ["peak (VmHWM) over those jobs", m["peak"]],
        ["growth over those jobs", f"{growth:.1f} ({100 * growth / m['after 50']:.1f} %)"],
    ])
    print(f"\n- Memory after {m['more']:.0f} more jobs within 10 % of after 50: "
          f"{_met(abs(growth) <= 0.1 * m['after 50'] and m['lost'] == 0)} ({m['lost']:.0f} lost).")


def report_cold_start() -> None:
    if not COLD_STARTS:
        return
    print(f"\n### Cold start\n\n`muse bot --sync` from process start to READY (model loaded, commands synced "
          f"through the stand-in), over the {len(COLD_STARTS)} starts of this run: "
          f"{Stat.of(COLD_STARTS)} s (median (min–max)).")


def main() -> None:
    parts = os.environ.get("MUSE_BENCH_BOT_PARTS", "load,burst,steady,memory").split(",")
    COLD_STARTS.clear()
    started = time.monotonic()
    header("Discord bot under load (through the stand-in)")
    print(f"`muse bot --sync` with the model engine runs in a subprocess against the loopback Discord stand-in; "
          f"the real discord.py client answers the stand-in's members.{QUICK_NOTE if QUICK else ''}"
          f" \"Politely refused\" is an ephemeral one-line answer that says when to try again; \"lost\" is a "
          f"request neither delivered nor refused.")
    if "load" in parts:
        report_load()
    burst_peak = report_burst() if "burst" in parts else float("nan")
    steady_peak = report_steady() if "steady" in parts else float("nan")
    if "memory" in parts:
        report_memory(burst_peak, steady_peak)
    report_cold_start()
    print(f"\nThis section took {(time.monotonic() - started) / 60:.1f} min to measure.")


if __name__ == "__main__":
    main()
