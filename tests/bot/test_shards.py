"""Muse on Gateway shards: two bot processes (here two bots in one test, sharing one SQLite file)
each running one shard of two, and one process running both, against the sharding stand-in.

What must hold: each process hears only the guilds of its shards (and shard 0 the DMs), only the
process running shard 0 syncs slash commands even when all start with `--sync`, each process
schedules the daily jam of its own guilds only, and two processes firing one jam post it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

import discord

from bot.client import MuseBot, ShardedMuseBot, bot_class
from bot.config import BotConfig, ScaleOut
from bot.jam.scheduler import JamScheduler
from bot.main import open_resources
from bot.shards import describe, owns_guild, shard_of
from storage import JamSchedule, database_path, open_database
from tests.bot.conftest import has_midi
from tests.discord_standin import StandIn, running


@contextlib.asynccontextmanager
async def sharded(standin: StandIn, config: BotConfig, composer, shard_ids: tuple[int, ...], *,
                  shard_count: int = 2, sync: bool = True, **options: Any) -> AsyncIterator[MuseBot]:
    """One `muse bot` process running `shard_ids` of `shard_count`, built the way create_bot does
    with `bot_class`; every one is started with `--sync`, as a deployment would start them all."""
    config = replace(config, scale=replace(config.scale, shard_count=shard_count, shard_ids=shard_ids))
    async with open_resources(config, composer=composer) as resources:
        bot = bot_class(config)(config=config, db=resources.db, queue=resources.queue,
                                catalog=resources.worker.composer.catalog, sync_commands=sync,
                                guild_ready_timeout=0.05, **options)
        bot.before_identify_hook = _no_identify_wait  # Discord spaces identifies 5 s apart; the stand-in need not
        bot.seen = []  # (what, guild id) this process was told about

        async def interaction(ix: discord.Interaction) -> None:
            bot.seen.append(("interaction", ix.guild_id))

        async def message(m: discord.Message) -> None:
            bot.seen.append(("message", m.guild.id if m.guild else None))

        bot.add_listener(interaction, "on_interaction")
        bot.add_listener(message, "on_message")
        async with running(bot, standin.token):
            yield bot


async def _no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    pass


# --- the pieces on their own ------------------------------------------------------------------

def test_the_default_path_is_the_plain_bot() -> None:
    assert bot_class(BotConfig(token="t")) is MuseBot
    assert bot_class(BotConfig(token="t", scale=ScaleOut(shard_count=2, shard_ids=(1,)))) is ShardedMuseBot
    assert issubclass(ShardedMuseBot, discord.AutoShardedClient) and not issubclass(MuseBot, discord.AutoShardedClient)


def test_a_process_owns_the_guilds_of_its_shards() -> None:
    guilds = [(n << 22) | 7 for n in range(6)]
    assert [shard_of(g, 3) for g in guilds] == [0, 1, 2, 0, 1, 2]
    assert [owns_guild(ScaleOut(shard_count=3, shard_ids=(0, 2)), g) for g in guilds] == [True, False, True] * 2
    assert all(owns_guild(ScaleOut(), g) and owns_guild(ScaleOut(shard_count=3), g) for g in guilds)
    assert describe(ScaleOut(shard_count=4, shard_ids=(0, 1))) == "shards 0,1 of 4"
    assert describe(ScaleOut(shard_count=4)) == "all 4 shards" and describe(ScaleOut()) == "unsharded"


async def test_the_jam_scheduler_keeps_to_the_guilds_it_owns() -> None:
    async def on_due(schedule: JamSchedule, fire_time: datetime) -> None:
        pass

    mine, theirs = 2 << 22, 3 << 22  # shards 0 and 1 of 2
    scheduler = JamScheduler(on_due, owns=lambda guild_id: shard_of(guild_id, 2) == 0)
    jams = [JamSchedule(guild_id=g, channel_id=1, time_of_day="12:00", timezone="UTC") for g in (mine, theirs)]
    await scheduler.start(jams)
    try:
        assert scheduler.next_run(mine) is not None and scheduler.next_run(theirs) is None
        scheduler.upsert(jams[1])  # a change stored by the other process: not ours to schedule
        assert scheduler.next_run(theirs) is None
    finally:
        await scheduler.shutdown()


async def test_the_sharded_bot_runs_exactly_its_shards(standin: StandIn, bot_config, composer) -> None:
    async with sharded(standin, bot_config, composer, (1,), shard_count=3, sync=False) as bot:
        assert isinstance(bot, ShardedMuseBot) and bot.shard_count == 3 and set(bot.shards) == {1}
        assert [s.shard for s in standin.gateway.sessions.by_shard.values()] == [(1, 3)]


# --- two processes, one shard each ------------------------------------------------------------

async def test_two_processes_each_answer_their_own_shard(standin: StandIn, bot_config, composer, caplog) -> None:
    on = {shard: standin.guild_on_shard(shard, 2) for shard in (0, 1)}
    caplog.set_level(logging.INFO, logger="bot.client")
    async with sharded(standin, bot_config, composer, (0,)) as zero, \
            sharded(standin, bot_config, composer, (1,)) as one:
        # one sync, by the process running shard 0; the other says why it skipped
        assert standin.sync_count == 1 and standin.world.command_syncs[0][0] is None
        assert any("not syncing slash commands" in r.getMessage() and "shards 1 of 2" in r.getMessage()
                   for r in caplog.records)
        for shard, bot in ((0, zero), (1, one)):
            ours = {g.id for g in bot.guilds}
            assert on[shard].id in ours and on[1 - shard].id not in ours
            assert all(shard_of(g, 2) == shard for g in ours)
            assert set(standin.session(shard).guild_ids) == ours

        for shard, bot, other in ((0, zero, one), (1, one, zero)):
            ix = await standin.slash("compose", guild=on[shard], prompt="a short happy tune", length=6, seed=3)
            assert (await ix.ack()).callback_type == 5
            await ix.wait_for(has_midi, timeout=60)
            assert [d.shard for d in standin.dispatched("INTERACTION_CREATE", guild=on[shard])] == [(shard, 2)]
            assert ("interaction", on[shard].id) in bot.seen and ("interaction", on[shard].id) not in other.seen

        await standin.dm("help", user="bob")
        reply = await standin.wait_for_message(dm_with="bob")
        assert "/compose" in reply.content
        assert ("message", None) in zero.seen and ("message", None) not in one.seen
        assert [d.shard for d in standin.dispatched("MESSAGE_CREATE", dm=True)][0] == (0, 2)


async def test_one_process_running_both_shards(standin: StandIn, bot_config, composer) -> None:
    on = [standin.guild_on_shard(shard, 2) for shard in (0, 1)]
    async with sharded(standin, bot_config, composer, (0, 1)) as bot:
        assert set(bot.shards) == {0, 1} and standin.sync_count == 1
        assert {g.id for g in on} <= {g.id for g in bot.guilds}
        for guild in on:
            ix = await standin.slash("themes", guild=guild)
            assert (await ix.ack()).callback_type in (4, 5)
        assert {d.shard for d in standin.dispatched("INTERACTION_CREATE")} == {(0, 2), (1, 2)}


# --- the daily jam ----------------------------------------------------------------------------

async def _schedule_jams(config: BotConfig, standin: StandIn, guilds, time_of_day: str) -> list[JamSchedule]:
    """Stored before the bots start, as `/jam setup` did on an earlier day (SQLite: the bots' file)."""
    async with open_database(database_path(config.data_dir)) as db:
        return [await db.jams.set_schedule(JamSchedule(
            guild_id=g.id, channel_id=standin.channel("jams", guild=g).id, time_of_day=time_of_day,
            timezone="UTC", enabled=True)) for g in guilds]


def _jam_posts(standin: StandIn, guild) -> list:
    jams = standin.channel("jams", guild=guild).id
    return [d for d in standin.recorder.deliveries
            if d.kind == "message" and d.channel_id == jams and "Today's jam" in d.content]


async def test_each_process_schedules_the_jams_of_its_own_guilds(standin: StandIn, bot_config, composer) -> None:
    on = [standin.guild_on_shard(shard, 2) for shard in (0, 1)]
    bot_config.data_dir.mkdir(parents=True, exist_ok=True)
    missed = (datetime.now(timezone.utc) - timedelta(minutes=2)).strftime("%H:%M")  # due while "down"
    await _schedule_jams(bot_config, standin, on, missed)
    async with sharded(standin, bot_config, composer, (0,), start_worker=False) as zero, \
            sharded(standin, bot_config, composer, (1,), start_worker=False) as one:
        for shard, bot in ((0, zero), (1, one)):
            scheduler = bot.get_cog("Jam").scheduler
            assert scheduler.next_run(on[shard].id) is not None and scheduler.next_run(on[1 - shard].id) is None
        for guild in on:  # each process posted the jam it missed, for its own guild only
            await standin.wait_until(lambda: _jam_posts(standin, guild), what=f"the jam of {guild.name}")
        await asyncio.sleep(0.3)
        assert [len(_jam_posts(standin, g)) for g in on] == [1, 1]


async def test_two_processes_firing_one_jam_post_it_once(standin: StandIn, bot_config, composer) -> None:
    guild = standin.guild_on_shard(1, 2)
    bot_config.data_dir.mkdir(parents=True, exist_ok=True)
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%H:%M")
    (schedule,) = await _schedule_jams(bot_config, standin, [guild], later)
    async with sharded(standin, bot_config, composer, (0,), start_worker=False) as zero, \
            sharded(standin, bot_config, composer, (1,), start_worker=False) as one:
        when = datetime.now(timezone.utc)  # say a shard moved, and both think the jam is theirs
        rounds = await asyncio.gather(*(b.get_cog("Jam").runner.on_due(schedule, when, retry=False)
                                        for b in (zero, one)))
        assert sum(r is not None for r in rounds) == 1
        await standin.wait_until(lambda: _jam_posts(standin, guild), what="the jam post")
        await asyncio.sleep(0.3)
        assert len(_jam_posts(standin, guild)) == 1
        assert (await zero.db.jams.get_schedule(guild.id)).enabled  # nobody paused it on the way
