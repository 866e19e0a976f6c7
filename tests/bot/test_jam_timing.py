"""When a daily jam is due: parsing what members type, and exactly one fire per local date through
whole years of daylight saving changes (gaps, repeated hours, Lord Howe's 30-minute shift)."""

from __future__ import annotations

import pickle
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.jam.timing import (
    fire_on,
    jam_trigger,
    last_fire,
    missed_fire,
    next_fire,
    parse_time_of_day,
    parse_timezone,
    round_key,
    round_window,
)
from storage import JamSchedule

UTC = timezone.utc


def jam(time_of_day: str, zone: str) -> JamSchedule:
    return JamSchedule(guild_id=1, channel_id=2, time_of_day=time_of_day, timezone=zone)


def at(zone: str, *fields: int, fold: int = 0) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo(zone), fold=fold)


@pytest.mark.parametrize("text,stored", [("7:05", "07:05"), ("07:05", "07:05"), ("19:30", "19:30"),
                                         (" 0:00 ", "00:00"), ("23:59", "23:59")])
def test_a_time_of_day_is_stored_as_hh_mm(text, stored):
    assert parse_time_of_day(text) == stored


@pytest.mark.parametrize("text", ["25:00", "24:00", "7pm", "", "7", "7:5", "19:60", "19.30", "-1:00", "07:05:00"])
def test_a_bad_time_of_day_says_what_is_allowed_in_one_line(text):
    with pytest.raises(ValueError) as error:
        parse_time_of_day(text)
    message = str(error.value)
    assert "\n" not in message and "HH:MM" in message and "24-hour" in message and repr(text) in message


@pytest.mark.parametrize("name,key", [
    ("Europe/Paris", "Europe/Paris"), ("europe/paris", "Europe/Paris"), ("AMERICA/NEW_YORK", "America/New_York"),
    ("america/new york", "America/New_York"), ("utc", "UTC"), ("Australia/Lord_Howe", "Australia/Lord_Howe"),
])
def test_a_time_zone_is_an_iana_name_in_any_case(name, key):
    assert parse_timezone(name) == ZoneInfo(key) and parse_timezone(name).key == key


@pytest.mark.parametrize("name,hint", [("Mars/Olympus", ""), ("", ""), ("CEST+2", ""), ("../../etc/passwd", ""),
                                       ("paris", " (did you mean Europe/Paris?)"),
                                       ("New York", " (did you mean America/New_York?)")])
def test_an_unknown_time_zone_names_an_example(name, hint):
    with pytest.raises(ValueError) as error:
        parse_timezone(name)
    message = str(error.value)
    assert "\n" not in message and "Europe/Paris" in message and message.endswith(f"Asia/Kolkata{hint}")


# Times on either side of and inside each zone's DST gap (spring) and repeated hour (autumn).
YEAR_CASES = [
    ("Europe/Paris", t) for t in ("02:30", "02:00", "02:59", "03:00", "01:59", "19:30")
] + [
    ("America/New_York", t) for t in ("01:30", "01:00", "01:59", "02:30", "00:59", "03:00", "19:30")
] + [
    ("Australia/Lord_Howe", t) for t in ("02:15", "02:00", "01:45", "01:30", "02:30", "19:30")  # 30-minute DST
] + [
    ("Asia/Kolkata", t) for t in ("00:00", "05:29", "19:30", "23:59")  # no DST, +05:30
] + [
    ("Pacific/Auckland", t) for t in ("02:30", "02:00", "02:45", "03:00", "00:00", "23:59")
] + [
    ("America/Santiago", "00:00"), ("America/Santiago", "23:30"), ("America/Havana", "00:30"),  # midnight DST
]


