"""The bot under load, through the Discord stand-in, with the real `muse bot` in a subprocess.

1. Burst: 50 members send 100 /compose within 10 s. Every one must be deferred within 3 s and
   end delivered or politely refused by the limits; none lost, none delivered twice.
   Reports p50/p95 time to delivery. Run twice: batching on (MUSE_BATCH_MAX=8) and off (1),
   with no cooldown or caps, to show the batching gain on throughput.
2. Memory: resident memory of the bot process before and after 500 jobs.

Run: `.venv/bin/python -m bench bench_bot` (a few minutes on 2 cores; pieces are 6 s long).
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

from bench.common import header, table  # noqa: E402
from tests.discord_standin import StandIn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LENGTH_S = 6
MEMBERS = 50
REQUESTS = 100
WINDOW_S = 10.0
MEMORY_JOBS = int(os.environ.get("MUSE_BENCH_MEMORY_JOBS", "500"))  # fewer on a busy machine


@dataclass
class Outcome:
    sent_at: float
    acked_after_s: float | None = None
    delivered_after_s: float | None = None
    refused: bool = False
    pieces: int = 0  # deliveries carrying a MIDI file: must be exactly 1 when delivered


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0


def _has_midi(delivery) -> bool:
    return any(n.endswith(".mid") for n in delivery.attachments)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class BotProcess:
    """`muse bot --sync` pointed at the stand-in, with its own data directory."""

    def __init__(self, standin: StandIn, data_dir: Path, **limits: str):
        env = {**os.environ, **standin.env, "MUSE_DATA_DIR": str(data_dir), "MUSE_ENGINE": "model", **limits}
        self.log = open(data_dir / "bot.log", "w")  # a pipe nobody reads would fill and stall the bot
        self.proc = subprocess.Popen([str(ROOT / ".venv/bin/muse"), "bot", "--sync"], env=env, cwd=data_dir,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.standin = standin

    async def __aenter__(self) -> "BotProcess":
        await self.standin.wait_synced(timeout=60)
        await asyncio.sleep(0.5)  # READY follows the sync
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


async def _one(standin: StandIn, user, outcome: Outcome, timeout_s: float) -> None:
    ix = await standin.slash("compose", prompt=random.choice(PROMPTS), length=LENGTH_S, user=user)
    ack = await ix.ack(timeout=10)
    outcome.acked_after_s = ix.acked_after_s
    if ack.callback_type == 4:
        outcome.refused = ack.ephemeral and "try again" in ack.content
        return
    done = await ix.wait_for(_has_midi, timeout=timeout_s)
    outcome.delivered_after_s = done.at - outcome.sent_at
    await asyncio.sleep(0.5)  # anything sent twice would show up here
    outcome.pieces = sum(1 for d in ix.deliveries if _has_midi(d) and d.kind != "callback")


PROMPTS = ["happy birthday", "a slow sad piano song", "an epic adventure", "a chill evening", "a spooky night",
           "a lullaby for my daughter", "a jazzy tune", "retro game music", "a proud march", "dance all night"]


async def burst(limits: dict[str, str], timeout_s: float = 240) -> Run:
    """MEMBERS members send REQUESTS /compose spread over WINDOW_S seconds."""
    random.seed(1)
    async with StandIn() as standin:
        users = [standin.add_user(f"member{i}") for i in range(MEMBERS)]
        with tempfile.TemporaryDirectory(prefix="muse-bench-bot-") as tmp:
            async with BotProcess(standin, Path(tmp), **limits):
                run = Run()
                started = time.monotonic()
                tasks = []
                for i in range(REQUESTS):
                    await asyncio.sleep(max(0.0, started + i * WINDOW_S / REQUESTS - time.monotonic()))
                    outcome = Outcome(sent_at=time.monotonic())
                    run.outcomes.append(outcome)
                    tasks.append(asyncio.create_task(_one(standin, users[i % MEMBERS], outcome, timeout_s)))
                results = await asyncio.gather(*tasks, return_exceptions=True)
                run.wall_s = time.monotonic() - started
                for r in results:
                    if isinstance(r, BaseException):
                        print(f"  (a request failed in the bench: {type(r).__name__}: {r})", file=sys.stderr)
                return run


async def memory(jobs: int = MEMORY_JOBS, concurrency: int = 25) -> tuple[float, float, float, int]:
    """RSS (MiB) after start-up, after 50 warm-up jobs, after `jobs` more; and how many were delivered."""
    async with StandIn() as standin:
        users = [standin.add_user(f"member{i}") for i in range(concurrency)]
        with tempfile.TemporaryDirectory(prefix="muse-bench-mem-") as tmp:
            limits = {"MUSE_COOLDOWN_S": "0", "MUSE_GUILD_ACTIVE_MAX": "1000", "MUSE_QUEUE_MAX": "1000"}
            async with BotProcess(standin, Path(tmp), **limits) as bot:
                start_mb = _rss_mb(bot.proc.pid)
                delivered = 0

                async def member(user, count: int) -> None:
                    nonlocal delivered
                    for _ in range(count):
                        ix = await standin.slash("compose", prompt=random.choice(PROMPTS), length=LENGTH_S, user=user)
                        await ix.wait_for(_has_midi, timeout=120)
                        delivered += 1
                    standin.recorder.deliveries.clear()  # the stand-in keeps every file; the bot must not

                await asyncio.gather(*(member(u, 50 // concurrency) for u in users))
                warm_mb = _rss_mb(bot.proc.pid)
                delivered = 0
                await asyncio.gather(*(member(u, jobs // concurrency) for u in users))
                return start_mb, warm_mb, _rss_mb(bot.proc.pid), delivered


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else (values or [float("nan")])[0]


def _summary(name: str, run: Run) -> list[object]:
    delivered = [o for o in run.outcomes if o.delivered_after_s is not None]
    refused = [o for o in run.outcomes if o.refused]
    lost = len(run.outcomes) - len(delivered) - len(refused)
    late = sum(1 for o in run.outcomes if o.acked_after_s is None or o.acked_after_s >= 3.0)
    twice = sum(1 for o in delivered if o.pieces != 1)
    times = [o.delivered_after_s for o in delivered]
    acks = [o.acked_after_s for o in run.outcomes if o.acked_after_s is not None]
    last = max((o.sent_at + o.delivered_after_s for o in delivered), default=0.0)
    first = min(o.sent_at for o in run.outcomes)
    throughput = len(delivered) / (last - first) if delivered else 0.0
    return [name, len(run.outcomes), len(delivered), len(refused), lost, twice, late, max(acks, default=0.0),
            _pct(times, 50), _pct(times, 95), throughput]


def main() -> None:
    parts = os.environ.get("MUSE_BENCH_BOT_PARTS", "burst,memory").split(",")
    header("Discord bot under load (through the stand-in)")
    print(f"{MEMBERS} members send {REQUESTS} `/compose` (length {LENGTH_S} s, model engine) within "
          f"{WINDOW_S:.0f} s to `muse bot` running in a subprocess against the loopback stand-in.\n")
    runs = [
        ("default limits (cooldown 3 s, 3 per member, 20 per server), batch 8", {}),
        ("no cooldown or caps, batch 8", {"MUSE_COOLDOWN_S": "0", "MUSE_GUILD_ACTIVE_MAX": "1000",
                                          "MUSE_QUEUE_MAX": "1000", "MUSE_BATCH_MAX": "8"}),
        ("no cooldown or caps, batch 1 (one at a time)", {"MUSE_COOLDOWN_S": "0", "MUSE_GUILD_ACTIVE_MAX": "1000",
                                                          "MUSE_QUEUE_MAX": "1000", "MUSE_BATCH_MAX": "1"}),
    ]
    rows = []
    for name, limits in runs if "burst" in parts else []:
        rows.append(_summary(name, asyncio.run(burst(limits))))
    if rows:
        table(["run", "sent", "delivered", "politely refused", "lost", "delivered ≠ once", "deferred ≥ 3 s",
               "slowest defer (s)", "p50 to delivery (s)", "p95 to delivery (s)", "delivered / s"], rows)
    if rows:
        gain = rows[1][-1] / rows[2][-1] if rows[2][-1] else float("nan")
        print(f"\nBatching gain (throughput, batch 8 vs 1): {gain:.2f}x.\n")
    if "memory" not in parts:
        return
    start_mb, warm_mb, end_mb, delivered = asyncio.run(memory())
    table(["bot resident memory", "MiB"], [["after start-up", start_mb], ["after 50 warm-up jobs", warm_mb],
                                           [f"after {delivered} more jobs", end_mb],
                                           ["growth over those jobs", end_mb - warm_mb]])


if __name__ == "__main__":
    main()
