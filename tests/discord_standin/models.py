"""The stand-in's picture of Discord: users, guilds, channels, messages.

Plain dataclasses that render themselves as the JSON payloads discord.py
parses. Only the fields discord.py reads (or tests inspect) are kept.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from .snowflake import snowflake

ADMINISTRATOR = 1 << 3
# view channel, send messages, embed links, attach files, read history, use app commands, ...
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 6)
ALL_PERMISSIONS = (1 << 51) - 1

TEXT, DM = 0, 1

# Fixed types for what Muse sends; the system's mime table varies (audio/sp-midi, audio/x-wav, ...).
CONTENT_TYPES = {
    '.mid': 'audio/midi', '.midi': 'audio/midi', '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg', '.wav': 'audio/wav',
    '.png': 'image/png', '.txt': 'text/plain; charset=utf-8', '.json': 'application/json', '.abc': 'text/plain',
}


def content_type_for(filename: str) -> str:
    suffix = filename[filename.rfind('.'):].lower() if '.' in filename else ''
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or 'application/octet-stream'


def iso_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


@dataclass
class User:
    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            'id': str(self.id),
            'username': self.name,
            'global_name': self.name,
            'discriminator': '0',
            'avatar': None,
            'bot': self.bot,
            'public_flags': 0,
        }


@dataclass
class Member:
    user: User
    guild_id: int
    admin: bool = False
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def permissions(self) -> int:
        return ALL_PERMISSIONS if self.admin else MEMBER_PERMISSIONS

    def payload(self, *, with_user: bool = True, with_permissions: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            'roles': [str(r) for r in self.role_ids],
            'joined_at': self.joined_at,
            'deaf': False,
            'mute': False,
            'flags': 0,
            'pending': False,
            'nick': None,
        }
        if with_user:
            data['user'] = self.user.payload()
        if with_permissions:
            data['permissions'] = str(self.permissions)
        return data


@dataclass
class Channel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    recipient: User | None = None  # DMs only
    position: int = 0
    overwrites: list[dict[str, Any]] = field(default_factory=list)  # Discord's permission_overwrites

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {'id': str(self.id), 'type': self.type}
        if self.type == DM:
            data['recipients'] = [self.recipient.payload()] if self.recipient else []
            data['last_message_id'] = None
            return data
        data.update(
            name=self.name,
            guild_id=str(self.guild_id),
            position=self.position,
            permission_overwrites=list(self.overwrites),
            nsfw=False,
            topic=None,
            rate_limit_per_user=0,
            parent_id=None,
            last_message_id=None,
        )
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int = MEMBER_PERMISSIONS
    position: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            'id': str(self.id),
            'name': self.name,
            'permissions': str(self.permissions),
            'position': self.position,
            'color': 0,
            'hoist': False,
            'managed': False,
            'mentionable': True,
            'flags': 0,
        }


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    roles: list[Role] = field(default_factory=list)
    upload_limit: int = 10 * 1024 * 1024

    def payload(self) -> dict[str, Any]:
        return {
            'id': str(self.id),
            'name': self.name,
            'owner_id': str(self.owner_id),
            'icon': None,
            'unavailable': False,
            'large': False,
            'member_count': len(self.members),
            'features': [],
            'roles': [r.payload() for r in self.roles],
            'channels': [c.payload() for c in self.channels],
            'members': [m.payload() for m in self.members.values()],
            'emojis': [],
            'stickers': [],
            'threads': [],
            'voice_states': [],
            'presences': [],
            'stage_instances': [],
            'guild_scheduled_events': [],
            'soundboard_sounds': [],
            'verification_level': 0,
            'default_message_notifications': 0,
            'explicit_content_filter': 0,
            'mfa_level': 0,
            'premium_tier': 0,
            'preferred_locale': 'en-US',
            'system_channel_flags': 0,
            'nsfw_level': 0,
            'joined_at': iso_now(),
        }


@dataclass
class Attachment:
    """A stored upload; tests read ``data`` (the bytes the bot sent)."""

    id: int
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            'id': str(self.id),
            'filename': self.filename,
            'size': self.size,
            'url': self.url,
            'proxy_url': self.url,
            'content_type': self.content_type,
        }
        if self.description is not None:
            data['description'] = self.description
        return data


@dataclass
class Message:
    """One message as it stands now; ``versions`` keeps every earlier state."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ''
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    author_member: Member | None = None
    pings: dict[str, Any] = field(default_factory=dict)
    reactions: dict[str, int] = field(default_factory=dict)
    deleted: bool = False
    edited: bool = False
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def files(self) -> dict[str, bytes]:
        """Attachments by filename (the common thing a test wants)."""
        return {a.filename: a.data for a in self.attachments}

    def button(self, label: str | None = None, custom_id: str | None = None) -> dict[str, Any]:
        """The first button whose label or custom_id matches."""
        for component in iter_components(self.components):
            if component.get('type') != 2:
                continue
            if label is not None and component.get('label') == label:
                return component
            if custom_id is not None and component.get('custom_id') == custom_id:
                return component
        raise LookupError(f'no button label={label!r} custom_id={custom_id!r} on message {self.id}')

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in iter_components(self.components) if c.get('type') == 2]

    def payload(self, *, hide_content: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            'id': str(self.id),
            'channel_id': str(self.channel_id),
            'author': self.author.payload(),
            'content': '' if hide_content else self.content,
            'timestamp': self.timestamp,
            'edited_timestamp': self.edited_timestamp,
            'tts': False,
            'mention_everyone': bool(self.pings.get('everyone')),
            'mentions': [u.payload() for u in self.pings.get('user_objects', [])],
            'mention_roles': [str(r) for r in self.pings.get('roles', [])],
            'attachments': [] if hide_content else [a.payload() for a in self.attachments],
            'embeds': [] if hide_content else self.embeds,
            'components': [] if hide_content else self.components,
            'pinned': False,
            'type': 19 if self.message_reference else (20 if self.interaction_id else 0),
            'flags': self.flags,
            'reactions': [
                {'emoji': {'id': None, 'name': e}, 'count': n, 'me': True, 'count_details': {'burst': 0, 'normal': n},
                 'burst_colors': [], 'me_burst': False, 'burst_me': False}
                for e, n in self.reactions.items()
            ],
        }
        if self.guild_id is not None:
            data['guild_id'] = str(self.guild_id)
        if self.author_member is not None:
            data['member'] = self.author_member.payload(with_user=False)
        if self.message_reference is not None:
            data['message_reference'] = self.message_reference
        if self.webhook_id is not None:
            data['webhook_id'] = str(self.webhook_id)
            data['application_id'] = str(self.webhook_id)
        return data


def iter_components(components: list[dict[str, Any]]):
    """Walk action rows (and nested containers) down to leaf components."""
    for component in components:
        yield component
        yield from iter_components(component.get('components', []))


def new_id() -> int:
    return snowflake()
