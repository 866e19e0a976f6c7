"""Run a discord.py client for the length of a test, and always shut it down.

``Client.start`` would do, but a test needs two more things: to fail fast
(with the client's own exception) when login or the Gateway handshake breaks,
and a bounded wait for ``on_ready``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, TypeVar

import discord

ClientT = TypeVar('ClientT', bound=discord.Client)


@contextlib.asynccontextmanager
async def running(client: ClientT, token: str, *, ready_timeout: float = 10.0) -> AsyncIterator[ClientT]:
    """Log ``client`` in, connect it, wait for ``on_ready``; close it on the way out."""
    connection: asyncio.Task[None] | None = None
    try:
        await client.login(token)
        connection = asyncio.create_task(client.connect(reconnect=True), name='standin-client-connect')
        ready = asyncio.create_task(client.wait_until_ready(), name='standin-client-ready')
        done, _ = await asyncio.wait({connection, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
            if connection in done:
                connection.result()  # raises the client's own error
                raise RuntimeError('client stopped before it was ready')
            raise TimeoutError(f'client not ready after {ready_timeout}s')
        yield client
    finally:
        await client.close()
        if connection is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(connection, timeout=5.0)
