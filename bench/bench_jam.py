"""The daily jam under load (issue #14): 200 servers whose jams are due in the same minute.

The real `muse bot --sync` (model engine) runs in a subprocess against the loopback Discord
stand-in, which holds 200 extra servers, each with a `jams` channel, an owner (Manage Server) and
the bot, all created before the bot connects. Once the bot is up:

1. Each server's schedule is written straight into the bot's database
   (`db.jams.set_schedule(JamSchedule(...))`, from this process: SQLite in WAL mode), all due at the
   next whole UTC minute at least `LEAD_S` away, in eight time zones (the local HH:MM differs, the
   instant is the same).
2. Each owner sends `/jam on`, so the bot reads the stored schedule and calls
   `JamScheduler.upsert`; its APScheduler job then fires at that minute, as on any real day (the
   real scheduler path, not a direct `runner.on_due` call).
3. From the due minute on, 20 members (one in each of 20 of those servers) send `/compose`
   (length 10 s), one every `MEMBER_EVERY_S` seconds.

Measured from the due minute: when each announcement ("Today's jam…") and each example piece
(the status reply edited with the MIDI file) reaches the stand-in; each member's time to the
interaction callback (defer, or a polite refusal) and to their piece; the bot's peak RSS; how
many writes per second the bot sent. The example keeps the product's length (30 s; a prompt
drawing a "sting" asks for 15 or 20 s). The stand-in answers at once and has no rate limits, so
Discord's limits (50 requests/s per bot) are reported, not enforced.

Waiting stops at due + 10 min (the demand) or 11.5 min after the bench started, whichever comes
first, so the whole run stays under 12 minutes.

Run: `.venv/bin/python -m bench jam` (7m44s on the 2-core machine; never more than 12 minutes); the
runner writes the printed section into docs/benchmarks.md. `make bench-quick` uses 20 servers;
MUSE_BENCH_JAM_GUILDS and MUSE_BENCH_JAM_MEMBER_EVERY_S set a smoke run by hand (e.g. 10 and 1). Limits for the bot come from the environment as for
`muse bot` (e.g. MUSE_QUEUE_MAX=1000).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_bot import PROMPTS, BotProcess  # noqa: E402
from bench.common import header, quick, table  # noqa: E402
from storage import JamSchedule, database_path, open_database  # noqa: E402
from tests.discord_standin import StandIn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Daily jam: 200 servers due in the same minute"

GUILDS = int(os.environ.get("MUSE_BENCH_JAM_GUILDS", "20" if quick() else "200"))
MEMBERS = 20
MEMBER_LENGTH_S = 10
MEMBER_EVERY_S = float(os.environ.get("MUSE_BENCH_JAM_MEMBER_EVERY_S", "20"))  # due + 1 s, 21 s, … 381 s
LEAD_S = 25.0  # the due minute is at least this far after the bot is up (schedules + /jam on)
DEMAND_S = 600.0  # all 200 posted within 10 minutes
DEFER_S = 3.0  # Discord's deadline for the interaction callback
HARD_STOP_S = 690.0  # after the bench started: stop waiting, whatever is left
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "America/Los_Angeles",
         "Australia/Sydney", "Asia/Kathmandu"]


@dataclass
class Member:
    user: object
    channel: object
    send_at: float  # monotonic
    ix_id: int | None = None
    created: float | None = None
    acked_after_s: float | None = None
    callback_type: int | None = None
    refusal: str = ""
    delivered_after_s: float | None = None
    error: str = ""


@dataclass
class Server:
    guild: object
    channel: object
    owner: object
    zone: str = "UTC"
    announced_at: float | None = None
    announcements: int = 0
    status_at: float | None = None
    example_at: float | None = None
    examples: int = 0
    status_edits: int = 0
    voice: str = ""
    length: str = ""
    failed: str = ""


class Watch:
    """Reads every write the bot makes, once, as it lands (and drops it, so memory stays flat and
    nothing rescans a growing list)."""

    def __init__(self, standin: StandIn, servers: list[Server]):
        self.standin = standin
        self.by_channel = {s.channel.id: s for s in servers}
        self.callbacks: dict[int, tuple[float, int, str]] = {}  # interaction id → (at, type, content)
        self.pieces: dict[int, float] = {}  # interaction id → first delivery with a MIDI file
        self.writes: list[float] = []  # every accepted write, for the request rate
        self.status_edit_times: list[float] = []

    def scan(self) -> None:
        deliveries = self.standin.recorder.deliveries
        new = list(deliveries)
        deliveries.clear()
        for d in new:
            self.writes.append(d.at)
            midi = d.message is not None and any(n.endswith(".mid") for n in d.message.files)
            if d.interaction_id is not None:
                if d.kind == "callback" and d.interaction_id not in self.callbacks:
                    self.callbacks[d.interaction_id] = (d.at, d.callback_type or 0, d.content)
                elif midi and d.interaction_id not in self.pieces:
                    self.pieces[d.interaction_id] = d.at
                continue
            server = self.by_channel.get(d.channel_id or 0)
            if server is None:
                continue
            if d.kind == "message" and "Today's jam" in d.content:
                server.announcements += 1
                server.announced_at = server.announced_at or d.at
            elif d.kind == "message" and "on its way" in d.content:
                server.status_at = server.status_at or d.at
            elif d.kind in ("edit_message", "message") and midi:
                server.examples += 1
                if server.example_at is None:
                    server.example_at = d.at
                    fields = {f["name"]: f["value"] for e in d.embeds[:1] for f in e.get("fields", [])}
                    server.voice, server.length = fields.get("Voice", "?"), fields.get("Length", "?")
            elif d.kind == "edit_message":
                if d.content.startswith("Sorry"):
                    server.failed = d.content
                else:
                    server.status_edits += 1
                    self.status_edit_times.append(d.at)

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.05)


def _proc(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _peak_rate(times: list[float], window_s: float) -> float:
    """Most writes in any window of `window_s` seconds, per second."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] < t - window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best / window_s


