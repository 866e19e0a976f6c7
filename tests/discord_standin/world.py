"""Everything the stand-in Discord knows: the application, people, places, messages.

One ``World`` per stand-in. It starts with one guild (``Muse Test``) holding an
owner (admin) and two members, two text channels, and the bot; ``add_test_guild``
adds more laid out the same way (on a chosen Gateway shard, if asked).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .models import DM, TEXT, Channel, Guild, Member, Message, Role, User
from .snowflake import snowflake


@dataclass
class Interaction:
    """One interaction the stand-in sent, and what the bot has done with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: User
    channel_id: int
    guild_id: int | None
    attachment_size_limit: int
    source_message_id: int | None = None  # component clicks: the message the button is on
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    expired: bool = False
    created: float = field(default_factory=time.monotonic)
    acked_after_s: float | None = None


class World:
    def __init__(self, *, token: str | None = None) -> None:
        self.token = token or f'standin.{secrets.token_urlsafe(24)}'
        self.application_id = snowflake()
        self.bot = User(self.application_id, 'Muse', bot=True)
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.channels: dict[int, Channel] = {}
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {None: []}  # guild id (None = global) → commands
        self.command_syncs: list[tuple[int | None, list[str]]] = []

        for name in ('owner', 'alice', 'bob'):
            self.add_user(name)
        self.guild = self.add_test_guild('Muse Test')
        self.general, self.jams = self.guild.channels

    # --- people and places -------------------------------------------------

    def add_user(self, name: str) -> User:
        user = User(snowflake(), name)
        self.users[user.id] = user
        return user

    def user(self, name: str) -> User:
        for user in self.users.values():
            if user.name == name:
                return user
        raise LookupError(f'no user named {name!r}')

    def add_guild(self, name: str, owner: User, *, shard: tuple[int, int] | None = None) -> Guild:
        """A new guild; ``shard=(id, count)`` picks an id whose events Discord routes to that shard."""
        guild = Guild(snowflake(shard=shard), name, owner.id)
        guild.roles.append(Role(guild.id, '@everyone'))
        self.guilds[guild.id] = guild
        return guild

    def add_test_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """A guild laid out like ``Muse Test``: channels general and jams; owner (admin), alice, bob, the bot."""
        guild = self.add_guild(name, self.user('owner'), shard=shard)
        for channel in ('general', 'jams'):
            self.add_channel(guild, channel)
        self.add_member(guild, self.user('owner'), admin=True)
        self.add_member(guild, self.bot)
        for member in ('alice', 'bob'):
            self.add_member(guild, self.user(member))
        return guild

    def add_channel(self, guild: Guild, name: str) -> Channel:
        channel = Channel(snowflake(), TEXT, name=name, guild_id=guild.id, position=len(guild.channels))
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_member(self, guild: Guild, user: User, *, admin: bool = False) -> Member:
        member = Member(user, guild.id, admin=admin)
        guild.members[user.id] = member
        return member

    def add_role(self, guild: Guild, name: str) -> Role:
        role = Role(snowflake(), name, position=len(guild.roles))
        guild.roles.append(role)
        return role

    def member(self, guild_id: int | None, user: User) -> Member | None:
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        return guild.members.get(user.id) if guild else None

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        for channel in self.channels.values():
            if channel.type == DM and channel.recipient is user:
                return channel
        channel = Channel(snowflake(), DM, recipient=user)
        self.channels[channel.id] = channel
        return channel

    def upload_limit(self, channel_id: int) -> int:
        channel = self.channels.get(channel_id)
        guild = self.guilds.get(channel.guild_id) if channel and channel.guild_id else None
        return guild.upload_limit if guild else 10 * 1024 * 1024

    # --- application commands ----------------------------------------------

    def set_commands(self, guild_id: int | None, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite, as ``PUT .../commands`` does; ids survive for unchanged names."""
        old = {c['name']: c for c in self.commands.get(guild_id, [])}
        stored = [self.command_record(guild_id, c, old.get(c['name'], {}).get('id')) for c in payload]
        self.commands[guild_id] = stored
        self.command_syncs.append((guild_id, [c['name'] for c in stored]))
        return stored

    def command_record(self, guild_id: int | None, data: dict[str, Any], cmd_id: str | None = None) -> dict[str, Any]:
        record = dict(data)
        record.update(
            id=cmd_id or str(snowflake()),
            application_id=str(self.application_id),
            version=str(snowflake()),
            type=data.get('type', 1),
            description=data.get('description', ''),
            options=data.get('options', []),
            default_member_permissions=data.get('default_member_permissions'),
            nsfw=data.get('nsfw', False),
        )
        if guild_id is not None:
            record['guild_id'] = str(guild_id)
        return record

    def find_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        """Guild commands shadow global ones, as in the Discord client."""
        for scope in ((guild_id, None) if guild_id is not None else (None,)):
            for command in self.commands.get(scope, []):
                if command['name'] == name and command.get('type', 1) == 1:
                    return command
        return None

    # --- interactions -------------------------------------------------------

    def add_interaction(self, interaction: Interaction) -> None:
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction
