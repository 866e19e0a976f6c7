"""Interaction callbacks and the interaction webhook (``@original``, followups).

Discord's rules that bots trip over are kept: one callback per interaction,
within the acknowledgement deadline; the token dies (401, code 50027) when it
expires; a deferred "thinking" message is replaced by the first edit *or* the
first followup (which then keeps the defer's visibility); uploads above the
interaction's ``attachment_size_limit`` get a 413.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .faults import json_response
from .hub import EPHEMERAL, LOADING, Hub, RequestError
from .modals import check_modal
from .world import Interaction

CALLBACK_MESSAGE, CALLBACK_DEFER, CALLBACK_DEFER_UPDATE, CALLBACK_UPDATE, CALLBACK_AUTOCOMPLETE, CALLBACK_MODAL = 4, 5, 6, 7, 8, 9


def routes(hub: Hub) -> list[web.RouteDef]:
    h = InteractionRoutes(hub)
    hook = '/webhooks/{app_id}/{token}'
    return [
        web.post('/interactions/{interaction_id}/{token}/callback', h.callback, name='callback'),
        web.get(hook + '/messages/@original', h.get_original, name='get_original'),
        web.patch(hook + '/messages/@original', h.edit_original, name='edit_original'),
        web.delete(hook + '/messages/@original', h.delete_original, name='delete_original'),
        web.post(hook, h.followup, name='followup'),
        web.get(hook + '/messages/{message_id}', h.get_followup, name='get_followup'),
        web.patch(hook + '/messages/{message_id}', h.edit_followup, name='edit_followup'),
        web.delete(hook + '/messages/{message_id}', h.delete_followup, name='delete_followup'),
    ]


class InteractionRoutes:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.world = hub.world

    # --- callback ------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        ix = self.world.interactions.get(int(request.match_info['interaction_id']))
        if ix is None or ix.token != request.match_info['token']:
            raise RequestError(404, 10062, 'Unknown interaction')
        age_s = time.monotonic() - ix.created
        if ix.expired or (self.hub.ack_deadline_s is not None and age_s > self.hub.ack_deadline_s):
            raise RequestError(404, 10062, f'Unknown interaction (acknowledged after {age_s:.2f}s)')
        if ix.callback_type is not None:
            raise RequestError(400, 40060, 'Interaction has already been acknowledged.')
        payload, uploads = await self.hub.read_body(request)
        kind, data = int(payload['type']), payload.get('data') or {}
        self.hub.check_uploads(uploads, ix.attachment_size_limit)

        message, files = None, []
        if kind in (CALLBACK_MESSAGE, CALLBACK_DEFER):
            flags = int(data.get('flags') or 0) & EPHEMERAL
            message = self.hub.new_message(ix.channel_id, interaction_id=ix.id, webhook_id=self.world.application_id)
            message.flags = flags | (LOADING if kind == CALLBACK_DEFER else 0)
            if kind == CALLBACK_MESSAGE:
                files = self.hub.apply(message, data, uploads, editing=False)
            ix.original_message_id = message.id
        elif kind == CALLBACK_MODAL:
            check_modal(data, ix.type)
        elif kind in (CALLBACK_DEFER_UPDATE, CALLBACK_UPDATE):
            message = self.world.messages.get(ix.source_message_id or 0)
            if message is None:
                raise RequestError(400, 50035, 'Invalid Form Body: no message to update')
            if kind == CALLBACK_UPDATE:
                files = self.hub.apply(message, data, uploads, editing=True)
            ix.original_message_id = message.id

        ix.callback_type = kind
        ix.acked_after_s = age_s
        await self.hub.deliver('callback', request, payload, files, message, interaction_id=ix.id, callback_type=kind)
        if message is not None and kind in (CALLBACK_MESSAGE, CALLBACK_DEFER):
            await self.hub.echo('MESSAGE_CREATE', message)
        elif message is not None and kind == CALLBACK_UPDATE:
            await self.hub.echo('MESSAGE_UPDATE', message)

        if request.query.get('with_response') not in ('1', 'true', 'True'):
            return web.Response(status=204)
        return json_response(self._callback_response(ix, kind, message))

    def _callback_response(self, ix: Interaction, kind: int, message: Any) -> dict[str, Any]:
        body: dict[str, Any] = {'interaction': {
            'id': str(ix.id),
            'type': ix.type,
            'activity_instance_id': None,
            'response_message_id': str(message.id) if message else None,
            'response_message_loading': bool(message and message.flags & LOADING),
            'response_message_ephemeral': bool(message and message.flags & EPHEMERAL),
        }}
        if message is not None:
            body['resource'] = {'type': kind, 'message': message.payload()}
        return body

    # --- the interaction webhook ----------------------------------------------

    def _interaction(self, request: web.Request) -> Interaction:
        ix = self.world.interactions_by_token.get(request.match_info['token'])
        if ix is None or request.match_info['app_id'] != str(self.world.application_id):
            raise RequestError(404, 10015, 'Unknown Webhook')
        if ix.expired:
            raise RequestError(401, 50027, 'Invalid Webhook Token')
        return ix

    def _original(self, ix: Interaction) -> Any:
        message = self.world.messages.get(ix.original_message_id or 0)
        if message is None or message.deleted:
            raise RequestError(404, 10008, 'Unknown Message')
        return message

    def _followup_message(self, ix: Interaction, request: web.Request) -> Any:
        message_id = int(request.match_info['message_id'])
        if message_id not in ix.followup_ids and message_id != ix.original_message_id:
            raise RequestError(404, 10008, 'Unknown Message')
        message = self.world.messages[message_id]
        if message.deleted:
            raise RequestError(404, 10008, 'Unknown Message')
        return message

    async def get_original(self, request: web.Request) -> web.Response:
        return json_response(self._original(self._interaction(request)).payload())

    async def edit_original(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return await self._edit(request, ix, self._original(ix), 'edit_original')

    async def delete_original(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return await self._delete(request, ix, self._original(ix), 'delete_original')

    async def get_followup(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return json_response(self._followup_message(ix, request).payload())

    async def edit_followup(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return await self._edit(request, ix, self._followup_message(ix, request), 'edit_followup')

    async def delete_followup(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return await self._delete(request, ix, self._followup_message(ix, request), 'delete_followup')

    async def followup(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        if ix.callback_type is None:
            raise RequestError(404, 10015, 'Unknown Webhook (interaction not acknowledged yet)')
        payload, uploads = await self.hub.read_body(request)
        self.hub.check_uploads(uploads, ix.attachment_size_limit)
        original = self.world.messages.get(ix.original_message_id or 0)
        if original is not None and original.flags & LOADING:
            # The first followup after a defer replaces the "thinking" message and keeps its visibility.
            payload_flags = {**payload, 'flags': int(payload.get('flags') or 0) & ~EPHEMERAL}
            files = self.hub.apply(original, payload_flags, uploads, editing=True)
            original.flags &= ~LOADING
            await self.hub.deliver('followup', request, payload, files, original, interaction_id=ix.id)
            await self.hub.echo('MESSAGE_UPDATE', original)
            return json_response(original.payload())
        message = self.hub.new_message(ix.channel_id, interaction_id=ix.id, webhook_id=self.world.application_id)
        files = self.hub.apply(message, payload, uploads, editing=False)
        ix.followup_ids.append(message.id)
        await self.hub.deliver('followup', request, payload, files, message, interaction_id=ix.id)
        await self.hub.echo('MESSAGE_CREATE', message)
        if request.query.get('wait') in ('1', 'true', 'True'):
            return json_response(message.payload())
        return web.Response(status=204)

    async def _edit(self, request: web.Request, ix: Interaction, message: Any, kind: str) -> web.Response:
        payload, uploads = await self.hub.read_body(request)
        self.hub.check_uploads(uploads, ix.attachment_size_limit)
        files = self.hub.apply(message, payload, uploads, editing=True)
        message.flags &= ~LOADING
        await self.hub.deliver(kind, request, payload, files, message, interaction_id=ix.id)
        await self.hub.echo('MESSAGE_UPDATE', message)
        return json_response(message.payload())

    async def _delete(self, request: web.Request, ix: Interaction, message: Any, kind: str) -> web.Response:
        message.deleted = True
        await self.hub.deliver(kind, request, {}, [], message, interaction_id=ix.id)
        if not message.ephemeral:
            await self._echo_delete(message)
        return web.Response(status=204)

    async def _echo_delete(self, message: Any) -> None:
        if self.hub.gateway.current is not None:
            data = {'id': str(message.id), 'channel_id': str(message.channel_id)}
            if message.guild_id is not None:
                data['guild_id'] = str(message.guild_id)
            await self.hub.gateway.dispatch('MESSAGE_DELETE', data, required=False)
