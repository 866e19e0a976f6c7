"""Channel messages: send, fetch, edit, delete, react, type; and DM channels.

This is the path a bot falls back to when an interaction token has expired,
and the one mentions and DMs are answered on.
"""

from __future__ import annotations

from aiohttp import web

from .faults import json_response
from .hub import Hub, RequestError
from .models import Channel, Message


def routes(hub: Hub) -> list[web.RouteDef]:
    h = MessageRoutes(hub)
    msg = '/channels/{channel_id}/messages/{message_id}'
    return [
        web.get('/channels/{channel_id}', h.get_channel, name='get_channel'),
        web.post('/channels/{channel_id}/messages', h.create, name='create_message'),
        web.get('/channels/{channel_id}/messages', h.history, name='list_messages'),
        web.get(msg, h.get, name='get_message'),
        web.patch(msg, h.edit, name='edit_message'),
        web.delete(msg, h.delete, name='delete_message'),
        web.put(msg + '/reactions/{emoji}/@me', h.react, name='add_reaction'),
        web.delete(msg + '/reactions/{emoji}/@me', h.unreact, name='remove_reaction'),
        web.post('/channels/{channel_id}/typing', h.typing, name='typing'),
        web.post('/users/@me/channels', h.open_dm, name='create_dm'),
    ]


class MessageRoutes:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.world = hub.world

    def _channel(self, request: web.Request) -> Channel:
        channel = self.world.channels.get(int(request.match_info['channel_id']))
        if channel is None:
            raise RequestError(404, 10003, 'Unknown Channel')
        return channel

    def _message(self, request: web.Request) -> Message:
        channel = self._channel(request)
        message = self.world.messages.get(int(request.match_info['message_id']))
        if message is None or message.deleted or message.channel_id != channel.id:
            raise RequestError(404, 10008, 'Unknown Message')
        return message

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).payload())

    async def create(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        payload, uploads = await self.hub.read_body(request)
        self.hub.check_uploads(uploads, self.world.upload_limit(channel.id))
        if not (payload.get('content') or payload.get('embeds') or uploads or payload.get('components')):
            raise RequestError(400, 50006, 'Cannot send an empty message')
        message = self.hub.new_message(channel.id)
        files = self.hub.apply(message, payload, uploads, editing=False)
        await self.hub.deliver('message', request, payload, files, message)
        await self.hub.echo('MESSAGE_CREATE', message)
        return json_response(message.payload())

    async def history(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = int(request.query.get('limit', 50))
        found = [m for m in self.world.messages.values() if m.channel_id == channel.id and not m.deleted]
        found.sort(key=lambda m: m.id, reverse=True)
        return json_response([m.payload() for m in found[:limit]])

    async def get(self, request: web.Request) -> web.Response:
        return json_response(self._message(request).payload())

    async def edit(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message.author.id != self.world.bot.id:
            raise RequestError(403, 50005, 'Cannot edit a message authored by another user')
        payload, uploads = await self.hub.read_body(request)
        self.hub.check_uploads(uploads, self.world.upload_limit(message.channel_id))
        files = self.hub.apply(message, payload, uploads, editing=True)
        await self.hub.deliver('edit_message', request, payload, files, message)
        await self.hub.echo('MESSAGE_UPDATE', message)
        return json_response(message.payload())

    async def delete(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.deleted = True
        await self.hub.deliver('delete_message', request, {}, [], message)
        return web.Response(status=204)

    async def react(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = request.match_info['emoji']
        message.reactions[emoji] = message.reactions.get(emoji, 0) + 1
        await self.hub.deliver('reaction', request, {'emoji': emoji, 'added': True}, [], message)
        return web.Response(status=204)

    async def unreact(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = request.match_info['emoji']
        if message.reactions.get(emoji):
            message.reactions[emoji] -= 1
            if not message.reactions[emoji]:
                del message.reactions[emoji]
        await self.hub.deliver('reaction', request, {'emoji': emoji, 'added': False}, [], message)
        return web.Response(status=204)

    async def typing(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        await self.hub.deliver('typing', request, {'channel_id': str(channel.id)}, [], None)
        return web.Response(status=204)

    async def open_dm(self, request: web.Request) -> web.Response:
        payload, _ = await self.hub.read_body(request)
        user = self.world.users.get(int(payload.get('recipient_id', 0)))
        if user is None:
            raise RequestError(404, 10013, 'Unknown User')
        return json_response(self.world.dm_channel(user).payload())
