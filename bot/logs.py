"""The bot's log output: JSON lines when MUSE_LOG_FORMAT=json, otherwise left exactly as it was.

In JSON each line names the host (the container or pod) and the shards this process runs, so the
lines of several bot processes and the composer tier can be merged and followed by `job_id`.
"""

from __future__ import annotations

import logging
import socket
from typing import IO, Any
from urllib.parse import urlsplit

from bot.config import BotConfig


def log_fields(config: BotConfig) -> dict[str, Any]:
    """What every line of this process says about where it came from."""
    fields: dict[str, Any] = {"tier": "bot", "host": socket.gethostname()}
    scale = config.scale
    if scale.shard_ids is not None:
        fields["shards"] = list(scale.shard_ids)
    elif scale.shard_count is not None:
        fields["shards"] = list(range(scale.shard_count))
    return fields


def secrets(config: BotConfig) -> tuple[str, ...]:
    """What must never reach a log line: the bot token and the database password."""
    found = [config.token]
    if config.scale.database_url:
        found.append(urlsplit(config.scale.database_url).password or "")
    return tuple(s for s in found if s)


def configure_logging(config: BotConfig, stream: IO[str] | None = None) -> logging.Handler | None:
    """JSON lines on `stream` (stderr) in place of the root logger's handlers; the token and the
    database password never appear in them.

    Returns the handler it installed, or None in text mode (the default), which it leaves alone."""
    if config.scale.log_format != "json":
        return None
    from composer.log_json import json_handler

    handler = json_handler(log_fields(config), redact=secrets(config), stream=stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler
