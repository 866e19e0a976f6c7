"""The Gateway websocket: HELLO, heartbeats, IDENTIFY → READY, RESUME → RESUMED.

Frames are plain JSON text; discord.py asks for ``compress=zlib-stream`` in
the URL but only decompresses binary frames, so text frames need no zlib.
Dispatches are numbered per session and kept, so a client that RESUMEs after a
drop receives everything it missed, as on Discord.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .record import Recorder
from .world import World

_log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, ACK = (
    0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11,
)
GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | MESSAGE_CONTENT  # members, presences, message content


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    sent: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame) for resume replay
    ws: web.WebSocketResponse | None = None
    identifies: int = 1
    resumes: int = 0


class Gateway:
    def __init__(self, world: World, recorder: Recorder, *, heartbeat_interval_ms: int = 41250, privileged_intents: int = PRIVILEGED_INTENTS):
        self.world = world
        self.recorder = recorder
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents  # which privileged intents the "developer portal" enabled
        self.resume_url = ''  # set by the server once it knows its port
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None
        self.sockets: set[web.WebSocketResponse] = set()
        self.heartbeats = 0

    # --- test-side controls --------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send (or queue, while disconnected) one event to the current session."""
        session = self.current
        if session is None:
            raise RuntimeError(f'cannot dispatch {event}: no bot has identified on the Gateway')
        session.seq += 1
        frame = json.dumps({'op': DISPATCH, 't': event, 's': session.seq, 'd': data})
        session.sent.append((session.seq, frame))
        del session.sent[:-5000]
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_str(frame)

    async def drop(self, code: int = 4000) -> None:
        """Close the live connection with ``code``; the session stays resumable."""
        session = self.current
        if session is None or session.ws is None:
            raise RuntimeError('no live Gateway connection to drop')
        ws, session.ws = session.ws, None
        await ws.close(code=code, message=b'stand-in drop')
        await self.recorder.notify()

    async def close_all(self) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b'stand-in shutting down')

    def connected(self) -> bool:
        return bool(self.current and self.current.ws is not None and not self.current.ws.closed)

    # --- the websocket -------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            await self._send(ws, {'op': HELLO, 'd': {'heartbeat_interval': self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._on_frame(ws, json.loads(msg.data))
        finally:
            self.sockets.discard(ws)
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
            await self.recorder.notify()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op, data = frame.get('op'), frame.get('d')
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self._send(ws, {'op': ACK})
        elif op == IDENTIFY:
            await self._identify(ws, data)
        elif op == RESUME:
            await self._resume(ws, data)
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(ws, data)
        elif op in (PRESENCE, VOICE):
            pass
        else:
            _log.warning('stand-in Gateway ignoring op %s', op)

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get('token') != self.world.token:
            await ws.close(code=4004, message=b'Authentication failed.')
            return
        if 'intents' not in data:
            await ws.close(code=4013, message=b'Invalid intent(s).')
            return
        intents = int(data['intents'])
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await ws.close(code=4014, message=b'Disallowed intent(s).')
            return
        session = Session(secrets.token_hex(16), intents, ws=ws)
        self.sessions[session.id] = session
        self.current = session
        world = self.world
        await self.dispatch('READY', {
            'v': 10,
            'user': world.bot.payload() | {'verified': True, 'mfa_enabled': False, 'flags': 0},
            'guilds': [{'id': str(g.id), 'unavailable': True} for g in world.guilds.values()],
            'session_id': session.id,
            'session_type': 'normal',
            'resume_gateway_url': self.resume_url,
            'shard': [0, 1],
            'application': {'id': str(world.application_id), 'flags': 0},
            'private_channels': [],
            'relationships': [],
            'presences': [],
            'guild_join_requests': [],
            'geo_ordered_rtc_regions': [],
            'user_settings': {},
        })
        for guild in world.guilds.values():
            await self.dispatch('GUILD_CREATE', guild.payload())
        await self.recorder.notify()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get('session_id', ''))
        if session is None or data.get('token') != self.world.token:
            await self._send(ws, {'op': INVALID_SESSION, 'd': False})
            return
        if session.ws is not None and session.ws is not ws:
            await session.ws.close(code=4000)
        session.ws = ws
        session.resumes += 1
        self.current = session
        last_seen = data.get('seq') or 0
        for seq, frame in list(session.sent):
            if seq > last_seen:
                await ws.send_str(frame)
        await self.dispatch('RESUMED', {})
        await self.recorder.notify()

    async def _members_chunk(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data['guild_id']))
        members = [m.payload() for m in guild.members.values()] if guild else []
        chunk = {'guild_id': data['guild_id'], 'members': members, 'chunk_index': 0, 'chunk_count': 1}
        if data.get('nonce'):
            chunk['nonce'] = data['nonce']
        await self.dispatch('GUILD_MEMBERS_CHUNK', chunk)

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame))
