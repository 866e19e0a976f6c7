"""`muse bot`: create the resources (database, executor, composer worker, queue) in `main()`,
pass them into a thin bot, and run it until it is stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from bot.client import MuseBot, bot_class
from bot.config import BotConfig, load_config
from bot.job_queue import JobQueue
from bot.logs import configure_logging
from bot.tasks import spawn
from bot.worker import ComposerWorker
from composer import Composer, load_catalog
from storage import ArtifactStore, Database, database_path, open_database

log = logging.getLogger(__name__)


@dataclass
class Resources:
    db: Database
    worker: ComposerWorker
    queue: JobQueue


def point_discord(config: BotConfig) -> None:
    """Send discord.py to another Discord (the loopback stand-in) when the config says so."""
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    if config.api_base:
        Route.BASE = config.api_base.rstrip("/")
    if config.gateway:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway)


@asynccontextmanager
async def open_resources(config: BotConfig, composer: Composer | None = None) -> AsyncIterator[Resources]:
    """Database, the composer's threads, the worker and the queue; all closed on the way out.

    One thread runs the model passes (the model batches instead), one understands requests, and
    `render_threads` (MUSE_RENDER_THREADS; default one per core) render and encode finished pieces."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    render_threads = config.limits.render_threads or os.cpu_count() or 1
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="muse-composer")
    # understanding gets its own thread: a member's defer must not wait behind a batch being composed
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="muse-understand")
    renderers = ThreadPoolExecutor(max_workers=render_threads, thread_name_prefix="muse-render")
    try:
        # MUSE_DATABASE_URL (PostgreSQL, shared by every shard process) or the SQLite file in the data dir
        async with open_database(config.scale.database_url or database_path(config.data_dir)) as db:
            loop = asyncio.get_running_loop()
            if composer is None:  # loading the catalog (and later the model) is blocking work too
                catalog = await loop.run_in_executor(executor, load_catalog, config.packs_dir)
                composer = Composer(catalog)
            async with _worker(config, composer, executor, reader, renderers, render_threads) as worker:
                queue = JobQueue(db, worker, config.limits, config.scale)
                try:
                    yield Resources(db, worker, queue)
                finally:
                    await queue.sharing.leave()
    finally:
        for pool in (executor, reader, renderers):
            pool.shutdown(wait=False, cancel_futures=True)


@asynccontextmanager
async def _worker(config: BotConfig, composer: Composer, executor: ThreadPoolExecutor, reader: ThreadPoolExecutor,
                  renderers: ThreadPoolExecutor, render_threads: int) -> AsyncIterator[ComposerWorker]:
    """The composer in this process (the default), or the Ray Serve tier that owns the model
    (MUSE_COMPOSER=ray: no model or synth is loaded here); one interface for the queue either way."""
    if config.scale.composer != "ray":
        await asyncio.get_running_loop().run_in_executor(executor, composer.warm_up, config.engine)
        yield ComposerWorker(composer, executor, ArtifactStore(config.data_dir), reader, renderers, render_threads)
        return
    from bot.remote_worker import close_remote_worker, open_remote_worker

    worker = await open_remote_worker(config, composer.catalog, ArtifactStore(config.data_dir), reader)
    try:
        yield worker
    finally:
        await close_remote_worker(worker)


def create_bot(config: BotConfig, resources: Resources, *, sync: bool = False, **options: Any) -> MuseBot:
    """The plain bot by default; a bot running `MUSE_SHARD_IDS` of `MUSE_SHARD_COUNT` shards when set."""
    return bot_class(config)(config=config, db=resources.db, queue=resources.queue,
                             catalog=resources.worker.composer.catalog, sync_commands=sync, **options)


async def serve(config: BotConfig, *, sync: bool = False) -> None:
    point_discord(config)
    async with open_resources(config) as resources:
        async with create_bot(config, resources, sync=sync) as bot:
            # SIGTERM (systemd, docker stop) closes cleanly; unfinished jobs stay queued in the database
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: spawn(bot.close(), name="close-on-sigterm"))
            health = None
            if config.scale.health_port is not None:  # /healthz, /readyz, /metrics for the orchestrator
                from bot.health import start_health_server, stop_health_server

                health = await start_health_server(bot, resources.queue, resources.db, config.scale.health_port)
            try:
                await bot.start(config.token)
            finally:
                if health is not None:
                    await stop_health_server(health)


def main(*, sync: bool = False) -> int:
    config = load_config()
    logging.getLogger().setLevel(logging.INFO)
    configure_logging(config)  # MUSE_LOG_FORMAT=json: one JSON object per line, job ids included
    logging.getLogger("discord").setLevel(logging.INFO)
    log.info("starting Muse (data in %s, engine %s, sync %s)", config.data_dir, config.engine, sync)
    try:
        asyncio.run(serve(config, sync=sync))
    except KeyboardInterrupt:
        pass
    return 0