def _fires_in_year(schedule: JamSchedule, year: int) -> list[datetime]:
    """Every fire from the first of the year's local dates to the last, as `next_fire` walks them."""
    zone = ZoneInfo(schedule.timezone)
    fire = next_fire(schedule, datetime(year, 1, 1, tzinfo=zone) - timedelta(microseconds=1))
    fires = []
    while fire.astimezone(zone).year == year and len(fires) <= 366:  # bounded: a stuck walk fails, not hangs
        fires.append(fire)
        fire = next_fire(schedule, fire)
    return fires


def _exists(day: date, wall: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, wall)
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("zone,time_of_day", YEAR_CASES)
def test_exactly_one_fire_per_local_date_through_a_whole_year(zone, time_of_day, year):
    schedule, tz, wall = jam(time_of_day, zone), ZoneInfo(zone), time.fromisoformat(time_of_day)
    fires = _fires_in_year(schedule, year)
    days = [date(year, 1, 1) + timedelta(days=n) for n in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    assert [round_key(schedule, f) for f in fires] == [d.isoformat() for d in days]  # none skipped, none doubled
    for fire, day in zip(fires, days):
        local = fire.astimezone(tz)
        if _exists(day, wall, tz):  # at the wall time; its first occurrence when it happens twice
            assert local.time() == wall and local.fold == 0
            assert local == fire_on(schedule, day)
        else:  # in a spring-forward gap: as soon as the time exists, shifted forward by the gap
            gap = local.utcoffset() - (local - timedelta(hours=3)).utcoffset()
            assert local.replace(tzinfo=None) == datetime.combine(day, wall) + gap and gap > timedelta(0)
    spacing = {(b - a).total_seconds() / 3600 for a, b in zip(fires, fires[1:])}
    assert spacing <= {23.0, 23.5, 24.0, 24.5, 25.0}, spacing


@pytest.mark.parametrize("zone,time_of_day", YEAR_CASES)
def test_the_trigger_apscheduler_uses_fires_the_same_days(zone, time_of_day):
    """APScheduler asks `get_next_fire_time(previous, now)` after each run, and once with no previous."""
    schedule = jam(time_of_day, zone)
    trigger = jam_trigger(schedule)
    assert isinstance(trigger, CronTrigger) and trigger.timezone == ZoneInfo(zone)
    expected = _fires_in_year(schedule, 2026)
    fire = trigger.get_next_fire_time(None, expected[0])  # a fire exactly now is due now
    walked = []
    while fire.astimezone(ZoneInfo(zone)).year == 2026 and len(walked) <= 366:
        walked.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert walked == expected


def test_spring_forward_in_paris_posts_at_three_thirty_and_the_round_lasts_23_hours():
    schedule = jam("02:30", "Europe/Paris")  # 2025-03-30: 02:00 CET jumps to 03:00 CEST
    fire = next_fire(schedule, at("Europe/Paris", 2025, 3, 29, 12))
    assert fire == at("Europe/Paris", 2025, 3, 30, 3, 30) and fire.utcoffset() == timedelta(hours=2)
    assert round_key(schedule, fire) == "2025-03-30"
    opens_at, closes_at = round_window(schedule, fire)
    assert (opens_at, closes_at) == (fire, at("Europe/Paris", 2025, 3, 31, 2, 30))
    assert closes_at - opens_at == timedelta(hours=23)


def test_fall_back_in_new_york_posts_at_the_first_one_thirty_only():
    schedule = jam("01:30", "America/New_York")  # 2025-11-02: 01:00-02:00 happens twice
    first = at("America/New_York", 2025, 11, 2, 1, 30)
    second = at("America/New_York", 2025, 11, 2, 1, 30, fold=1)
    assert next_fire(schedule, at("America/New_York", 2025, 11, 1, 12)) == first
    assert first.utcoffset() == timedelta(hours=-4)
    assert next_fire(schedule, first) == next_fire(schedule, second) == at("America/New_York", 2025, 11, 3, 1, 30)
    opens_at, closes_at = round_window(schedule, first)
    assert closes_at.astimezone(UTC) - opens_at.astimezone(UTC) == timedelta(hours=25)
    # at the second 01:30 the first is an hour ago (a same-zone subtraction would say 0 s)
    assert missed_fire(schedule, second, grace_s=3600) == first
    assert missed_fire(schedule, second, grace_s=3599) is None


def test_in_the_repeated_hour_a_fire_before_the_clock_went_back_is_in_the_past():
    """At 01:30 the second time (06:30 UTC), the 01:45 fire (05:45 UTC) has happened: the wall
    clocks say 01:45 > 01:30, and a same-zone comparison would believe them."""
    schedule = jam("01:45", "America/New_York")
    second_half_past_one = at("America/New_York", 2025, 11, 2, 1, 30, fold=1)
    fire = at("America/New_York", 2025, 11, 2, 1, 45)
    assert last_fire(schedule, second_half_past_one) == fire
    assert next_fire(schedule, second_half_past_one) == at("America/New_York", 2025, 11, 3, 1, 45)
    assert missed_fire(schedule, second_half_past_one, grace_s=3600) == fire


def test_lord_howe_shifts_a_time_in_its_half_hour_gap_by_half_an_hour():
    schedule = jam("02:15", "Australia/Lord_Howe")  # 2025-10-05: 02:00 +10:30 jumps to 02:30 +11:00
    fire = next_fire(schedule, at("Australia/Lord_Howe", 2025, 10, 4, 12))
    assert fire == at("Australia/Lord_Howe", 2025, 10, 5, 2, 45) and fire.utcoffset() == timedelta(hours=11)
    assert round_key(schedule, fire) == "2025-10-05"


def test_the_round_key_is_the_local_date_not_the_utc_one():
    kolkata = jam("00:00", "Asia/Kolkata")
    fire = next_fire(kolkata, datetime(2026, 1, 14, 12, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 1, 14, 18, 30, tzinfo=UTC)
    assert round_key(kolkata, fire) == "2026-01-15"
    auckland = jam("23:59", "Pacific/Auckland")
    assert round_key(auckland, next_fire(auckland, datetime(2026, 1, 14, 12, tzinfo=UTC))) == "2026-01-15"


def test_next_fire_is_strictly_after_and_last_fire_at_or_before():
    schedule = jam("19:30", "Europe/Paris")
    fire = at("Europe/Paris", 2026, 6, 10, 19, 30)
    assert next_fire(schedule, fire - timedelta(microseconds=1)) == fire
    assert next_fire(schedule, fire) == fire + timedelta(days=1)
    assert last_fire(schedule, fire) == fire
    assert last_fire(schedule, fire - timedelta(microseconds=1)) == fire - timedelta(days=1)
    assert next_fire(schedule, fire.astimezone(UTC)).tzinfo == ZoneInfo("Europe/Paris")


@pytest.mark.parametrize("after_s,found", [(-1, None), (0, True), (1800, True), (3600, True), (3601, None),
                                           (23 * 3600, None)])
def test_a_missed_fire_counts_only_within_the_grace_period(after_s, found):
    schedule = jam("19:30", "Europe/Paris")
    fire = at("Europe/Paris", 2026, 6, 10, 19, 30)
    missed = missed_fire(schedule, fire + timedelta(seconds=after_s), grace_s=3600)
    assert missed == (fire if found else None)


def test_naive_datetimes_are_refused():
    schedule = jam("19:30", "Europe/Paris")
    for call in (next_fire, last_fire, round_key):
        with pytest.raises(ValueError, match="aware"):
            call(schedule, datetime(2026, 6, 10, 19, 30))


def test_the_trigger_survives_pickling():
    trigger = jam_trigger(jam("01:30", "America/New_York"))
    copy = pickle.loads(pickle.dumps(trigger))
    now = at("America/New_York", 2025, 11, 1, 12)
    assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
    assert str(copy) == str(trigger) == "cron[hour='1', minute='30', second='0']"
