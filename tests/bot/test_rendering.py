"""The pieces of a batch are rendered side by side on the render threads (MUSE_RENDER_THREADS),
and a piece that fails or takes too long fails only its own job."""

from __future__ import annotations

import threading
import time

import pytest

from bot.job_runner import FAILED_LINE, TIMEOUT_LINE
from tests.bot.conftest import has_midi, muse, start_worker, with_limits
from tests.discord_standin import StandIn


async def _two_queued_jobs(standin: StandIn, bot, prompts: tuple[str, str]):
    """alice's and bob's /compose, queued while the worker waits, so one model pass takes both."""
    jobs = [await standin.slash("compose", prompt=p, length=6, user=u) for p, u in zip(prompts, ["alice", "bob"])]
    for ix in jobs:
        assert (await ix.ack()).callback_type == 5
    await standin.wait_until(lambda: bot.queue.describe()["waiting"] == 2)
    return jobs


def _finish_both_at_once(composer, monkeypatch, then=lambda prompt: None):
    """Composer.finish that waits until both pieces are inside it (one at a time would time out
    here), then runs `then(prompt)` and the real finish; returns the threads that rendered."""
    both_in, threads, finish = threading.Barrier(2, timeout=10), [], composer.finish

    def side_by_side(draft, **kwargs):
        threads.append(threading.current_thread().name)
        both_in.wait()
        then(draft.request.prompt)
        return finish(draft, **kwargs)

    monkeypatch.setattr(composer, "finish", side_by_side)
    return threads


async def test_the_pieces_of_a_batch_are_rendered_at_once(standin: StandIn, bot_config, composer,
                                                          monkeypatch) -> None:
    threads = _finish_both_at_once(composer, monkeypatch)
    async with muse(standin, with_limits(bot_config, render_threads=2), composer, start_worker=False) as bot:
        jobs = await _two_queued_jobs(standin, bot, ("first at once", "second at once"))
        start_worker(bot)
        for ix in jobs:
            await ix.wait_for(has_midi, timeout=30)
        await bot.queue.wait_idle(10)
        assert bot.queue.stats.batches == [2]  # one model pass, then two render threads
        assert len(set(threads)) == 2 and all(t.startswith("muse-render") for t in threads)
        assert (bot.queue.stats.delivered, bot.queue.stats.failed) == (2, 0)


def _raise(prompt: str) -> None:
    if prompt == "break me":
        raise RuntimeError("a bad piece")


def _hang(prompt: str) -> None:
    if prompt == "break me":
        time.sleep(7)  # past the 4 s job timeout


@pytest.mark.parametrize("fault, line", [(_raise, FAILED_LINE), (_hang, TIMEOUT_LINE)], ids=["raises", "too slow"])
async def test_a_bad_piece_in_a_batch_fails_only_its_own_job(standin: StandIn, bot_config, composer, monkeypatch,
                                                             fault, line) -> None:
    _finish_both_at_once(composer, monkeypatch, then=fault)
    config = with_limits(bot_config, render_threads=2, job_timeout_s=4.0 if fault is _hang else 60.0)
    async with muse(standin, config, composer, start_worker=False) as bot:
        bad, good = await _two_queued_jobs(standin, bot, ("break me", "keep me"))
        start_worker(bot)
        await good.wait_for(has_midi, timeout=30)
        told = await bad.wait_for(lambda d: d.content == line, timeout=30)
        assert told.kind == "edit_original" and not any(has_midi(d) for d in bad.deliveries)
        await bot.queue.wait_idle(10)
        assert bot.queue.stats.batches == [2]
        assert (bot.queue.stats.delivered, bot.queue.stats.failed) == (1, 1)
        jobs = [await bot.db.jobs.get(i) for i in (1, 2)]
        statuses = {j.payload["request"]["prompt"]: j.status.value for j in jobs}
        assert statuses == {"break me": "failed", "keep me": "done"}
        assert bot.queue.describe() == {"waiting": 0, "running": 0, "active": 0}
