"""Daily jams: schedules, one round per day, one entry per member, one vote per member."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storage import ConflictError, InvalidStateError, InvalidValueError, JamSchedule, NotFoundError

OPENS = datetime(2025, 3, 14, 17, 30, tzinfo=timezone.utc)
CLOSES = OPENS + timedelta(hours=24)


async def _round(db, key: str = "2025-03-14"):  # type: ignore[no-untyped-def]
    return await db.jams.open_round(
        guild_id=10, round_key=key, channel_id=20, prompt="a rainy harbour", theme="chill",
        opens_at=OPENS, closes_at=CLOSES,
    )


async def test_schedule_upsert_and_toggle(db) -> None:
    schedule = JamSchedule(guild_id=10, channel_id=20, time_of_day="18:30", timezone="Europe/Paris",
                           theme_pool=("jazz", "chill"), created_by=1)
    stored = await db.jams.set_schedule(schedule)
    assert stored.theme_pool == ("jazz", "chill") and stored.enabled
    moved = await db.jams.set_schedule(JamSchedule(guild_id=10, channel_id=21, time_of_day="09:00",
                                                   timezone="Asia/Tokyo"))
    assert (moved.channel_id, moved.time_of_day, moved.theme_pool) == (21, "09:00", ())
    assert [s.guild_id for s in await db.jams.list_enabled()] == [10]
    assert await db.jams.set_enabled(10, False)
    assert await db.jams.list_enabled() == []
    assert not await db.jams.set_enabled(99, True)
    for bad in ("24:00", "7:00", "12:60", "noon"):
        with pytest.raises(InvalidValueError):
            await db.jams.set_schedule(JamSchedule(guild_id=10, channel_id=1, time_of_day=bad, timezone="UTC"))


async def test_open_round_is_idempotent(db) -> None:
    first, created = await _round(db)
    again, created_again = await _round(db)
    assert created and not created_again and again == first
    await db.jams.set_round_message(first.id, 555)
    assert (await db.jams.current_round(10)).message_id == 555  # type: ignore[union-attr]
    with pytest.raises(InvalidValueError):
        await db.jams.open_round(guild_id=10, round_key="x", channel_id=1, prompt="p", theme=None,
                                 opens_at=CLOSES, closes_at=OPENS)


async def test_entries_votes_and_results(db, make_piece) -> None:
    jam, _ = await _round(db)
    pieces = [await db.compositions.add(make_piece(owner_id=u)) for u in (1, 2, 3)]
    e1 = await db.jams.submit(jam.id, user_id=1, composition_id=pieces[0].id)
    e2 = await db.jams.submit(jam.id, user_id=2, composition_id=pieces[1].id)
    replaced = await db.jams.submit(jam.id, user_id=1, composition_id=pieces[2].id)
    assert replaced.id == e1.id and replaced.composition_id == pieces[2].id

    await db.jams.vote(jam.id, voter_id=3, entry_id=e1.id)
    await db.jams.vote(jam.id, voter_id=4, entry_id=e1.id)
    await db.jams.vote(jam.id, voter_id=5, entry_id=e1.id)
    await db.jams.vote(jam.id, voter_id=5, entry_id=e2.id)  # changed their mind
    await db.jams.vote(jam.id, voter_id=2, entry_id=e1.id)
    with pytest.raises(ConflictError, match="own entry"):
        await db.jams.vote(jam.id, voter_id=1, entry_id=e1.id)
    with pytest.raises(NotFoundError):
        await db.jams.vote(jam.id, voter_id=1, entry_id=9999)

    results = await db.jams.entries(jam.id)
    assert [(e.user_id, e.votes) for e in results] == [(1, 3), (2, 1)]

    assert await db.jams.close_round(jam.id)
    assert await db.jams.current_round(10) is None
    with pytest.raises(InvalidStateError):
        await db.jams.submit(jam.id, user_id=6, composition_id=None)
    with pytest.raises(InvalidStateError):
        await db.jams.vote(jam.id, voter_id=6, entry_id=e1.id)


async def test_recent_rounds_and_entries_by_id(db) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    await db.jams.set_schedule(JamSchedule(guild_id=77, channel_id=5, time_of_day="09:00", timezone="UTC"))
    for day in range(3):
        opens = start + timedelta(days=day)
        await db.jams.open_round(guild_id=77, round_key=f"2026-03-0{day + 1}", channel_id=5, prompt=f"p{day}",
                                 theme=None, opens_at=opens, closes_at=opens + timedelta(days=1))
    rounds = await db.jams.recent_rounds(77, limit=2)
    assert [r.prompt for r in rounds] == ["p2", "p1"]
    entry = await db.jams.submit(rounds[0].id, user_id=1, composition_id=None)
    await db.jams.vote(rounds[0].id, voter_id=2, entry_id=entry.id)
    await db.jams.set_entry_message(entry.id, 999)
    again = await db.jams.get_entry(entry.id)
    assert (again.votes, again.message_id, again.user_id) == (1, 999, 1)
    assert await db.jams.get_entry(12345) is None


async def test_a_prompt_is_replaced_only_before_anyone_enters(db) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    await db.jams.set_schedule(JamSchedule(guild_id=78, channel_id=5, time_of_day="09:00", timezone="UTC"))
    jam, _ = await db.jams.open_round(guild_id=78, round_key="2026-03-01", channel_id=5, prompt="old", theme="happy",
                                      opens_at=start, closes_at=start + timedelta(days=1))
    again = await db.jams.replace_prompt(jam.id, prompt="new", theme="jazz")
    assert (again.prompt, again.theme, again.round_key) == ("new", "jazz", "2026-03-01")
    await db.jams.submit(jam.id, user_id=1, composition_id=None)
    with pytest.raises(ConflictError):
        await db.jams.replace_prompt(jam.id, prompt="newer", theme=None)
    await db.jams.close_round(jam.id)
    with pytest.raises(InvalidStateError):
        await db.jams.replace_prompt(jam.id, prompt="newer", theme=None)


async def test_posting_a_round_is_claimed_once_and_a_stale_claim_is_taken_over(db) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    await db.jams.set_schedule(JamSchedule(guild_id=79, channel_id=5, time_of_day="09:00", timezone="UTC"))
    jam, _ = await db.jams.open_round(guild_id=79, round_key="2026-03-01", channel_id=5, prompt="p", theme=None,
                                      opens_at=start, closes_at=start + timedelta(days=1))
    assert await db.jams.claim_post(jam.id, stale_s=60)
    assert not await db.jams.claim_post(jam.id, stale_s=60)  # a second process, at the same moment
    assert await db.jams.claim_post(jam.id, stale_s=-1)  # the first one stopped long ago
    await db.jams.set_round_message(jam.id, 42)
    assert not await db.jams.claim_post(jam.id, stale_s=-1)  # posted: nobody posts it again
