"""A real Muse bot (real composer, real SQLite, real discord.py) against the Discord stand-in.

Pieces are short (6 s) and most tests use the rules engine, so each composes in about a second; the
end-to-end /compose test and the fingerprints run the trained model, as production does.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.config import BotConfig, Limits
from bot.main import create_bot, open_resources
from tests.discord_standin import StandIn, running

FAST = Limits(cooldown_s=0.0, progress_interval_s=0.2, job_timeout_s=60.0)


@pytest.fixture
def bot_config(standin: StandIn, standin_env, tmp_path: Path) -> BotConfig:
    return BotConfig(token=standin.token, data_dir=tmp_path / "data", api_base=standin.api_base,
                     gateway=standin.gateway_url, engine="rules", limits=FAST)


@contextlib.asynccontextmanager
async def muse(standin: StandIn, config: BotConfig, composer, *, register: bool = True,
               **options: Any) -> AsyncIterator[Any]:
    """Start a Muse bot on the stand-in; commands are registered like an earlier `--sync` did."""
    async with open_resources(config, composer=composer) as resources:
        bot = create_bot(config, resources, guild_ready_timeout=0.05, **options)
        async with running(bot, standin.token):
            if register:  # the cogs add their commands in setup_hook
                standin.register_tree(bot.tree)
            yield bot


@pytest.fixture
async def bot(standin: StandIn, bot_config: BotConfig, composer):
    async with muse(standin, bot_config, composer) as client:
        yield client


def with_limits(config: BotConfig, **limits: Any) -> BotConfig:
    return replace(config, limits=replace(config.limits, **limits))


def start_worker(bot) -> None:
    """Let a bot started with `start_worker=False` compose what it has queued."""
    from bot.tasks import spawn

    bot.worker_task = spawn(bot.queue.run(), name="composer-worker")


def piece_files(delivery) -> dict[str, bytes]:
    """Attachments by extension: {"mid": …, "mp3": …, "png": …}."""
    return {name.rsplit(".", 1)[1]: data for name, data in delivery.attachments.items()}


def has_midi(delivery) -> bool:
    return any(name.endswith(".mid") for name in delivery.attachments)


def fields(delivery) -> dict[str, str]:
    (embed,) = delivery.embeds
    return {f["name"]: f["value"] for f in embed["fields"]}


async def piece_in_channel(standin, channel_id: int, timeout: float = 30):
    """The first message (new or edited) in a channel that carries a piece's MIDI file."""
    return await standin.wait_for(
        lambda d: d.kind in ("message", "edit_message") and d.channel_id == channel_id and has_midi(d),
        timeout=timeout, what="a piece in the channel")
