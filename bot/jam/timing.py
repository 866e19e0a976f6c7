"""When a server's daily jam is due: one fire per local date, whatever daylight saving does.

A jam is due at its `time_of_day` on each local date of its IANA zone. A wall time that does not
exist that day (spring forward: 02:30 in Paris on the last Sunday of March) fires as soon as it
exists, shifted forward by the gap (03:30); a wall time that happens twice (fall back: 01:30 in
New York on the first Sunday of November) fires at its first occurrence only. That is what
`zoneinfo` gives for fold=0, computed per date, so no day is skipped and none is doubled.

APScheduler's own `CronTrigger` (3.11) fires twice in the repeated hour and skips the day after a
spring-forward for times near midnight, so `jam_trigger` is a CronTrigger whose next fire time
comes from `next_fire` here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

UTC = timezone.utc
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
TIME_HELP = "a time of day is HH:MM on a 24-hour clock, 00:00 to 23:59 (e.g. 07:05 or 19:30)"
ZONE_HELP = "use an IANA time zone name such as Europe/Paris, America/New_York or Asia/Kolkata"


class Timed(Protocol):
    """What timing reads from a schedule (storage's JamSchedule has both)."""

    time_of_day: str  # "HH:MM" (seconds allowed: "HH:MM:SS"), local to `timezone`
    timezone: str  # IANA name


def parse_time_of_day(text: str) -> str:
    """A member's "7:05" or "19:30" as the "HH:MM" storage keeps; ValueError says what is allowed."""
    match = _TIME.fullmatch((text or "").strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{TIME_HELP}, not {text!r}")
    return f"{int(match[1]):02d}:{match[2]}"


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone, matched without regard to case ("europe/paris"); a bare city is suggested."""
    wanted = (name or "").strip().replace(" ", "_")
    canonical = _zone_names().get(wanted.casefold())
    if canonical is None:
        guesses = [z for low, z in _zone_names().items() if low.endswith("/" + wanted.casefold())]
        hint = f" (did you mean {guesses[0]}?)" if wanted and len(guesses) == 1 else ""
        raise ValueError(f"unknown time zone {name!r}: {ZONE_HELP}{hint}")
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # listed but unreadable: a broken tz install
        raise ValueError(f"time zone {canonical!r} cannot be loaded ({exc}): {ZONE_HELP}") from None


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Every zone zoneinfo can load (system data or the tzdata package), by its case-folded name."""
    return {z.casefold(): z for z in available_timezones() if z not in ("localtime", "posixrules")}


def fire_on(schedule: Timed, day: date) -> datetime:
    """The jam's moment on this local date, in the schedule's zone (shifted past a DST gap)."""
    zone = parse_timezone(schedule.timezone)
    wall = datetime.combine(day, time.fromisoformat(schedule.time_of_day), tzinfo=zone)  # fold=0
    return wall.astimezone(UTC).astimezone(zone)


def next_fire(schedule: Timed, after: datetime) -> datetime:
    """The first fire strictly after `after` (aware), in the schedule's zone."""
    after = _aware(after, "after")
    today = after.astimezone(parse_timezone(schedule.timezone)).date()
    fires = (fire_on(schedule, today + timedelta(days=k)) for k in range(-1, 3))
    return min(f for f in fires if f > after)


def last_fire(schedule: Timed, now: datetime) -> datetime:
    """The latest fire at or before `now` (aware), in the schedule's zone."""
    now = _aware(now, "now")
    today = now.astimezone(parse_timezone(schedule.timezone)).date()
    fires = (fire_on(schedule, today + timedelta(days=k)) for k in range(-2, 2))
    return max(f for f in fires if f <= now)


def missed_fire(schedule: Timed, now: datetime, grace_s: float) -> datetime | None:
    """The latest fire ≤ now when at most `grace_s` ago: a bot that was down at jam time posts the
    day's jam once it is back, but not hours late."""
    fire = last_fire(schedule, now)
    return fire if (_aware(now, "now") - fire.astimezone(UTC)).total_seconds() <= grace_s else None


def round_key(schedule: Timed, fire_time: datetime) -> str:
    """The local date of the fire ("2025-03-14"): storage opens one round per key."""
    return _aware(fire_time, "fire_time").astimezone(parse_timezone(schedule.timezone)).date().isoformat()


def round_window(schedule: Timed, fire_time: datetime) -> tuple[datetime, datetime]:
    """(opens_at, closes_at): a round runs from its fire to the next one (23, 24 or 25 hours)."""
    opens_at = _aware(fire_time, "fire_time").astimezone(parse_timezone(schedule.timezone))
    return opens_at, next_fire(schedule, opens_at)


class JamTrigger(CronTrigger):
    """A daily CronTrigger whose fire times come from `next_fire` (exactly one per local date)."""

    def __init__(self, schedule: Timed):
        wall = time.fromisoformat(schedule.time_of_day)
        super().__init__(hour=wall.hour, minute=wall.minute, second=wall.second,
                         timezone=parse_timezone(schedule.timezone))
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is not None:
            return next_fire(self.schedule, previous_fire_time)
        return next_fire(self.schedule, now - timedelta(microseconds=1))  # a fire at `now` is due now

    def __getstate__(self):
        return {**super().__getstate__(), "schedule": self.schedule}

    def __setstate__(self, state):
        self.schedule = state.pop("schedule")
        super().__setstate__(state)


def jam_trigger(schedule: Timed) -> CronTrigger:
    """The schedule's daily trigger (hour and minute in its zone), for APScheduler."""
    return JamTrigger(schedule)


def _aware(value: datetime, name: str) -> datetime:
    """`value` in UTC: comparing or subtracting two datetimes of one ZoneInfo ignores `fold`, so the
    two 01:30s of a fall-back night would be equal; in UTC they are an hour apart."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {value!r}")
    return value.astimezone(UTC)
