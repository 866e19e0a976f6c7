"""Login, Gateway discovery, users, guilds, and the attachment "CDN".

Enough for ``Client.login`` (``/users/@me``, ``/oauth2/applications/@me``),
``/gateway[/bot]``, and the fetches a bot makes about people and places.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .faults import json_response
from .hub import Hub, RequestError


def routes(hub: Hub) -> list[web.RouteDef]:
    h = CoreRoutes(hub)
    return [
        web.get('/users/@me', h.me, name='get_me'),
        web.get('/users/{user_id}', h.user, name='get_user'),
        web.get('/oauth2/applications/@me', h.application, name='get_application'),
        web.get('/applications/@me', h.application, name='get_application_me'),
        web.get('/gateway', h.gateway, name='get_gateway'),
        web.get('/gateway/bot', h.gateway_bot, name='get_gateway_bot'),
        web.get('/guilds/{guild_id}', h.guild, name='get_guild'),
        web.get('/guilds/{guild_id}/channels', h.guild_channels, name='get_guild_channels'),
        web.get('/guilds/{guild_id}/roles', h.guild_roles, name='get_guild_roles'),
        web.get('/guilds/{guild_id}/members/{user_id}', h.member, name='get_member'),
    ]


def cdn_routes(hub: Hub) -> list[web.RouteDef]:
    h = CoreRoutes(hub)
    return [web.get('/attachments/{channel_id}/{attachment_id}/{filename}', h.attachment, name='cdn_attachment')]


class CoreRoutes:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.world = hub.world

    async def me(self, request: web.Request) -> web.Response:
        return json_response(self.world.bot.payload() | {'verified': True, 'mfa_enabled': False, 'flags': 0})

    async def user(self, request: web.Request) -> web.Response:
        user = self.world.users.get(int(request.match_info['user_id']))
        if user is None:
            raise RequestError(404, 10013, 'Unknown User')
        return json_response(user.payload())

    async def application(self, request: web.Request) -> web.Response:
        world = self.world
        guild = next(iter(world.guilds.values()))
        owner = world.users[guild.owner_id]
        return json_response({
            'id': str(world.application_id),
            'name': world.bot.name,
            'icon': None,
            'description': 'Muse (stand-in application)',
            'summary': '',
            'type': None,
            'bot_public': True,
            'bot_require_code_grant': False,
            'owner': owner.payload(),
            'team': None,
            'verify_key': '0' * 64,
            'flags': 0,
            'bot': world.bot.payload(),
            'interactions_endpoint_url': None,
            'redirect_uris': [],
            'tags': [],
            'approximate_guild_count': len(world.guilds),
        })

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({'url': self.hub.gateway.resume_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        return json_response({
            'url': self.hub.gateway.resume_url,
            'shards': self.hub.gateway.shards,
            'session_start_limit': {'total': 1000, 'remaining': 999, 'reset_after': 0, 'max_concurrency': 1},
        })

    def _guild(self, request: web.Request) -> Any:
        guild = self.world.guilds.get(int(request.match_info['guild_id']))
        if guild is None:
            raise RequestError(404, 10004, 'Unknown Guild')
        return guild

    async def guild(self, request: web.Request) -> web.Response:
        return json_response(self._guild(request).payload())

    async def guild_channels(self, request: web.Request) -> web.Response:
        return json_response([c.payload() for c in self._guild(request).channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.payload() for r in self._guild(request).roles])

    async def member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(int(request.match_info['user_id']))
        if member is None:
            raise RequestError(404, 10007, 'Unknown Member')
        return json_response(member.payload())

    async def attachment(self, request: web.Request) -> web.Response:
        attachment = self.hub.find_attachment(int(request.match_info['attachment_id']))
        if attachment is None:
            raise web.HTTPNotFound()
        return web.Response(body=attachment.data, headers={'Content-Type': attachment.content_type})