def _build_world(standin: StandIn) -> tuple[list[Server], list[Member]]:
    world = standin.world
    servers = []
    for i in range(GUILDS):
        owner = world.add_user(f"owner{i}")
        guild = world.add_guild(f"Jam server {i}", owner)
        channel = world.add_channel(guild, "jams")
        world.add_member(guild, owner, admin=True)
        world.add_member(guild, world.bot)
        servers.append(Server(guild, channel, owner, ZONES[i % len(ZONES)]))
    members = []
    step = max(1, GUILDS // MEMBERS)
    for i in range(MEMBERS):
        guild = servers[(i * step) % GUILDS].guild
        user = world.add_user(f"member{i}")
        world.add_member(guild, user)
        members.append(Member(user, world.add_channel(guild, "general"), send_at=0.0))
    return servers, members


async def _write_schedules(data_dir: Path, servers: list[Server], due: datetime) -> None:
    async with open_database(database_path(data_dir)) as db:
        for s in servers:
            local = due.astimezone(ZoneInfo(s.zone))
            await db.jams.set_schedule(JamSchedule(guild_id=s.guild.id, channel_id=s.channel.id,
                                                   time_of_day=local.strftime("%H:%M"), timezone=s.zone,
                                                   enabled=True, created_by=s.owner.id))


async def _member(standin: StandIn, m: Member) -> None:
    await asyncio.sleep(max(0.0, m.send_at - time.monotonic()))
    try:
        ix = await standin.slash("compose", prompt=random.choice(PROMPTS), length=MEMBER_LENGTH_S,
                                 user=m.user, channel=m.channel)
        m.ix_id, m.created = ix.id, ix.record.created
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the run goes on
        m.error = f"{type(exc).__name__}: {exc}"


@dataclass
class Result:
    servers: list[Server]
    members: list[Member]
    due: datetime
    ready_s: float = 0.0  # bench start → bot up
    jam_on_s: float = 0.0  # 200 /jam on answered
    jam_on_ok: int = 0
    waited_s: float = 0.0  # due → stop waiting
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0  # VmHWM of the bot process
    cpu_s: float = 0.0  # bot process CPU seconds from due to the end
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at due and at the end
    peak_writes_1s: float = 0.0
    peak_writes_10s: float = 0.0
    peak_status_edits_10s: float = 0.0
    writes_total: int = 0
    log_errors: list[str] = field(default_factory=list)
    catch_up: bool = False
    due_mono: float = 0.0


async def run_jam() -> Result:
    bench_started = time.monotonic()
    random.seed(14)
    async with StandIn(ack_deadline_s=None) as standin:  # late defers are measured, not dropped
        servers, members = _build_world(standin)
        with tempfile.TemporaryDirectory(prefix="muse-bench-jam-") as tmp:
            data_dir = Path(tmp)
            async with BotProcess(standin, data_dir) as bot:
                await standin.wait_ready(timeout=60)
                await asyncio.sleep(3.0)  # discord.py waits 2 s after the last GUILD_CREATE
                pid = bot.proc.pid
                watch = Watch(standin, servers)
                watcher = asyncio.create_task(watch.run())
                try:
                    return await _drive(standin, data_dir, pid, watch, servers, members, bench_started, bot)
                finally:
                    watcher.cancel()


async def _drive(standin: StandIn, data_dir: Path, pid: int, watch: Watch, servers: list[Server],
                 members: list[Member], bench_started: float, bot: BotProcess) -> Result:
    ready_s = time.monotonic() - bench_started
    now = datetime.now(timezone.utc)
    due = (now + timedelta(seconds=LEAD_S)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    due_mono = time.monotonic() + (due - now).total_seconds()
    result = Result(servers, members, due, ready_s=ready_s, due_mono=due_mono)

    # 1. schedules straight into the database; 2. each owner's /jam on makes the scheduler upsert it
    await _write_schedules(data_dir, servers, due)
    started = time.monotonic()
    handles = await asyncio.gather(*(standin.slash("jam on", user=s.owner, channel=s.channel) for s in servers))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(h.id in watch.callbacks for h in handles):
        await asyncio.sleep(0.1)
    result.jam_on_s = time.monotonic() - started
    result.jam_on_ok = sum(1 for h in handles if "back" in watch.callbacks.get(h.id, (0, 0, ""))[2])
    if time.monotonic() > due_mono - 2:
        print(f"  (warning: /jam on took {result.jam_on_s:.1f} s; the due minute may have passed)", file=sys.stderr)

    # 3. members, spread over the run
    for i, m in enumerate(members):
        m.send_at = due_mono + 1.0 + i * MEMBER_EVERY_S
    member_tasks = [asyncio.create_task(_member(standin, m)) for m in members]

    await asyncio.sleep(max(0.0, due_mono - time.monotonic()))
    result.rss_before_mb = _proc(pid, "VmRSS")
    result.load = (os.getloadavg()[0], 0.0)
    cpu_at_due = _cpu_s(pid)
    stop_at = min(due_mono + DEMAND_S, bench_started + HARD_STOP_S)

    def done() -> bool:
        if any(s.example_at is None and not s.failed for s in servers):
            return False
        if not all(t.done() for t in member_tasks):
            return False
        for m in members:
            cb = watch.callbacks.get(m.ix_id or -1)
            if m.ix_id is not None and (cb is None or (cb[1] == 5 and m.ix_id not in watch.pieces)):
                return False
        return True

    last_report = time.monotonic()
    while time.monotonic() < stop_at and not done():
        await asyncio.sleep(0.5)
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            print(f"  t={time.monotonic() - due_mono:5.0f} s: {sum(s.announced_at is not None for s in servers)}"
                  f" announced, {sum(s.example_at is not None for s in servers)} examples, "
                  f"RSS {_proc(pid, 'VmRSS'):.0f} MiB", file=sys.stderr, flush=True)
    result.waited_s = time.monotonic() - due_mono
    watch.scan()
    for t in member_tasks:
        t.cancel()
    result.cpu_s = _cpu_s(pid) - cpu_at_due
    result.rss_peak_mb = _proc(pid, "VmHWM")
    result.load = (result.load[0], os.getloadavg()[0])

    for m in members:
        cb = watch.callbacks.get(m.ix_id or -1)
        if cb is not None and m.created is not None:
            m.acked_after_s, m.callback_type = cb[0] - m.created, cb[1]
            if cb[1] == 4:
                m.refusal = cb[2]
        if m.ix_id in watch.pieces and m.created is not None:
            m.delivered_after_s = watch.pieces[m.ix_id] - m.created
    writes = [t for t in watch.writes if t >= due_mono]
    result.writes_total = len(writes)
    result.peak_writes_1s = _peak_rate(writes, 1.0)
    result.peak_writes_10s = _peak_rate(writes, 10.0)
    result.peak_status_edits_10s = _peak_rate(watch.status_edit_times, 10.0)
    bot.log.flush()
    log_text = (data_dir / "bot.log").read_text(errors="replace")
    (Path(tempfile.gettempdir()) / "muse-bench-jam-bot.log").write_text(log_text)  # kept for a look afterwards
    result.log_errors = [line for line in log_text.splitlines() if (" ERROR" in line or "Traceback" in line
                         or "WARNING" in line) and "voice will NOT be supported" not in line][:50]
    result.catch_up = "while Muse was down" in log_text
    return result


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.1f}"


def report(r: Result) -> tuple[list[list[object]], list[str]]:
    due = r.due_mono
    ann = [s.announced_at - due for s in r.servers if s.announced_at is not None]
    ex = [s.example_at - due for s in r.servers if s.example_at is not None]
    acks = [m.acked_after_s for m in r.members if m.acked_after_s is not None]
    deferred = [m for m in r.members if m.callback_type == 5]
    refused = [m for m in r.members if m.callback_type == 4]
    unanswered = [m for m in r.members if m.callback_type is None]
    deliveries = [m.delivered_after_s for m in deferred if m.delivered_after_s is not None]
    n = len(r.servers)
    rows: list[list[object]] = [
        ["servers with a jam due at the same minute", n],
        ["announcements posted (exactly once)", f"{len(ann)} / {n} ({sum(s.announcements == 1 for s in r.servers)})"],
        ["first / last announcement after due (s)", f"{_fmt(min(ann, default=float('nan')))} / "
                                                    f"{_fmt(max(ann, default=float('nan')))}"],
        ["example pieces delivered (exactly once)", f"{len(ex)} / {n} ({sum(s.examples == 1 for s in r.servers)})"],
        ["examples failed (apology posted)", sum(1 for s in r.servers if s.failed)],
        ["example after due: p50 / p95 / max (s)", f"{_fmt(_pct(ex, 50))} / {_fmt(_pct(ex, 95))} / "
                                                   f"{_fmt(max(ex, default=float('nan')))}"],
        ["all examples delivered within 10 min", "yes" if len(ex) == n and max(ex) <= DEMAND_S else "**no**"],
        ["members' /compose sent (10 s pieces)", len(r.members)],
        ["… deferred / politely refused / unanswered",
         f"{len(deferred)} / {len(refused)} / {len(unanswered)}"],
        ["… callback (defer or refusal): max / p95 (s)", f"{max(acks, default=float('nan')):.3f} / "
                                                         f"{_pct(acks, 95):.3f}"],
        ["… answered after 3 s", sum(1 for a in acks if a >= DEFER_S)],
        ["every member deferred within 3 s", "yes" if len(deferred) == len(r.members)
         and all(m.acked_after_s < DEFER_S for m in deferred) else "**no**"],
        ["… deferred ones delivered: p50 / p95 (s)", f"{_fmt(_pct(deliveries, 50))} / "
                                                     f"{_fmt(_pct(deliveries, 95))} ({len(deliveries)} delivered)"],
        ["bot RSS at due / peak (VmHWM), MiB", f"{r.rss_before_mb:.0f} / {r.rss_peak_mb:.0f}"],
        ["bot CPU from due to end (s; share of 2 cores)",
         f"{r.cpu_s:.0f} ({r.cpu_s / max(r.waited_s, 1e-9) / 2:.0%})"],
        ["bot writes to Discord: total / peak per s (1 s) / peak per s (10 s)",
         f"{r.writes_total} / {r.peak_writes_1s:.0f} / {r.peak_writes_10s:.1f}"],
        ["… of which queue-position edits of the status replies, peak per s (10 s)",
         f"{r.peak_status_edits_10s:.1f}"],
    ]
    voices = Counter(s.voice for s in r.servers if s.example_at is not None)
    lengths = Counter(s.length for s in r.servers if s.example_at is not None)
    notes = [
        f"Due {r.due.strftime('%H:%M')} UTC, fired by the real JamScheduler (APScheduler jobs added by "
        f"`/jam on` → `upsert` after the schedules were written to the database"
        f"{'; the start-up catch-up path also fired' if r.catch_up else ''}). Bot up {r.ready_s:.0f} s after "
        f"the bench started (model engine loaded, {n + 1} guilds); {r.jam_on_ok}/{n} `/jam on` answered in "
        f"{r.jam_on_s:.1f} s. Waited {r.waited_s:.0f} s after due. 1-minute load average "
        f"{r.load[0]:.1f} at due, {r.load[1]:.1f} at the end.",
        "Example lengths: " + ", ".join(f"{k} × {v}" for k, v in sorted(lengths.items())) +
        "; voices: " + ", ".join(f"{k} × {v}" for k, v in sorted(voices.items(), key=lambda kv: -kv[1])) + ".",
    ]
    if refused:
        notes.append(f"Refused members were sent at due + " + ", ".join(f"{m.send_at - due:.0f}" for m in refused)
                     + f" s; a refusal read “{refused[0].refusal}”")
    errors = [m.error for m in r.members if m.error]
    if errors:
        notes.append(f"Bench-side errors: {errors[:3]}")
    behind = [line for line in r.log_errors if "Can't keep up" in line]
    if behind:
        notes.append(f"{len(behind)} discord.py warnings “Can't keep up, … websocket is "
                     f"{behind[0].rsplit(' is ', 1)[-1].split('s', 1)[0]}s behind”: an artefact of the loopback "
                     "stand-in (its heartbeat ACK is read before discord.py's heartbeat thread records the send "
                     "time, so the latency reads as one whole heartbeat interval). "
                     + ("No “heartbeat blocked” warning: the bot's event loop never stalled for 10 s."
                        if not any("heartbeat blocked" in line for line in r.log_errors) else
                        "“Heartbeat blocked” warnings too: the bot's event loop stalled for 10 s or more."))
    others = [line for line in r.log_errors if "Can't keep up" not in line]
    if others:
        notes.append(f"{len(others)} other warning/error lines in the bot's log, first: `{others[0][:200]}`")
    return rows, notes


def description() -> str:
    return ("Produced by `.venv/bin/python -m bench jam` (`bench/bench_jam.py`): the real `muse bot --sync` "
            "(model engine, default limits) in a subprocess against the loopback Discord stand-in with "
            f"{GUILDS} servers; each server's jam written to the database, `/jam on` by each owner (the "
            "scheduler's `upsert`), all due at the same UTC minute in eight time zones; from that minute "
            f"{MEMBERS} members send `/compose` (10 s pieces), one every {MEMBER_EVERY_S:.0f} s. Times are "
            "from the due minute (examples) or from the interaction (members). Example pieces keep the "
            "product's length.\n")


def main() -> None:
    header(TITLE)
    print(description())
    result = asyncio.run(run_jam())
    rows, notes = report(result)
    table(["measure", "value"], rows)
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
