"""The REST API v10 as one aiohttp sub-application, with auth, faults and errors.

Every route has a name (``edit_original``, ``create_message``, ...); fault
rules and rejections refer to routes by these names. A request for a route the
stand-in does not implement is answered 404 and listed in
``recorder.unhandled`` so a test can see what the bot wanted.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from . import rest_commands, rest_core, rest_interactions, rest_messages
from .faults import error_response
from .hub import Hub, RequestError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN_ROUTES = ('/interactions/', '/webhooks/')  # authorised by the token in the path, not a header


def build_api(hub: Hub) -> web.Application:
    api = web.Application(middlewares=[_middleware(hub)], client_max_size=256 * 1024 * 1024)
    for module in (rest_core, rest_messages, rest_interactions, rest_commands):
        api.add_routes(module.routes(hub))
    return api


def _interaction_id(hub: Hub, request: web.Request) -> int | None:
    info = request.match_info
    if 'interaction_id' in info:
        return int(info['interaction_id'])
    ix = hub.world.interactions_by_token.get(info.get('token', ''))
    return ix.id if ix else None


def _middleware(hub: Hub):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if route is None:  # not implemented here
            hub.recorder.unhandled.append(f'{request.method} {request.path}')
            return error_response(404, 0, f'404: Not Found (the stand-in has no {request.method} {request.path})')
        if not any(part in request.path for part in TOKEN_ROUTES):
            if request.headers.get('Authorization') != f'Bot {hub.world.token}':
                return await hub.reject(request, 401, 0, '401: Unauthorized')
        interaction_id = _interaction_id(hub, request)
        fault = hub.faults.take(route, interaction_id)
        if fault is not None:
            await request.read()
            return await hub.reject(request, fault.status, fault.code, f'fault injected on {route}',
                                    interaction_id, fault.response())
        try:
            return await handler(request)
        except RequestError as exc:
            return await hub.reject(request, exc.status, exc.code, exc.message, interaction_id)

    return middleware
