"""Point the unmodified discord.py client at another Discord.

discord.py builds every REST URL from ``Route.BASE`` (interaction webhooks
included) and opens the Gateway at ``DiscordWebSocket.DEFAULT_GATEWAY``; these
two class attributes are the whole switch. The real bot applies
``MUSE_DISCORD_API_BASE`` / ``MUSE_DISCORD_GATEWAY`` the same way.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def point_discord_at(api_base: str, gateway: str) -> tuple[str, yarl.URL]:
    """Send discord.py's REST calls to ``api_base`` and its Gateway to ``gateway``.

    Returns the previous ``(api_base, gateway)`` so a caller can restore them.
    """
    previous = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    Route.BASE = api_base.rstrip('/')
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return previous


@contextlib.contextmanager
def pointed_at(api_base: str, gateway: str) -> Iterator[None]:
    """``point_discord_at`` for the duration of a block (class attributes are process-global)."""
    old_base, old_gateway = point_discord_at(api_base, gateway)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
