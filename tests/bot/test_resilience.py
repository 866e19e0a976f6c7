"""Delivery survives what Discord does in production: rate limits, 5xx, Gateway drops,
restarts, dead interaction tokens and upload limits."""

from __future__ import annotations

import pytest

from tests.bot.conftest import has_midi, muse, piece_files, start_worker, with_limits
from tests.discord_standin import StandIn

pytestmark = pytest.mark.slow


async def _held_job(standin: StandIn, **options):
    """A /compose whose job waits (the worker is not started) after its first progress edit."""
    ix = await standin.slash("compose", length=6, user="alice", **options)
    await ix.wait_for(lambda d: d.kind == "edit_original" and d.message.buttons())
    return ix


@pytest.mark.parametrize("status", [429, 502])
async def test_a_429_or_502_on_delivery_is_retried(standin: StandIn, bot_config, composer, status) -> None:
    config = with_limits(bot_config, progress_interval_s=60.0)  # no progress edit between fault and delivery
    async with muse(standin, config, composer, start_worker=False) as bot:
        ix = await _held_job(standin, prompt="rate limited")
        fault = standin.fail("edit_original", status, retry_after=0.1, interaction=ix)
        start_worker(bot)
        done = await ix.wait_for(has_midi, timeout=30)
        assert fault.hits == 1 and piece_files(done)["mid"].startswith(b"MThd")
        assert [(r.route, r.status) for r in standin.recorder.rejections] == [("edit_original", status)]
        await bot.queue.wait_idle(10)
        assert (await bot.db.jobs.get(1)).status.value == "done"
        assert await bot.db.compositions.count_for_user(standin.user("alice").id) == 1


async def test_a_gateway_drop_mid_job_still_delivers(standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, bot_config, composer, start_worker=False) as bot:
        ix = await _held_job(standin, prompt="through the storm")
        await standin.drop_gateway(4000)
        start_worker(bot)
        await standin.wait_resumed()
        await ix.wait_for(has_midi, timeout=30)
        after = await standin.slash("compose", prompt="after the storm", length=6, user="bob")
        await after.wait_for(has_midi, timeout=30)


async def test_a_restart_delivers_the_queued_job(standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, bot_config, composer, start_worker=False) as first:
        ix = await _held_job(standin, prompt="before the restart", seed=9)
        assert [j.status.value for j in await first.db.jobs.list_active()] == ["queued"]
    assert not any(has_midi(d) for d in ix.deliveries)

    async with muse(standin, bot_config, composer, register=False) as second:
        done = await ix.wait_for(has_midi, timeout=30)
        assert done.kind == "edit_original"
        await second.queue.wait_idle(10)
        assert (await second.db.jobs.get(1)).status.value == "done"
        records = (await second.db.compositions.history_for_user(standin.user("alice").id)).items
        assert [r.seed for r in records] == [9]
    assert len([d for d in ix.deliveries if has_midi(d)]) == 1


async def test_an_expired_token_falls_back_to_the_channel_pinging_only_the_requester(
        standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, bot_config, composer, start_worker=False) as bot:
        ix = await _held_job(standin, prompt="too late @everyone")
        ix.expire()
        start_worker(bot)
        done = await standin.wait_for_message(has_midi, channel="general", timeout=30)
        alice = standin.user("alice")
        assert done.content.startswith(f"<@{alice.id}>")
        assert done.pings["users"] == [alice.id] and done.pings["roles"] == [] and done.pings["everyone"] is False
        assert sorted(piece_files(done)) == ["mid", "mp3", "png"]
        assert ("edit_original", 401, 50027) in [(r.route, r.status, r.code) for r in standin.recorder.rejections]


@pytest.mark.parametrize("limit, how", [(200_000, "kbps"), (60_000, "s preview")])
async def test_files_are_fitted_under_the_upload_limit_never_a_413(standin: StandIn, bot, limit, how) -> None:
    # a 20 s MP3 at the default quality is about 540 kB: first a lower bitrate, then a shorter preview
    ix = await standin.slash("compose", prompt="a long march", length=20, seed=2, attachment_size_limit=limit)
    done = await ix.wait_for(has_midi, timeout=30)
    files = piece_files(done)
    assert all(len(data) <= limit for data in files.values()) and len(files["mp3"]) > 5_000
    assert "upload limit" in done.embeds[0]["description"] and how in done.embeds[0]["description"]
    assert not [r for r in standin.recorder.rejections if r.status == 413]


async def test_a_plain_start_never_syncs_and_sync_does(standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, bot_config, composer, register=False):
        pass
    assert standin.world.command_syncs == []
    async with muse(standin, bot_config, composer, register=False, sync=True):
        names = await standin.wait_synced()
    assert sorted(names) == ["compose", "help", "history", "jam", "remix", "theme", "themes", "voices"]


async def test_close_stops_a_worker_that_swallowed_its_cancellation(bot):
    """On Python 3.11 asyncio.wait_for can swallow a cancellation that arrives as the call it waits on
    finishes; the bot's close cancels again until the worker stops, so shutdown never hangs."""
    import asyncio

    bot.worker_task.cancel()
    await asyncio.wait({bot.worker_task})
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels += 1
                if cancels > 1:
                    raise  # the second cancellation is kept

    bot.worker_task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(bot.close(), timeout=10)
    assert bot.worker_task.cancelled() and cancels == 2
