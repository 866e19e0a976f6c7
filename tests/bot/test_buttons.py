"""Variation composes the same request with a new seed; Cancel stops a job that has not finished."""

from __future__ import annotations

import pytest

from tests.bot.conftest import fields, has_midi, muse, start_worker
from tests.discord_standin import StandIn

pytestmark = pytest.mark.slow


async def test_variation_button_composes_the_same_request_with_a_new_seed(standin: StandIn, bot) -> None:
    ix = await standin.slash("compose", prompt="a happy tune", voice="synth", tempo=110, length=6, seed=3, user="alice")
    first = fields(await ix.wait_for(has_midi, timeout=30))
    click = await standin.click(ix.original, "Variation", user="bob")
    assert (await click.ack()).callback_type == 5
    second = fields(await click.wait_for(has_midi, timeout=30))
    assert second["Seed"] != first["Seed"] and second["Id"] != first["Id"]
    assert {k: second[k] for k in ("Voice", "Tempo", "Theme", "Key")} == {k: first[k] for k in ("Voice", "Tempo", "Theme", "Key")}
    record = await bot.db.compositions.get(int(second["Id"].lstrip("#")))
    assert record.parent_id == int(first["Id"].lstrip("#")) and record.owner_id == standin.user("bob").id


async def test_cancel_button_stops_a_queued_job_and_only_for_its_requester(standin: StandIn, bot_config, composer) -> None:
    async with muse(standin, bot_config, composer, start_worker=False) as bot:
        ix = await standin.slash("compose", prompt="never mind", length=6, user="alice")
        progress = await ix.wait_for(lambda d: d.kind == "edit_original" and d.message.buttons())
        assert "Starting" in progress.content or "Queued" in progress.content
        assert [b["label"] for b in ix.original.buttons()] == ["Cancel"]

        refused = await standin.click(ix.original, "Cancel", user="bob")
        assert (await refused.ack()).ephemeral

        cancel = await standin.click(ix.original, "Cancel", user="alice")
        answer = await cancel.ack()
        assert answer.content == "Cancelled." and ix.original.buttons() == []
        job = (await bot.db.jobs.get(1))
        assert job.status.value == "cancelled"

        start_worker(bot)
        later = await standin.slash("compose", prompt="this one please", length=6, user="alice")
        await later.wait_for(has_midi, timeout=30)
        assert not any(has_midi(d) for d in ix.deliveries)
        assert ix.original.content == "Cancelled."


async def test_variations_option_delivers_each_piece(standin: StandIn, bot) -> None:
    ix = await standin.slash("compose", prompt="a lullaby", length=6, variations=2, seed=40, user="alice")
    first = await ix.wait_for(has_midi, kind="edit_original", timeout=30)
    second = await ix.wait_for(has_midi, kind="followup", timeout=30)
    assert (fields(first)["Seed"], fields(second)["Seed"]) == ("40", "41")


async def test_cancel_while_composing_renders_nothing_and_frees_the_slot(standin: StandIn, bot_config, composer,
                                                                         monkeypatch) -> None:
    import threading

    entered, gate, renders = threading.Event(), threading.Event(), []
    compose_scores, finish = composer.compose_scores, composer.finish

    def held(requests, *args, **kwargs):  # the job is running: hold it inside the composer
        entered.set()
        gate.wait(10)
        return compose_scores(requests, *args, **kwargs)

    monkeypatch.setattr(composer, "compose_scores", held)
    monkeypatch.setattr(composer, "finish", lambda draft, **kw: renders.append(draft.request.prompt) or finish(draft, **kw))
    async with muse(standin, bot_config, composer) as bot:
        ix = await standin.slash("compose", prompt="stop me", length=6, user="alice")
        await ix.wait_for(lambda d: d.kind == "edit_original" and d.message.buttons())
        await standin.wait_until(entered.is_set)
        answer = await (await standin.click(ix.original, "Cancel", user="alice")).ack()
        assert answer.content == "Cancelled."
        gate.set()
        later = await standin.slash("compose", prompt="this one please", length=6, user="alice")
        await later.wait_for(has_midi, timeout=30)
        assert renders == ["this one please"]  # the cancelled piece was composed but never rendered
        assert not any(has_midi(d) for d in ix.deliveries) and bot.queue.stats.cancelled == 1
        assert bot.queue.describe()["running"] == 0
