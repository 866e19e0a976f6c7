"""The Gateway websocket: HELLO, heartbeats, IDENTIFY → READY, RESUME → RESUMED, per shard.

Frames are plain JSON text; discord.py asks for ``compress=zlib-stream`` in
the URL but only decompresses binary frames, so text frames need no zlib.
Dispatches are numbered per session and kept, so a client that RESUMEs after a
drop receives everything it missed, as on Discord. Each shard connection
gets a READY and GUILD_CREATEs for its own guilds only, and each event goes to
the shard of its guild (``sessions.py``); a bad ``shard`` closes with 4010.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from .record import Dispatched, Recorder
from .sessions import Session, Sessions, parse_shard
from .snowflake import shard_of
from .world import World

_log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, ACK = (
    0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11,
)
GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | MESSAGE_CONTENT  # members, presences, message content


class Gateway:
    def __init__(self, world: World, recorder: Recorder, *, heartbeat_interval_ms: int = 41250,
                 privileged_intents: int = PRIVILEGED_INTENTS, shards: int = 1, max_guilds_per_shard: int | None = None):
        self.world = world
        self.recorder = recorder
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents  # which privileged intents the "developer portal" enabled
        self.shards = shards  # what GET /gateway/bot recommends
        self.max_guilds_per_shard = max_guilds_per_shard  # more on one shard: IDENTIFY closes with 4011
        self.resume_url = ''  # set by the server once it knows its port
        self.sessions = Sessions()
        self.sockets: set[web.WebSocketResponse] = set()
        self.heartbeats = 0

    @property
    def current(self) -> Session | None:
        """The session that identified or resumed last (with one shard: the bot's session)."""
        return self.sessions.current

    # --- test-side controls --------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any], *, required: bool = True) -> Session | None:
        """Send (or queue, while disconnected) one event to the session of its guild's shard (DMs: shard 0).

        Raises when no bot has identified, or (``required``) when no session runs that shard;
        otherwise an event nobody runs the shard of is dropped, as on Discord.
        """
        guild_id = int(data['guild_id']) if data.get('guild_id') else None
        session = self.sessions.route(guild_id)
        if session is None:
            if self.sessions.current is None:
                raise RuntimeError(f'cannot dispatch {event}: no bot has identified on the Gateway')
            if required:
                raise RuntimeError(f'cannot dispatch {event}: no bot runs the shard of guild {guild_id}')
            return None
        await self.send_event(session, event, data, guild_id)
        return session

    async def send_event(self, session: Session, event: str, data: dict[str, Any], guild_id: int | None = None) -> None:
        """Number ``event`` in ``session``, keep it for resume replay, record where it went, send it if live."""
        session.seq += 1
        frame = json.dumps({'op': DISPATCH, 't': event, 's': session.seq, 'd': data})
        session.sent.append((session.seq, frame))
        del session.sent[:-5000]
        self.recorder.dispatches.append(Dispatched(event, session.shard, session.id, session.seq, guild_id))
        if session.live:
            await session.ws.send_str(frame)

    async def drop(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the live connection of shard ``shard`` (default: ``current``) with ``code``; it stays resumable."""
        session = self.sessions.on_shard(shard)
        if session is None or session.ws is None:
            raise RuntimeError('no live Gateway connection to drop')
        ws, session.ws = session.ws, None
        await ws.close(code=code, message=b'stand-in drop')
        await self.recorder.notify()

    async def close_all(self) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b'stand-in shutting down')

    def connected(self, shard: int | None = None) -> bool:
        """Whether shard ``shard``'s newest session (default: ``current``) has a live connection."""
        session = self.sessions.on_shard(shard)
        return bool(session and session.live)

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
            self.sessions.detach(ws)
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
        shard = parse_shard(data.get('shard'))
        if shard is None:
            await ws.close(code=4010, message=b'Invalid shard.')
            return
        if self.sessions.live_on(shard) is not None:  # Discord would run both; a test wants to hear of it
            await ws.close(code=4010, message=b'Invalid shard: this shard is already connected.')
            return
        world = self.world
        guilds = [g for g in world.guilds.values() if shard_of(g.id, shard[1]) == shard[0]]
        if self.max_guilds_per_shard is not None and len(guilds) > self.max_guilds_per_shard:
            await ws.close(code=4011, message=b'Sharding required.')
            return
        session = Session(secrets.token_hex(16), intents, shard, ws=ws, guild_ids=[g.id for g in guilds])
        self.sessions.add(session)
        await self.send_event(session, 'READY', {
            'v': 10,
            'user': world.bot.payload() | {'verified': True, 'mfa_enabled': False, 'flags': 0},
            'guilds': [{'id': str(g.id), 'unavailable': True} for g in guilds],
            'session_id': session.id,
            'session_type': 'normal',
            'resume_gateway_url': self.resume_url,
            'shard': list(shard),
            'application': {'id': str(world.application_id), 'flags': 0},
            'private_channels': [],
            'relationships': [],
            'presences': [],
            'guild_join_requests': [],
            'geo_ordered_rtc_regions': [],
            'user_settings': {},
        })
        for guild in guilds:
            await self.send_event(session, 'GUILD_CREATE', guild.payload(), guild.id)
        await self.recorder.notify()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        session = self.sessions.by_id.get(data.get('session_id', ''))
        if session is None or data.get('token') != self.world.token:
            await self._send(ws, {'op': INVALID_SESSION, 'd': False})
            return
        if session.ws is not None and session.ws is not ws:
            await session.ws.close(code=4000)
        session.ws = ws
        session.resumes += 1
        self.sessions.current = session
        last_seen = data.get('seq') or 0
        for seq, frame in list(session.sent):
            if seq > last_seen:
                await ws.send_str(frame)
        await self.send_event(session, 'RESUMED', {})
        await self.recorder.notify()

    async def _members_chunk(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data['guild_id']))
        members = [m.payload() for m in guild.members.values()] if guild else []
        chunk = {'guild_id': data['guild_id'], 'members': members, 'chunk_index': 0, 'chunk_count': 1}
        if data.get('nonce'):
            chunk['nonce'] = data['nonce']
        session = self.sessions.of(ws)
        if session is not None:
            await self.send_event(session, 'GUILD_MEMBERS_CHUNK', chunk, guild.id if guild else None)

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame))
