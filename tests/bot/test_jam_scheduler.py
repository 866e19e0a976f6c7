"""JamScheduler on the real AsyncIOScheduler: jobs fire, stop when told, a restart posts a missed jam
once within the grace period (never outside it), and the database keeps a day to one round.

Jobs that must really fire are set a second or two ahead in UTC ("HH:MM:SS"); restarts use an
injected clock in 2031, so the real scheduler never reaches those jobs and nothing sleeps."""

from __future__ import annotations

import asyncio
import logging
import math
import time as wall_clock
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jam.scheduler import JamScheduler, job_id
from bot.jam.timing import round_key, round_window
from storage import JamSchedule, open_database

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
JAM_TIME = datetime(2031, 6, 10, 19, 30, tzinfo=PARIS)  # a Tuesday, far enough ahead never to fire


def jam(guild_id: int, time_of_day: str = "19:30", zone: str = "Europe/Paris", **fields) -> JamSchedule:
    return JamSchedule(guild_id=guild_id, channel_id=guild_id * 10, time_of_day=time_of_day, timezone=zone, **fields)


def soon(seconds: float = 1.5) -> tuple[str, datetime]:
    """A UTC time of day on a whole second at least `seconds` from now, and that moment."""
    moment = datetime.fromtimestamp(math.ceil(wall_clock.time() + seconds), tz=UTC)
    return moment.strftime("%H:%M:%S"), moment


class Calls:
    """An on_due that records its calls and lets a test wait for one."""

    def __init__(self, fail: bool = False, block: bool = False):
        self.calls: list[tuple[JamSchedule, datetime]] = []
        self.called = asyncio.Event()
        self.fail, self.block = fail, block

    async def __call__(self, schedule: JamSchedule, fire_time: datetime) -> None:
        self.calls.append((schedule, fire_time))
        self.called.set()
        if self.block:
            await asyncio.Event().wait()
        if self.fail:
            raise RuntimeError("the round runner broke")

    def guilds(self) -> list[int]:
        return [schedule.guild_id for schedule, _ in self.calls]


@pytest.fixture
async def schedulers():
    """Makes JamSchedulers and always shuts them down."""
    made: list[JamScheduler] = []

    def make(on_due, **options) -> JamScheduler:
        made.append(JamScheduler(on_due, **options))
        return made[-1]

    yield make
    for scheduler in made:
        await scheduler.shutdown()


