"""/jam end to end through the stand-in: set-up rights and bad input, a posted round with Muse's
example, entries and votes, the next round crowning the winner, the leaderboard, a channel Muse
cannot post in, and never two posts for one day."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot.jam.timing import next_fire
from tests.bot.conftest import has_midi, muse
from tests.discord_standin import StandIn

SEND_MESSAGES = 1 << 11


async def _line(ix) -> str:
    answer = await ix.ack()
    if answer.callback_type == 5:  # deferred: the answer follows
        answer = await ix.wait_for(lambda d: d.kind in ("followup", "edit_original") and bool(d.content))
    return answer.content or answer.embeds[0]["description"]


@pytest.fixture
async def jam_bot(standin: StandIn, bot_config, composer):
    locked = standin.world.add_channel(standin.guild, "locked")  # Muse may read but not post there
    locked.overwrites = [{"id": str(standin.world.bot.id), "type": 1, "allow": "0", "deny": str(SEND_MESSAGES)}]
    async with muse(standin, bot_config, composer) as bot:
        yield bot


async def _setup(standin: StandIn, **options) -> str:
    args = {"channel": standin.channel("jams"), "time": "18:30", "timezone": "Europe/Paris", **options}
    return await _line(await standin.slash("jam setup", user="owner", option_values=args))


@pytest.mark.parametrize("options,expect", [
    ({"time": "25:00"}, "HH:MM"), ({"time": "7pm"}, "HH:MM"), ({"timezone": "Mars/Olympus"}, "Europe/Paris"),
    ({"themes": "happy, polka"}, "polka"), ({"channel": "locked"}, "can't post"),
])
async def test_bad_setup_gets_one_line_and_stores_nothing(standin: StandIn, jam_bot, options, expect) -> None:
    if options.get("channel") == "locked":
        options = {**options, "channel": standin.channel("locked")}
    line = await _setup(standin, **options)
    assert expect in line and "\n" not in line
    assert await jam_bot.db.jams.get_schedule(standin.guild.id) is None


async def test_only_server_managers_set_it_up(standin: StandIn, jam_bot) -> None:
    line = await _line(await standin.slash("jam setup", user="alice", option_values={
        "channel": standin.channel("jams"), "time": "18:30", "timezone": "Europe/Paris"}))
    assert "Manage Server" in line and await jam_bot.db.jams.get_schedule(standin.guild.id) is None
    assert "next prompt" in await _setup(standin)
    assert "Manage Server" in await _line(await standin.slash("jam now", user="bob"))


async def test_a_round_entries_votes_and_the_next_round_crowns_the_winner(standin: StandIn, jam_bot) -> None:
    await _setup(standin, themes="happy, jazz")
    assert "Posted" in await _line(await standin.slash("jam now", user="owner"))
    post = await standin.wait_for_message(lambda d: "Today's jam" in d.content, channel="jams")
    example = await standin.wait_for(lambda d: d.channel_id == standin.channel("jams").id and has_midi(d),
                                     timeout=60)
    assert example.embeds[0]["fields"][0]["value"] in ("happy", "jazz")  # the theme pool is used
    assert "already out" in await _line(await standin.slash("jam now", user="owner"))

    entries = {}
    for user in ("alice", "bob", "carl"):
        if user == "carl":
            standin.add_user("carl")
        ix = await standin.slash("jam submit", user=user, prompt=f"{user}'s take")
        entries[user] = await ix.wait_for(has_midi, timeout=60)
    assert "own entry" in await _line(await standin.click(entries["alice"].message, "Vote", user="alice"))
    assert "Your vote" in await _line(await standin.click(entries["alice"].message, "Vote", user="bob"))
    assert "Your vote" in await _line(await standin.click(entries["bob"].message, "Vote", user="carl"))
    assert "Your vote" in await _line(await standin.click(entries["alice"].message, "Vote", user="carl"))  # moved

    status = await _line(await standin.slash("jam status", user="bob"))
    assert "3 entries" in status and status.index(f"<@{standin.user('alice').id}> — 2 votes") > 0

    # the next day's round names the winner (alice: 2 votes) and the leaderboard agrees
    schedule = await jam_bot.db.jams.get_schedule(standin.guild.id)
    runner = jam_bot.get_cog("Jam").runner
    tomorrow = next_fire(schedule, datetime.now(timezone.utc) + timedelta(days=1))
    assert await runner.on_due(schedule, tomorrow) is not None
    crowned = await standin.wait_for_message(lambda d: "is won by" in d.content, channel="jams")
    assert f"<@{standin.user('alice').id}> with 2 votes" in crowned.content
    assert crowned.pings["users"] == [standin.user("alice").id] and post.message.id != crowned.message.id
    board = await _line(await standin.slash("jam leaderboard", user="bob"))
    assert board.startswith(f"1. <@{standin.user('alice').id}> — 1 win")
    closed = await _line(await standin.click(entries["bob"].message, "Vote", user="alice"))
    assert "closed" in closed


async def test_a_round_with_one_entry_closes_kindly(standin: StandIn, jam_bot) -> None:
    await _setup(standin)
    await _line(await standin.slash("jam now", user="owner"))
    await (await standin.slash("jam submit", user="alice")).wait_for(has_midi, timeout=60)
    schedule = await jam_bot.db.jams.get_schedule(standin.guild.id)
    tomorrow = next_fire(schedule, datetime.now(timezone.utc) + timedelta(days=1))
    await jam_bot.get_cog("Jam").runner.on_due(schedule, tomorrow)
    note = await standin.wait_for_message(lambda d: "not enough to crown" in d.content, channel="jams")
    assert note.pings["users"] == []


async def test_two_runners_on_one_database_post_a_day_once(standin: StandIn, jam_bot) -> None:
    await _setup(standin)
    schedule = await jam_bot.db.jams.get_schedule(standin.guild.id)
    runner = jam_bot.get_cog("Jam").runner
    when = datetime.now(timezone.utc)
    first, second = await asyncio.gather(runner.on_due(schedule, when), runner.on_due(schedule, when))
    assert (first is None) != (second is None)
    # a second process: its own connection to the same database file cannot open that day again
    from bot.jam.timing import round_key, round_window
    from storage import database_path, open_database

    opens, closes = round_window(schedule, when)
    async with open_database(database_path(jam_bot.config.data_dir)) as other:
        _, created = await other.jams.open_round(guild_id=schedule.guild_id, round_key=round_key(schedule, when),
                                                 channel_id=schedule.channel_id, prompt="x", theme=None,
                                                 opens_at=opens, closes_at=closes)
    assert not created
    await asyncio.sleep(0.3)
    posts = [d for d in standin.recorder.deliveries if d.kind == "message" and "Today's jam" in d.content]
    assert len(posts) == 1


async def test_off_stops_it_and_a_channel_muse_cannot_post_in_pauses_it(standin: StandIn, jam_bot) -> None:
    await _setup(standin)
    cog = jam_bot.get_cog("Jam")
    assert cog.scheduler.next_run(standin.guild.id) is not None
    assert "paused" in await _line(await standin.slash("jam off", user="owner"))
    assert cog.scheduler.next_run(standin.guild.id) is None
    assert not (await jam_bot.db.jams.get_schedule(standin.guild.id)).enabled
    assert "back" in await _line(await standin.slash("jam on", user="owner"))

    standin.fail("create_message", 403, times=1)
    await _line(await standin.slash("jam now", user="owner"))
    told = await standin.wait_for_message(lambda d: "paused" in d.content, dm_with="owner")
    assert "/jam on" in told.content
    assert not (await jam_bot.db.jams.get_schedule(standin.guild.id)).enabled
    assert cog.scheduler.next_run(standin.guild.id) is None


async def test_organisers_preview_reroll_and_skip_and_everyone_sees_the_archive(standin: StandIn, jam_bot) -> None:
    await _setup(standin)
    preview = await _line(await standin.slash("jam preview", user="owner"))
    assert preview.startswith("Next (") and "—" in preview
    await _line(await standin.slash("jam now", user="owner"))
    first = (await jam_bot.db.jams.current_round(standin.guild.id)).prompt
    rerolled = await _line(await standin.slash("jam reroll", user="owner"))
    second = (await jam_bot.db.jams.current_round(standin.guild.id)).prompt
    assert second != first and second in rerolled
    await standin.wait_for_message(lambda d: "Today's prompt has changed" in d.content, channel="jams")
    await (await standin.slash("jam submit", user="alice")).wait_for(has_midi, timeout=60)
    assert "already entered" in await _line(await standin.slash("jam reroll", user="owner"))
    assert "Manage Server" in await _line(await standin.slash("jam skip", user="alice"))
    assert "Skipped" in await _line(await standin.slash("jam skip", user="owner"))
    assert "no jam open" in await _line(await standin.slash("jam submit", user="bob"))
    archive = await _line(await standin.slash("jam archive", user="bob"))
    assert "1 entries, no winner" in archive and archive.count("**") == 2


async def test_a_piece_from_history_can_be_entered_by_its_owner_only(standin: StandIn, jam_bot) -> None:
    from tests.bot.conftest import fields

    await _setup(standin)
    await _line(await standin.slash("jam now", user="owner"))
    done = await (await standin.slash("compose", user="bob", prompt="my old tune", length=6, seed=3)).wait_for(
        has_midi, timeout=30)
    piece_id = fields(done)["Id"].lstrip("#")
    ix = await standin.slash("jam submit", user="bob", piece=piece_id)
    entry = await ix.wait_for(lambda d: d.kind == "followup" and has_midi(d), timeout=30)
    assert "entry for" in entry.content and [b["label"] for b in entry.message.buttons()][-1] == "Vote"
    assert "no piece" in await _line(await standin.slash("jam submit", user="alice", piece=piece_id))
    (saved,) = await jam_bot.db.jams.entries((await jam_bot.db.jams.current_round(standin.guild.id)).id)
    assert saved.user_id == standin.user("bob").id and saved.message_id == entry.message.id


async def test_a_round_opened_but_never_posted_is_posted_after_a_restart(standin: StandIn, jam_bot,
                                                                          monkeypatch) -> None:
    """The bot stopped between opening the day's round and posting it: the next start posts it once."""
    import bot.jam.rounds as rounds
    from bot.jam.timing import round_key, round_window

    await _setup(standin)
    schedule = await jam_bot.db.jams.get_schedule(standin.guild.id)
    when = datetime.now(timezone.utc)
    opens, closes = round_window(schedule, when)
    runner = jam_bot.get_cog("Jam").runner
    prompt = await runner.draw(schedule, round_key(schedule, when))
    jam, _ = await jam_bot.db.jams.open_round(guild_id=schedule.guild_id, round_key=round_key(schedule, when),
                                              channel_id=schedule.channel_id, prompt=prompt.text,
                                              theme=prompt.theme, opens_at=opens, closes_at=closes)
    assert await jam_bot.db.jams.claim_post(jam.id, stale_s=60)  # the process that stopped had claimed it
    assert await runner.on_due(schedule, when, retry=False) is None  # its claim is fresh: not yet
    monkeypatch.setattr(rounds, "POST_CLAIM_S", -1.0)  # …and now it is stale
    posted = await runner.on_due(schedule, when, retry=False)
    assert posted is not None and posted.id == jam.id and posted.prompt == prompt.text
    await standin.wait_for_message(lambda d: prompt.text in d.content, channel="jams")
    assert await runner.on_due(schedule, when, retry=False) is None  # posted: never again
