"""Health, readiness and metrics over HTTP: a real bot on the stand-in with the health port on."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any, AsyncIterator

import aiohttp
import pytest

from bot.client import bot_class
from bot.config import BotConfig
from bot.health import bound_port, gateway_problem, start_health_server, stop_health_server
from bot.main import create_bot, open_resources
from tests.discord_standin import StandIn, running

pytest.importorskip("prometheus_client")  # the scaleout extra (make test installs it)
from bot.metrics import BotMetrics  # noqa: E402

METRIC_NAMES = ("muse_queue_waiting", "muse_queue_running", "muse_batch_size", "muse_defer_seconds",
                "muse_deliver_seconds", "muse_jobs_total")


async def get(port: int, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            body = await (response.json() if response.content_type == "application/json" else response.text())
            return response.status, body


@contextlib.asynccontextmanager
async def health_of(bot, resources) -> AsyncIterator[int]:
    runner = await start_health_server(bot, resources.queue, resources.db, 0, host="127.0.0.1")
    try:
        yield bound_port(runner)
    finally:
        await stop_health_server(runner)


def sample(text: str, name: str) -> float:
    """The value of one series in Prometheus text (`name` with its labels, as written)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


async def test_ready_only_while_connected_and_the_database_answers(standin: StandIn, bot_config: BotConfig,
                                                                   composer) -> None:
    async with open_resources(bot_config, composer=composer) as resources:
        bot = create_bot(bot_config, resources, guild_ready_timeout=0.05)
        async with health_of(bot, resources) as port:
            assert await get(port, "/healthz") == (200, {"status": "ok"})
            status, body = await get(port, "/readyz")  # not logged in yet
            assert status == 503 and set(body["not_ready"]) == {"gateway", "composer"}
            async with running(bot, standin.token):
                assert await get(port, "/readyz") == (200, {"status": "ready"})
            status, body = await get(port, "/readyz")
            assert status == 503 and "gateway" in body["not_ready"]
            await resources.db.close()
            status, body = await get(port, "/readyz")
            assert status == 503 and "database" in body["not_ready"]
            assert (await get(port, "/healthz"))[0] == 200  # alive all along


async def test_metrics_follow_a_composed_piece(standin: StandIn, bot_config: BotConfig, composer) -> None:
    async with open_resources(bot_config, composer=composer) as resources:
        bot = create_bot(bot_config, resources, guild_ready_timeout=0.05)
        async with health_of(bot, resources) as port, running(bot, standin.token):
            standin.register_tree(bot.tree)
            status, text = await get(port, "/metrics")
            assert status == 200 and all(f"# TYPE {n.removesuffix('_total')}" in text for n in METRIC_NAMES)
            assert sample(text, 'muse_jobs_total{outcome="delivered"}') == 0
            ix = await standin.slash("compose", prompt="happy birthday", voice="piano", length=6, seed=3)
            await ix.wait_for(lambda d: any(n.endswith(".mid") for n in d.attachments), timeout=60)
            await resources.queue.wait_idle(10)
            _, text = await get(port, "/metrics")
    assert sample(text, 'muse_jobs_total{outcome="delivered"}') == 1
    assert sample(text, 'muse_jobs_total{outcome="failed"}') == 0
    assert sample(text, "muse_batch_size_count") == 1 and sample(text, "muse_batch_size_sum") == 1
    assert sample(text, "muse_deliver_seconds_count") == 1 and sample(text, "muse_deliver_seconds_sum") > 0
    assert sample(text, "muse_defer_seconds_count") == 1 and sample(text, "muse_defer_seconds_sum") < 3
    assert sample(text, "muse_queue_waiting") == 0 and sample(text, "muse_queue_running") == 0
    assert "muse_gpu_utilization" not in text  # no GPU visible here


async def test_queue_gauges_read_the_queue_and_refusals_count(standin: StandIn, bot) -> None:
    """The gauges are read at scrape time; a refusal at admission counts as `refused`."""
    metrics = BotMetrics(bot.queue)
    metrics.attach()
    try:
        queue = bot.queue
        queue.waiting.append(object())  # type: ignore[arg-type]  # a stand-in ticket, only counted
        text = metrics.exposition().decode()
        assert sample(text, "muse_queue_waiting") == 1
        queue.waiting.pop()
        for _ in range(bot.config.limits.member_active_max):
            assert queue.reserve(42, None) is None
        assert queue.reserve(42, None) is not None
        for _ in range(bot.config.limits.member_active_max):
            queue.unreserve(42, None)
        assert sample(metrics.exposition().decode(), 'muse_jobs_total{outcome="refused"}') == 1
    finally:
        metrics.detach()
    assert metrics.note not in bot.queue.stats.observers


def test_two_bots_in_one_process_keep_their_own_series() -> None:
    class Queue:
        waiting: list = []
        running: dict = {}

        class stats:
            observers: list = []

    first, second = BotMetrics(Queue()), BotMetrics(Queue())  # type: ignore[arg-type]
    first.note("delivered", 2.0)
    assert sample(first.exposition().decode(), 'muse_jobs_total{outcome="delivered"}') == 1
    assert sample(second.exposition().decode(), 'muse_jobs_total{outcome="delivered"}') == 0


def test_gpu_gauge_appears_only_with_a_reader() -> None:
    class Queue:
        waiting: list = []
        running: dict = {}

    text = BotMetrics(Queue(), gpu=lambda: [0.25, 1.0]).exposition().decode()  # type: ignore[arg-type]
    assert sample(text, 'muse_gpu_utilization{gpu="0"}') == 0.25
    assert sample(text, 'muse_gpu_utilization{gpu="1"}') == 1.0

    def broken() -> list[float]:
        raise RuntimeError("NVML went away")

    text = BotMetrics(Queue(), gpu=broken).exposition().decode()  # type: ignore[arg-type]
    assert "muse_gpu_utilization" not in text and "muse_queue_waiting" in text


async def test_a_busy_port_fails_the_start_and_leaves_nothing_attached(standin: StandIn, bot) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(OSError):
            await start_health_server(bot, bot.queue, bot.db, port, host="127.0.0.1")
        assert bot.queue.stats.observers == []
    finally:
        server.close()
        await server.wait_closed()


async def _no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    pass


async def test_a_sharded_process_is_ready_with_all_its_shards(standin: StandIn, bot_config: BotConfig,
                                                               composer) -> None:
    config = replace(bot_config, scale=replace(bot_config.scale, shard_count=2, shard_ids=(0, 1)))
    async with open_resources(config, composer=composer) as resources:
        bot = bot_class(config)(config=config, db=resources.db, queue=resources.queue,
                                catalog=resources.worker.composer.catalog, guild_ready_timeout=0.05)
        bot.before_identify_hook = _no_identify_wait  # Discord spaces identifies 5 s apart; the stand-in need not
        async with health_of(bot, resources) as port, running(bot, standin.token):
            assert set(bot.shards) == {0, 1}
            assert await get(port, "/readyz") == (200, {"status": "ready"})


def test_a_disconnected_shard_is_named() -> None:
    class Shard:
        def __init__(self, closed: bool):
            self.closed = closed

        def is_closed(self) -> bool:
            return self.closed

    class Client:
        shards = {0: Shard(False), 1: Shard(True), 2: Shard(True)}

        def is_closed(self) -> bool:
            return False

        def is_ready(self) -> bool:
            return True

    assert gateway_problem(Client()) == "shards [1, 2] are disconnected"  # type: ignore[arg-type]
    Client.shards = {0: Shard(False)}
    assert gateway_problem(Client()) is None  # type: ignore[arg-type]
