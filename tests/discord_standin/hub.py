"""Shared plumbing for the REST handlers: bodies in, messages stored, errors out.

Handlers in ``rest_*.py`` stay short by leaning on this: reading JSON or
multipart (``payload_json`` + ``files[n]``) bodies, applying a create/edit to
a stored message, enforcing upload limits, recording deliveries, and echoing
the bot's own messages on the Gateway as Discord does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .faults import Faults, error_response
from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, Gateway
from .mentions import compute_pings
from .models import Attachment, Message, content_type_for
from .record import Delivery, Recorder, Rejection
from .snowflake import snowflake
from .world import World

LOADING = 128  # message flag: "Muse is thinking…"
EPHEMERAL = 64


@dataclass
class Upload:
    index: int
    filename: str
    data: bytes


class RequestError(Exception):
    """Raised inside a handler to answer with a Discord-shaped JSON error."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Hub:
    def __init__(self, world: World, recorder: Recorder, gateway: Gateway, faults: Faults, *, ack_deadline_s: float | None):
        self.world = world
        self.recorder = recorder
        self.gateway = gateway
        self.faults = faults
        self.ack_deadline_s = ack_deadline_s
        self.http_base = ''  # e.g. http://127.0.0.1:PORT, set once the server listens
        self.uploads: dict[int, Attachment] = {}  # files members uploaded (attachment options, messages)

    # --- bodies --------------------------------------------------------------

    async def read_body(self, request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
        if not request.body_exists:
            return {}, []
        if request.content_type.startswith('multipart/'):
            payload: dict[str, Any] = {}
            uploads: list[Upload] = []
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ''
                if name == 'payload_json':
                    payload = json.loads(await part.text())
                elif name.startswith('files['):
                    uploads.append(Upload(int(name[6:-1]), part.filename or 'file', bytes(await part.read())))
            return payload, uploads
        raw = await request.read()
        return (json.loads(raw) if raw else {}), []

    # --- messages ------------------------------------------------------------

    def check_uploads(self, uploads: list[Upload], limit: int) -> None:
        for upload in uploads:
            if len(upload.data) > limit:
                raise RequestError(413, 40005, f'Request entity too large: {upload.filename} is {len(upload.data)} bytes, limit {limit}')

    def new_message(self, channel_id: int, **fields: Any) -> Message:
        channel = self.world.channels[channel_id]
        message = Message(snowflake(), channel_id, channel.guild_id, self.world.bot, **fields)
        if channel.guild_id is not None:
            message.author_member = self.world.member(channel.guild_id, self.world.bot)
        self.world.messages[message.id] = message
        return message

    def apply(self, message: Message, payload: dict[str, Any], uploads: list[Upload], *, editing: bool) -> list[Attachment]:
        """Apply a create or edit body to ``message`` (Discord's field-by-field PATCH semantics).

        Returns the attachments this body uploaded.
        """
        if 'content' in payload:
            message.content = payload['content'] or ''
        if 'embeds' in payload:
            message.embeds = payload['embeds'] or []
        if 'components' in payload:
            message.components = payload['components'] or []
        if 'flags' in payload and payload['flags'] is not None:
            keep = message.flags & EPHEMERAL if editing else 0
            message.flags = (int(payload['flags']) & ~LOADING) | keep
        if 'allowed_mentions' in payload:
            message.allowed_mentions = payload['allowed_mentions']
        if 'message_reference' in payload and not editing:
            message.message_reference = payload['message_reference']
        before = {a.id for a in message.attachments}
        message.attachments = self._attachments(message, payload, uploads)
        if editing:
            message.edited = True
            message.edited_timestamp = message.timestamp
        self._compute_pings(message)
        return [a for a in message.attachments if a.id not in before]

    def _attachments(self, message: Message, payload: dict[str, Any], uploads: list[Upload]) -> list[Attachment]:
        by_index = {u.index: u for u in uploads}
        if 'attachments' not in payload:
            return message.attachments + [self._store_upload(message, u, None) for u in uploads]
        kept: list[Attachment] = []
        existing = {a.id: a for a in message.attachments}
        for entry in payload['attachments'] or []:
            ref = int(entry['id'])
            if ref in existing:
                kept.append(existing[ref])
            elif ref in by_index:
                kept.append(self._store_upload(message, by_index[ref], entry.get('description')))
        return kept

    def _store_upload(self, message: Message, upload: Upload, description: str | None) -> Attachment:
        att_id = snowflake()
        content_type = content_type_for(upload.filename)
        url = f'{self.http_base}/attachments/{message.channel_id}/{att_id}/{upload.filename}'
        return Attachment(att_id, upload.filename, content_type, upload.data, url, description)

    def _compute_pings(self, message: Message) -> None:
        replied = None
        ref = message.message_reference
        if ref and ref.get('message_id') and int(ref['message_id']) in self.world.messages:
            replied = self.world.messages[int(ref['message_id'])].author.id
        pings = compute_pings(message.content, message.allowed_mentions, replied_user_id=replied)
        pings['user_objects'] = [self.world.users[u] for u in pings['users'] if u in self.world.users]
        message.pings = pings

    def find_attachment(self, att_id: int) -> Attachment | None:
        if att_id in self.uploads:
            return self.uploads[att_id]
        for message in self.world.messages.values():
            for attachment in message.attachments:
                if attachment.id == att_id:
                    return attachment
        return None

    # --- recording -------------------------------------------------------------

    async def deliver(self, kind: str, request: web.Request, payload: dict[str, Any], files: list[Attachment],
                      message: Message | None, *, interaction_id: int | None = None, callback_type: int | None = None) -> None:
        await self.recorder.add_delivery(Delivery(
            kind=kind, route=request.match_info.route.name or '', payload=payload, files=files, message=message,
            interaction_id=interaction_id, channel_id=message.channel_id if message else None, callback_type=callback_type,
        ))

    async def reject(self, request: web.Request, status: int, code: int, message: str,
                     interaction_id: int | None = None, response: web.Response | None = None) -> web.Response:
        await self.recorder.add_rejection(Rejection(
            request.match_info.route.name or '', request.method, request.path, status, code, message, interaction_id,
        ))
        return response or error_response(status, code, message)

    # --- gateway echoes -------------------------------------------------------

    async def echo(self, event: str, message: Message) -> None:
        """Tell the bot about a message as Discord would (its own included), honouring intents.

        It goes to the shard of the message's guild (DMs: shard 0), and nowhere when no bot runs it."""
        session = self.gateway.sessions.route(message.guild_id)
        if session is None or message.ephemeral:
            return
        needed = DIRECT_MESSAGES if message.guild_id is None else GUILD_MESSAGES
        if not session.intents & needed:
            return
        payload = message.payload(hide_content=not self.content_visible(message, session.intents))
        await self.gateway.send_event(session, event, payload, message.guild_id)

    def content_visible(self, message: Message, intents: int) -> bool:
        """Without the message-content intent, only DMs, mentions and the bot's own messages carry content."""
        return bool(
            intents & MESSAGE_CONTENT
            or message.guild_id is None
            or message.author.id == self.world.bot.id
            or self.world.bot.id in message.pings.get('users', [])
        )
