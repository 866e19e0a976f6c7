"""Fairness: per-member and per-server caps and a cooldown, refused politely and privately;
waiting jobs from different members are composed together in one batch."""

from __future__ import annotations

from tests.bot.conftest import has_midi, muse, start_worker, with_limits
from tests.discord_standin import StandIn


async def test_limits_refuse_politely_and_waiting_jobs_are_batched(standin: StandIn, bot_config, composer) -> None:
    config = with_limits(bot_config, member_active_max=2, guild_active_max=3)
    async with muse(standin, config, composer, start_worker=False) as bot:
        accepted = [await standin.slash("compose", prompt=f"tune {i}", length=6, user=u)
                    for i, u in enumerate(["alice", "alice", "bob"])]
        for ix in accepted:
            assert (await ix.ack()).callback_type == 5

        third = await (await standin.slash("compose", prompt="one more", length=6, user="alice")).ack()
        assert third.ephemeral and "at most 2" in third.content and "try again in about" in third.content
        full = await (await standin.slash("compose", prompt="me too", length=6, user="owner")).ack()
        assert full.ephemeral and "busy in this server" in full.content

        await standin.wait_until(lambda: bot.queue.describe()["waiting"] == 3)  # handlers queue after the defer
        start_worker(bot)
        for ix in accepted:
            await ix.wait_for(has_midi, timeout=30)
        await bot.queue.wait_idle(10)
        # alice's second job waited for her first; bob's joined alice's first in one batch
        assert bot.queue.stats.batches == [2, 1]
        assert bot.queue.stats.delivered == 3


async def test_cooldown_between_requests_of_one_member(standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, with_limits(bot_config, cooldown_s=30.0), composer, start_worker=False):
        first = await standin.slash("compose", prompt="first", length=6, user="bob")
        assert (await first.ack()).callback_type == 5
        again = await (await standin.slash("compose", prompt="again", length=6, user="bob")).ack()
        assert again.ephemeral and again.content.startswith("One moment between requests")
        other = await standin.slash("compose", prompt="mine", length=6, user="alice")
        assert (await other.ack()).callback_type == 5


async def test_background_work_takes_no_members_slot_waits_behind_them_and_batches(
        standin: StandIn, bot_config, composer) -> None:
    """A jam's examples (Muse's own jobs) never fill the queue for members, edit nothing while they wait,
    are composed after members' jobs, and batch together although they share one requester."""
    from bot.jobspec import JobSpec, ReplyTo
    from composer import understand

    config = with_limits(bot_config, queue_max=2, batch_max=4)
    async with muse(standin, config, composer, start_worker=False) as bot:
        general = standin.channel("general")
        for i in range(3):
            status = await bot.get_channel(general.id).send(f"example {i} on its way")
            request = understand(f"example {i}", {"seed": i, "length": 6, "engine": "rules"}, bot.catalog)
            spec = JobSpec("compose", request, ReplyTo("message", general.id, message_id=status.id), priority=1)
            await bot.queue.submit_background(spec, requester_id=bot.user.id, guild_id=standin.guild.id,
                                              channel_id=general.id)
        member = await standin.slash("compose", prompt="mine first", length=6, user="alice")
        assert (await member.ack()).callback_type == 5  # three background jobs left room under queue_max=2
        await standin.wait_until(lambda: bot.queue.describe()["waiting"] == 4)
        assert [t.background for t in bot.queue.waiting] == [False, True, True, True]
        edits_before = sum(1 for d in standin.recorder.deliveries if d.kind == "edit_message")
        start_worker(bot)
        await member.wait_for(has_midi, timeout=30)
        await bot.queue.wait_idle(30)
        assert bot.queue.stats.batches == [4]  # the member's job and the three examples in one model pass
        edits = [d for d in standin.recorder.deliveries if d.kind == "edit_message"][edits_before:]
        assert len(edits) == 3 and all(has_midi(d) for d in edits)  # only the finished pieces, no positions
