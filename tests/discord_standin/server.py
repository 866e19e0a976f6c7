"""``StandIn``: a Discord-compatible server on loopback for the unmodified discord.py client.

One aiohttp application serves the REST API under ``/api/v10``, the Gateway
at ``/gw`` and attachment downloads under ``/attachments``. Start it, point
discord.py at ``api_base`` / ``gateway_url``, and drive it with the
``ClientAPI`` methods. ``shards`` is what ``GET /gateway/bot`` recommends;
``max_guilds_per_shard`` makes an IDENTIFY whose shard would hold more close
with 4011 (sharding required), as Discord does past 2,500 guilds.
"""

from __future__ import annotations

import socket

from aiohttp import web

from .client_api import ClientAPI
from .faults import Faults
from .gateway import PRIVILEGED_INTENTS, Gateway
from .hub import Hub
from .record import Recorder
from .rest import build_api
from .rest_core import cdn_routes
from .world import World


class StandIn(ClientAPI):
    def __init__(self, *, token: str | None = None, host: str = '127.0.0.1', port: int = 0,
                 ack_deadline_s: float | None = 3.0, heartbeat_interval_ms: int = 41250,
                 privileged_intents: int = PRIVILEGED_INTENTS, shards: int = 1,
                 max_guilds_per_shard: int | None = None):
        self.world = World(token=token)
        self.recorder = Recorder()
        self.faults = Faults()
        self.gateway = Gateway(self.world, self.recorder, heartbeat_interval_ms=heartbeat_interval_ms,
                               privileged_intents=privileged_intents, shards=shards,
                               max_guilds_per_shard=max_guilds_per_shard)
        self.hub = Hub(self.world, self.recorder, self.gateway, self.faults, ack_deadline_s=ack_deadline_s)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self.route_names: set[str] = set()  # what fault rules may name

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def http_base(self) -> str:
        return f'http://{self.host}:{self.port}'

    @property
    def api_base(self) -> str:
        """What ``MUSE_DISCORD_API_BASE`` should be."""
        return f'{self.http_base}/api/v10'

    @property
    def gateway_url(self) -> str:
        """What ``MUSE_DISCORD_GATEWAY`` should be."""
        return f'ws://{self.host}:{self.port}/gw'

    @property
    def env(self) -> dict[str, str]:
        """Environment for a bot process: token and both URLs."""
        return {'DISCORD_TOKEN': self.token, 'MUSE_DISCORD_API_BASE': self.api_base, 'MUSE_DISCORD_GATEWAY': self.gateway_url}

    async def start(self) -> StandIn:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        api = build_api(self.hub)
        self.route_names = {r.name for r in api.router.routes() if r.name}
        app.add_subapp('/api/v10', api)
        app.router.add_get('/gw', self.gateway.handle, name='gateway')
        app.router.add_get('/gw/', self.gateway.handle)
        app.add_routes(cdn_routes(self.hub))
        app.on_shutdown.append(lambda _app: self.gateway.close_all())
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.hub.http_base = self.http_base
        self.gateway.resume_url = self.gateway_url
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
