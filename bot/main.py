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

from bot.client import MuseBot
from bot.config import BotConfig, load_config
from bot.job_queue import JobQueue
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
        async with open_database(database_path(config.data_dir)) as db:
            loop = asyncio.get_running_loop()
            if composer is None:  # loading the catalog (and later the model) is blocking work too
                catalog = await loop.run_in_executor(executor, load_catalog, config.packs_dir)
                composer = Composer(catalog)
            await loop.run_in_executor(executor, composer.warm_up, config.engine)
            worker = ComposerWorker(composer, executor, ArtifactStore(config.data_dir), reader,
                                    renderers, render_threads)
            yield Resources(db, worker, JobQueue(db, worker, config.limits))
    finally:
        for pool in (executor, reader, renderers):
            pool.shutdown(wait=False, cancel_futures=True)


def create_bot(config: BotConfig, resources: Resources, *, sync: bool = False, **options: Any) -> MuseBot:
    return MuseBot(config=config, db=resources.db, queue=resources.queue, catalog=resources.worker.composer.catalog,
                   sync_commands=sync, **options)


async def serve(config: BotConfig, *, sync: bool = False) -> None:
    point_discord(config)
    async with open_resources(config) as resources:
        async with create_bot(config, resources, sync=sync) as bot:
            # SIGTERM (systemd, docker stop) closes cleanly; unfinished jobs stay queued in the database
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: spawn(bot.close(), name="close-on-sigterm"))
            await bot.start(config.token)


def main(*, sync: bool = False) -> int:
    config = load_config()
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("discord").setLevel(logging.INFO)
    log.info("starting Muse (data in %s, engine %s, sync %s)", config.data_dir, config.engine, sync)
    try:
        asyncio.run(serve(config, sync=sync))
    except KeyboardInterrupt:
        pass
    return 0