async def settle() -> None:
    """Let spawned on_due tasks run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_job_fires_on_due_at_its_time(schedulers):
    calls = Calls()
    scheduler = schedulers(calls)
    time_of_day, moment = soon()
    await scheduler.start([jam(1, time_of_day, "UTC")])
    assert scheduler.next_run(1) == moment
    await asyncio.wait_for(calls.called.wait(), timeout=30)
    assert datetime.now(UTC) >= moment
    ((schedule, fire_time),) = calls.calls
    assert schedule.guild_id == 1 and fire_time == moment
    assert round_key(schedule, fire_time) == moment.date().isoformat()
    assert scheduler.next_run(1) == moment + timedelta(days=1)


async def test_remove_disable_and_a_new_time_really_stop_a_job(schedulers):
    calls = Calls()
    scheduler = schedulers(calls)
    time_of_day, moment = soon()
    await scheduler.start([jam(g, time_of_day, "UTC") for g in (1, 2, 3, 4)])
    scheduler.remove(2)
    scheduler.upsert(jam(3, time_of_day, "UTC", enabled=False))
    later = (moment + timedelta(hours=1)).strftime("%H:%M:%S")
    scheduler.upsert(jam(4, later, "UTC"))
    await asyncio.wait_for(calls.called.wait(), timeout=30)
    await asyncio.sleep(0.2)  # the others were due in the same pass of the scheduler
    assert calls.guilds() == [1]
    assert scheduler.next_run(2) is None and scheduler.next_run(3) is None
    assert scheduler._scheduler.get_job(job_id(2)) is None and scheduler._scheduler.get_job(job_id(3)) is None
    assert scheduler.next_run(4) == moment + timedelta(hours=1)


async def test_a_failing_on_due_is_logged_and_the_job_stays(schedulers, caplog):
    caplog.set_level(logging.ERROR, logger="bot.tasks")
    calls = Calls(fail=True)
    scheduler = schedulers(calls)
    time_of_day, moment = soon()
    await scheduler.start([jam(1, time_of_day, "UTC")])
    await asyncio.wait_for(calls.called.wait(), timeout=30)
    await settle()
    (record,) = [r for r in caplog.records if r.name == "bot.tasks"]
    assert f"jam guild 1 round {moment.date().isoformat()}" in record.getMessage()
    assert "the round runner broke" in str(record.exc_info[1])
    assert scheduler.next_run(1) == moment + timedelta(days=1)


def at(offset: timedelta):
    return lambda: (JAM_TIME + offset).astimezone(UTC)


@pytest.mark.parametrize("offset,posted,next_day", [
    (timedelta(seconds=-1), False, 0),  # just before jam time: the job will post it
    (timedelta(0), True, 1),  # at jam time: posted now, not also by the job
    (timedelta(minutes=20), True, 1),  # during the grace period
    (timedelta(hours=1), True, 1),  # at its very end
    (timedelta(hours=1, seconds=1), False, 1),  # after it: too late, wait for tomorrow
    (timedelta(hours=23, minutes=59), False, 1),
], ids=["just-before", "at-jam-time", "during", "end-of-grace", "after-grace", "next-morning"])
async def test_a_restart_posts_a_missed_jam_once_within_the_grace_period(schedulers, offset, posted, next_day):
    calls = Calls()
    scheduler = schedulers(calls, grace_s=3600, clock=at(offset))
    await scheduler.start([jam(1), jam(2, enabled=False)])
    await settle()
    if posted:
        ((schedule, fire_time),) = calls.calls
        assert schedule.guild_id == 1 and fire_time == JAM_TIME and round_key(schedule, fire_time) == "2031-06-10"
    else:
        assert calls.calls == []
    assert scheduler.next_run(1) == JAM_TIME + timedelta(days=next_day)
    assert scheduler.next_run(2) is None  # disabled in the database: no job


async def test_restarts_during_jam_time_open_one_round(schedulers, tmp_path: Path):
    """Down at jam time, then restarted twice within the grace period: two on_due calls, one round."""
    async with open_database(tmp_path / "muse.sqlite3") as db:
        created: list[bool] = []

        async def open_round(schedule: JamSchedule, fire_time: datetime) -> None:
            opens_at, closes_at = round_window(schedule, fire_time)
            _, new = await db.jams.open_round(guild_id=schedule.guild_id, round_key=round_key(schedule, fire_time),
                                              channel_id=schedule.channel_id, prompt="Neon Rain", theme="retro",
                                              opens_at=opens_at, closes_at=closes_at)
            created.append(new)

        schedule = await db.jams.set_schedule(jam(1))
        for minutes in (5, 40):
            scheduler = schedulers(open_round, clock=at(timedelta(minutes=minutes)))
            await scheduler.start(await db.jams.list_enabled())
            await scheduler.shutdown(wait_s=5)  # the bot stops: the call in flight may finish
        assert created == [True, False]
        current = await db.jams.current_round(schedule.guild_id)
        assert current.round_key == "2031-06-10" and current.closes_at == JAM_TIME + timedelta(days=1)


async def test_next_run_is_in_the_servers_time_zone(schedulers):
    scheduler = schedulers(Calls(), clock=lambda: datetime(2031, 11, 1, 12, tzinfo=UTC))
    await scheduler.start([jam(1, "19:30", "Europe/Paris"), jam(2, "01:30", "America/New_York"),
                           jam(3, "00:00", "Asia/Kolkata")])
    paris, new_york, kolkata = (scheduler.next_run(g) for g in (1, 2, 3))
    assert paris.tzinfo == PARIS and paris.replace(tzinfo=None) == datetime(2031, 11, 1, 19, 30)
    # 2031-11-02 is the first Sunday of November: 01:30 happens twice, the jam is at the first
    assert new_york.tzinfo == ZoneInfo("America/New_York") and new_york.utcoffset() == timedelta(hours=-4)
    assert new_york.replace(tzinfo=None) == datetime(2031, 11, 2, 1, 30)
    assert kolkata.replace(tzinfo=None) == datetime(2031, 11, 2, 0, 0) and kolkata.tzinfo == ZoneInfo("Asia/Kolkata")
    assert scheduler.next_run(99) is None


async def test_upsert_moves_a_jam_to_its_new_zone_and_time(schedulers):
    scheduler = schedulers(Calls(), clock=at(timedelta(hours=-3)))
    await scheduler.start([jam(1)])
    scheduler.upsert(jam(1, "18:00", "Asia/Kolkata"))
    assert scheduler.next_run(1) == datetime(2031, 6, 11, 18, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert len(scheduler._scheduler.get_jobs()) == 1


async def test_a_bad_time_zone_is_refused_before_a_job_exists(schedulers):
    scheduler = schedulers(Calls(), clock=at(timedelta(0)))
    await scheduler.start([])
    with pytest.raises(ValueError, match="Europe/Paris"):
        scheduler.upsert(jam(1, zone="Mars/Olympus"))
    assert scheduler.next_run(1) is None and scheduler._scheduler.get_jobs() == []


async def test_jams_are_added_after_start():
    with pytest.raises(RuntimeError, match="start"):
        JamScheduler(Calls()).upsert(jam(1))


async def test_shutdown_cancels_an_on_due_in_flight(schedulers):
    calls = Calls(block=True)
    scheduler = schedulers(calls, clock=at(timedelta(minutes=1)))
    await scheduler.start([jam(1)])
    await asyncio.wait_for(calls.called.wait(), timeout=30)
    (task,) = scheduler._tasks
    await asyncio.wait_for(scheduler.shutdown(), timeout=5)
    assert task.cancelled() and not scheduler._scheduler.running
