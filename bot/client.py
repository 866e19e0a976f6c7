"""The bot class: thin. It holds the resources main() created and loads one cog per feature.

`bot_class(config)` picks it: the plain `MuseBot` (one Gateway connection) unless the settings
name shards, then `ShardedMuseBot`, which runs exactly `shard_ids` of `shard_count`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord.ext import commands

from bot.config import BotConfig
from bot.errors import on_app_command_error
from bot.job_queue import JobQueue
from bot.shards import describe
from bot.tasks import spawn
from composer import Catalog
from storage import Database

log = logging.getLogger(__name__)


class MuseBot(commands.Bot):
    def __init__(self, *, config: BotConfig, db: Database, queue: JobQueue, catalog: Catalog,
                 sync_commands: bool = False, start_worker: bool = True, **options: Any):
        intents = discord.Intents.default()
        intents.message_content = False  # mentions and DMs carry their text without it
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none(), **options)
        self.config = config
        self.db = db
        self.queue = queue
        self.catalog = catalog
        self.sync_commands = sync_commands
        self.start_worker = start_worker
        self.worker_task: asyncio.Task[None] | None = None
        queue.client = self

    async def setup_hook(self) -> None:
        from bot.cogs.compose import ComposeCog
        from bot.cogs.history import HistoryCog
        from bot.cogs.info import InfoCog
        from bot.cogs.jam import JamCog
        from bot.cogs.themes import ThemeCog

        for cog in (ComposeCog(self), HistoryCog(self), InfoCog(self), ThemeCog(self), JamCog(self)):
            await self.add_cog(cog)
        self.tree.on_error = on_app_command_error
        if self.sync_commands and self.config.scale.syncs_commands:
            await self.sync_tree()
        elif self.sync_commands:  # every process may be started with --sync; shard 0's process syncs
            log.info("not syncing slash commands: the process running shard 0 does (this one runs %s)",
                     describe(self.config.scale))
        if self.start_worker:
            await self.queue.restore()
            self.worker_task = spawn(self.queue.run(), name="composer-worker")

    async def sync_tree(self) -> list[str]:
        """Create or update the slash commands (globally, or in MUSE_SYNC_GUILD only)."""
        if self.config.sync_guild is not None:
            guild = discord.Object(self.config.sync_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d slash commands", len(synced))
        return [c.name for c in synced]

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions and DMs are handled by the compose cog's listener."""

    async def close(self) -> None:
        task = self.worker_task
        while task is not None and not task.done():
            # cancel again until it stops: on Python 3.11 asyncio.wait_for can swallow a
            # cancellation that arrives just as the call it waits on (a model pass) finishes
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error("the composer worker had stopped with an error", exc_info=task.exception())
        await super().close()


class ShardedMuseBot(MuseBot, commands.AutoShardedBot):
    """Muse on several Gateway shards: this process runs `config.scale.shard_ids` (all when unset)
    of `config.scale.shard_count`; other processes run the rest against the same database."""

    def __init__(self, *, config: BotConfig, **kwargs: Any):
        scale = config.scale
        if scale.shard_count is None:
            raise ValueError("ShardedMuseBot needs config.scale.shard_count")
        kwargs.setdefault("shard_count", scale.shard_count)
        if scale.shard_ids is not None:
            kwargs.setdefault("shard_ids", list(scale.shard_ids))
        super().__init__(config=config, **kwargs)


def bot_class(config: BotConfig) -> type[MuseBot]:
    """The bot class for these settings: `ShardedMuseBot` when shards are set, else the plain `MuseBot`."""
    return ShardedMuseBot if config.scale.sharded else MuseBot
