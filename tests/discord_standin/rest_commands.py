"""Application command registration: global and per-guild, bulk and one by one.

Payloads are checked against the limits Discord enforces (names, descriptions,
at most 25 options and 25 choices, required options first) and refused with
400 / 50035 as Discord does, which discord.py raises as ``CommandSyncFailure``.
Every write is counted in ``recorder.sync_calls``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .faults import json_response
from .hub import Hub, RequestError
from .record import SyncCall

NAME_RE = re.compile(r'^[-_\w]{1,32}$')


def routes(hub: Hub) -> list[web.RouteDef]:
    h = CommandRoutes(hub)
    out = []
    for scope, prefix in (('global', '/applications/{app_id}'), ('guild', '/applications/{app_id}/guilds/{guild_id}')):
        base = prefix + '/commands'
        out += [
            web.get(base, h.list, name=f'list_{scope}_commands'),
            web.put(base, h.bulk, name=f'sync_{scope}_commands'),
            web.post(base, h.upsert, name=f'create_{scope}_command'),
            web.get(base + '/{command_id}', h.get, name=f'get_{scope}_command'),
            web.patch(base + '/{command_id}', h.edit, name=f'edit_{scope}_command'),
            web.delete(base + '/{command_id}', h.delete, name=f'delete_{scope}_command'),
        ]
    return out


def validate(command: dict[str, Any], where: str = '') -> list[str]:
    """Problems Discord would reject this command (or subcommand) for."""
    problems = _naming(command, where) if command.get('type', 1) == 1 or where else []
    name = command.get('name', '')
    options = command.get('options') or []
    if len(options) > 25:
        problems.append(f'{where}{name}: {len(options)} options (at most 25)')
    seen_optional = False
    for option in options:
        if option.get('type') in (1, 2):
            problems += validate(option, f'{where}{name} ')
            continue
        label = f'{where}{name} {option.get("name")}'
        problems += _naming(option, f'{where}{name} ')
        if len(option.get('choices') or []) > 25:
            problems.append(f'{label}: more than 25 choices')
        if option.get('choices') and option.get('autocomplete'):
            problems.append(f'{label}: choices and autocomplete are exclusive')
        if option.get('required') and seen_optional:
            problems.append(f'{label}: required options must come first')
        seen_optional = seen_optional or not option.get('required')
    return problems


def _naming(obj: dict[str, Any], where: str) -> list[str]:
    name, problems = obj.get('name', ''), []
    if not NAME_RE.match(name) or name != name.lower():
        problems.append(f'{where}name {name!r}: 1-32 lowercase letters, digits, - or _')
    if not 1 <= len(obj.get('description', '')) <= 100:
        problems.append(f'{where}{name}: description must be 1-100 characters')
    return problems


class CommandRoutes:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.world = hub.world

    def _scope(self, request: web.Request) -> int | None:
        if request.match_info['app_id'] != str(self.world.application_id):
            raise RequestError(403, 50001, 'Missing Access')
        guild_id = request.match_info.get('guild_id')
        if guild_id is not None and int(guild_id) not in self.world.guilds:
            raise RequestError(403, 50001, 'Missing Access')
        return int(guild_id) if guild_id is not None else None

    def _check(self, commands: list[dict[str, Any]]) -> None:
        problems = [p for c in commands for p in validate(c)]
        if len(commands) > 100:
            problems.append(f'{len(commands)} commands (at most 100)')
        if problems:
            raise RequestError(400, 50035, 'Invalid Form Body: ' + '; '.join(problems))

    async def list(self, request: web.Request) -> web.Response:
        return json_response(self.world.commands.get(self._scope(request), []))

    async def bulk(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        payload, _ = await self.hub.read_body(request)
        self._check(payload)
        stored = self.world.set_commands(scope, payload)
        await self._record(request, scope, [c['name'] for c in stored])
        return json_response(stored)

    async def upsert(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        payload, _ = await self.hub.read_body(request)
        self._check([payload])
        current = [c for c in self.world.commands.get(scope, []) if c['name'] != payload['name']]
        stored = self.world.set_commands(scope, current + [payload])
        await self._record(request, scope, [payload['name']])
        return json_response(next(c for c in stored if c['name'] == payload['name']), status=201)

    async def _record(self, request: web.Request, scope: int | None, names: list[str]) -> None:
        peer = request.transport.get_extra_info('peername') if request.transport else None
        where = f'{peer[0]}:{peer[1]}' if peer else '?'
        self.hub.recorder.sync_calls.append(SyncCall(request.match_info.route.name or '', scope, names, where))
        await self.hub.recorder.notify()

    def _find(self, request: web.Request) -> tuple[int | None, dict[str, Any]]:
        scope = self._scope(request)
        for command in self.world.commands.get(scope, []):
            if command['id'] == request.match_info['command_id']:
                return scope, command
        raise RequestError(404, 10063, 'Unknown application command')

    async def get(self, request: web.Request) -> web.Response:
        return json_response(self._find(request)[1])

    async def edit(self, request: web.Request) -> web.Response:
        scope, command = self._find(request)
        payload, _ = await self.hub.read_body(request)
        merged = {**command, **payload}
        self._check([merged])
        command.update(payload)
        return json_response(command)

    async def delete(self, request: web.Request) -> web.Response:
        scope, command = self._find(request)
        self.world.commands[scope] = [c for c in self.world.commands[scope] if c is not command]
        return web.Response(status=204)
