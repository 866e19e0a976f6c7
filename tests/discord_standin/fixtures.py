"""pytest fixtures: a started stand-in, and discord.py (or a bot's env) pointed at it.

Load with ``pytest_plugins = ["tests.discord_standin.fixtures"]`` in
``tests/conftest.py``.
"""

from __future__ import annotations

from typing import AsyncIterator, Iterator

import pytest

from .pointing import pointed_at
from .server import StandIn


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    """A stand-in Discord on 127.0.0.1 with an ephemeral port; closed after the test."""
    async with StandIn() as server:
        yield server


@pytest.fixture
def standin_env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """``DISCORD_TOKEN``, ``MUSE_DISCORD_API_BASE`` and ``MUSE_DISCORD_GATEWAY`` set for the test.

    Also points discord.py's class-level URLs at the stand-in (restored after),
    so an in-process bot works whether or not it applies the variables itself.
    """
    for key, value in standin.env.items():
        monkeypatch.setenv(key, value)
    with pointed_at(standin.api_base, standin.gateway_url):
        yield standin.env
