"""The test's side of the stand-in: act as members, then wait for what the bot does.

Mixed into ``StandIn``. Everything a test does to the bot goes over the real
Gateway; everything it reads back came over real HTTP. Every wait takes a
timeout and raises ``TimeoutError`` naming what it waited for.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any, Callable

from .faults import Fault
from .invocations import command_data
from .modals import MODAL_SUBMIT, submit_data
from .models import DM, Attachment, Channel, Guild, Message, User, content_type_for
from .record import Delivery, Dispatched
from .sessions import Session
from .snowflake import snowflake
from .world import Interaction

if TYPE_CHECKING:
    from .server import StandIn

DEFAULT_TIMEOUT_S = 10.0
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE = 2, 3, 4


class InteractionHandle:
    """A slash command, autocomplete or click the test sent, and the bot's answers to it."""

    def __init__(self, standin: StandIn, record: Interaction):
        self.standin = standin
        self.record = record

    id = property(lambda self: self.record.id)
    token = property(lambda self: self.record.token)
    payload = property(lambda self: self.record.payload)

    @property
    def deliveries(self) -> list[Delivery]:
        return [d for d in self.standin.recorder.deliveries if d.interaction_id == self.record.id]

    @property
    def original(self) -> Message | None:
        """The interaction's original response message as it stands now."""
        return self.standin.world.messages.get(self.record.original_message_id or 0)

    @property
    def followups(self) -> list[Message]:
        return [self.standin.world.messages[i] for i in self.record.followup_ids]

    @property
    def acked_after_s(self) -> float | None:
        return self.record.acked_after_s

    async def wait_for(self, predicate: Callable[[Delivery], bool] = lambda d: True, *,
                       kind: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> Delivery:
        """The first delivery for this interaction (of ``kind``, if given) that satisfies ``predicate``."""
        def check(d: Delivery) -> bool:
            return d.interaction_id == self.record.id and (kind is None or d.kind == kind) and predicate(d)

        what = f'a {kind or "delivery"} for interaction {self.record.id}'
        return await self.standin.recorder.wait_delivery(check, timeout, what)

    async def ack(self, timeout: float = 5.0) -> Delivery:
        """The interaction callback (defer, message, update, autocomplete choices...)."""
        return await self.wait_for(kind='callback', timeout=timeout)

    async def with_files(self, *names: str, timeout: float = DEFAULT_TIMEOUT_S) -> Delivery:
        """The first delivery after which the response carries attachments (all of ``names``, if given)."""
        return await self.wait_for(lambda d: bool(d.attachments) and all(n in d.attachments for n in names),
                                   timeout=timeout)

    async def choices(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Autocomplete: the choices the bot answered with."""
        delivery = await self.ack(timeout)
        return delivery.payload.get('data', {}).get('choices', [])

    async def modal(self, timeout: float = 5.0) -> dict[str, Any]:
        """The form the bot opened in answer (its custom_id, title and fields); fails if it answered otherwise."""
        delivery = await self.ack(timeout)
        if delivery.callback_type != 9:
            raise AssertionError(f'the bot answered with callback type {delivery.callback_type}, not a modal')
        return delivery.payload.get('data') or {}

    def expire(self) -> None:
        """Kill the token now: further webhook calls get 401 / 50027, as after 15 minutes."""
        self.record.expired = True


class ClientAPI:
    """Methods a test calls on ``StandIn``."""

    # --- people and places ------------------------------------------------

    def user(self: StandIn, name: str) -> User:
        return self.world.user(name)

    def add_user(self: StandIn, name: str, *, admin: bool = False) -> User:
        """A new member of the test guild."""
        user = self.world.add_user(name)
        self.world.add_member(self.world.guild, user, admin=admin)
        return user

    @property
    def guild(self: StandIn) -> Guild:
        return self.world.guild

    def channel(self: StandIn, name: str = 'general', *, guild: Guild | None = None) -> Channel:
        """A channel of ``guild`` (default: ``Muse Test``) by name."""
        return next(c for c in (guild or self.world.guild).channels if c.name == name)

    def guild_on_shard(self: StandIn, shard_id: int, shard_count: int, name: str | None = None) -> Guild:
        """A new guild laid out like ``Muse Test`` whose id Discord routes to ``shard_id`` of ``shard_count``.

        Add guilds before the bot connects: its shard's READY lists them."""
        return self.world.add_test_guild(name or f'Shard {shard_id} of {shard_count} #{len(self.world.guilds)}',
                                         shard=(shard_id, shard_count))

    def upload(self: StandIn, filename: str, data: bytes) -> Attachment:
        """An attachment a member uploads (for attachment options or messages)."""
        att_id = snowflake()
        attachment = Attachment(att_id, filename, content_type_for(filename), data, f'{self.http_base}/attachments/0/{att_id}/{filename}')
        self.hub.uploads[att_id] = attachment
        return attachment

    # --- acting as members -------------------------------------------------

    async def slash(self: StandIn, command: str, *, user: User | str = 'alice', channel: Channel | str | None = 'general',
                    guild: Guild | None = None, dm: bool = False, validate: bool = True, attachment_size_limit: int | None = None,
                    age_s: float = 0.0, option_values: dict[str, Any] | None = None,
                    **options: Any) -> InteractionHandle:
        """Send ``/command [sub [subsub]] options…`` as ``user`` in a guild channel, or in a DM with ``dm=True``.

        A channel named by a string is looked up in ``guild`` (default: ``Muse Test``).
        ``age_s`` back-dates the interaction id (``is_expired()`` reads it);
        ``validate=False`` sends values the Discord client would refuse. Options whose names are
        taken by this method's own keywords (a ``channel`` option) go in ``option_values``.
        """
        options = {**options, **(option_values or {})}
        name, *path = command.lstrip('/').split()
        user, where = self._place(user, channel, dm, guild)
        schema = self._command(name, where)
        data = command_data(schema, path, options, validate=validate, resolve=lambda u: self.world.member(where.guild_id, u))
        return await self._interact(APPLICATION_COMMAND, data, user, where, attachment_size_limit, age_s)

    async def autocomplete(self: StandIn, command: str, focused: str, typed: str = '', *, user: User | str = 'alice',
                           channel: Channel | str | None = 'general', guild: Guild | None = None, dm: bool = False,
                           **options: Any) -> InteractionHandle:
        """The member is typing ``typed`` into option ``focused``; await ``handle.choices()``."""
        name, *path = command.lstrip('/').split()
        user, where = self._place(user, channel, dm, guild)
        schema = self._command(name, where)
        data = command_data(schema, path, {**options, focused: typed}, focused=focused, validate=False,
                            resolve=lambda u: self.world.member(where.guild_id, u))
        return await self._interact(AUTOCOMPLETE, data, user, where, None, 0.0)

    async def click(self: StandIn, message: Message, label: str | None = None, *, custom_id: str | None = None,
                    user: User | str = 'alice', after_s: float = 0.05) -> InteractionHandle:
        """Press a button on ``message`` (found by label or custom_id).

        Waits ``after_s`` first, as a person would: a delivery is recorded when
        the stand-in receives it, a moment before the bot has read the reply
        and registered the view that handles the click.
        """
        await asyncio.sleep(after_s)
        button = message.button(label=label, custom_id=custom_id)
        if button.get('disabled'):
            raise ValueError(f'button {button.get("label")!r} is disabled')
        user = self.world.user(user) if isinstance(user, str) else user
        where = self.world.channels[message.channel_id]
        data = {'custom_id': button['custom_id'], 'component_type': 2}
        return await self._interact(COMPONENT, data, user, where, None, 0.0, source=message)

    async def submit(self: StandIn, opened: InteractionHandle, values: dict[str, str], *,
                     user: User | str | None = None) -> InteractionHandle:
        """Fill in and send the form the bot opened in answer to ``opened`` (fields by custom_id;
        a field left out keeps its pre-filled value)."""
        modal = await opened.modal()
        user = opened.record.user if user is None else self.world.user(user) if isinstance(user, str) else user
        where = self.world.channels[opened.record.channel_id]
        source = self.world.messages.get(opened.record.source_message_id or 0)
        return await self._interact(MODAL_SUBMIT, submit_data(modal, values), user, where, None, 0.0, source=source)

    async def say(self: StandIn, content: str, *, user: User | str = 'alice', channel: Channel | str | None = 'general',
                  guild: Guild | None = None, dm: bool = False, attachments: list[Attachment] = ()) -> Message:
        """A member posts a plain message (see ``mention`` and ``dm`` for the usual cases)."""
        user, where = self._place(user, channel, dm, guild)
        message = Message(snowflake(), where.id, where.guild_id, user, content=content, attachments=list(attachments),
                          author_member=self.world.member(where.guild_id, user))
        self.hub._compute_pings(message)
        self.world.messages[message.id] = message
        await self.hub.echo('MESSAGE_CREATE', message)
        return message

    async def mention(self: StandIn, text: str, **kwargs: Any) -> Message:
        """``@Muse text`` in a guild channel."""
        return await self.say(f'<@{self.world.bot.id}> {text}', **kwargs)

    async def dm(self: StandIn, text: str, *, user: User | str = 'alice', **kwargs: Any) -> Message:
        """A direct message to the bot."""
        return await self.say(text, user=user, dm=True, channel=None, **kwargs)

    # --- waiting for the bot -------------------------------------------------

    async def wait_for_message(self: StandIn, predicate: Callable[[Delivery], bool] = lambda d: True, *,
                               channel: Channel | str | None = None, dm_with: User | str | None = None,
                               timeout: float = DEFAULT_TIMEOUT_S) -> Delivery:
        """The first channel message the bot sent (in ``channel`` / the DM with ``dm_with``) matching ``predicate``."""
        target = self._target_channel(channel, dm_with)

        def check(d: Delivery) -> bool:
            return d.kind == 'message' and (target is None or d.channel_id == target.id) and predicate(d)

        return await self.recorder.wait_delivery(check, timeout, f'a bot message in {target.name if target else "any channel"}')

    async def wait_for(self: StandIn, predicate: Callable[[Delivery], bool], *, timeout: float = DEFAULT_TIMEOUT_S,
                       what: str = 'a delivery') -> Delivery:
        """The first delivery of any kind matching ``predicate``."""
        return await self.recorder.wait_delivery(predicate, timeout, what)

    async def wait_until(self: StandIn, check: Callable[[], Any], *, timeout: float = DEFAULT_TIMEOUT_S,
                         what: str = 'a condition') -> Any:
        """Wait until ``check()`` is truthy; re-checked whenever the stand-in records anything."""
        return await self.recorder.wait_until(check, timeout, what)

    async def wait_ready(self: StandIn, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Until a bot has identified and been sent READY and its guilds."""
        await self.recorder.wait_until(self.gateway.connected, timeout, 'a bot to identify on the Gateway')

    async def wait_shards(self: StandIn, *shard_ids: int, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Until every one of ``shard_ids`` has a live, identified Gateway connection."""
        await self.recorder.wait_until(lambda: all(self.gateway.connected(s) for s in shard_ids), timeout,
                                       f'shards {list(shard_ids)} to identify on the Gateway')

    def session(self: StandIn, shard_id: int) -> Session:
        """The newest Gateway session of shard ``shard_id`` (its ``guild_ids`` are what its READY listed)."""
        session = self.gateway.sessions.on_shard(shard_id)
        if session is None:
            raise LookupError(f'no bot has identified as shard {shard_id}')
        return session

    def dispatched(self: StandIn, event: str | None = None, *, guild: Guild | int | None = None,
                   dm: bool = False) -> list[Dispatched]:
        """Gateway events sent so far (of ``event``; for ``guild``, or DMs with ``dm=True``), with their shard."""
        guild_id = getattr(guild, 'id', guild)
        return [d for d in self.recorder.dispatches
                if (event is None or d.event == event)
                and (guild_id is None or d.guild_id == guild_id) and (not dm or d.guild_id is None)]

    @property
    def sync_count(self: StandIn) -> int:
        """How many requests wrote application commands (any process, any scope)."""
        return len(self.recorder.sync_calls)

    async def wait_synced(self: StandIn, guild: Any = None, timeout: float = DEFAULT_TIMEOUT_S) -> list[str]:
        """Until commands were synced (globally, or to ``guild``); returns their names."""
        guild_id = getattr(guild, 'id', guild)

        def check() -> list[str] | None:
            return next((names for g, names in self.world.command_syncs if g == guild_id), None)

        return await self.recorder.wait_until(check, timeout, f'a command sync ({guild_id or "global"})')

    # --- faults --------------------------------------------------------------

    def fail(self: StandIn, route: str, status: int = 429, *, times: int = 1, retry_after: float = 0.05,
             code: int = 0, interaction: InteractionHandle | None = None) -> Fault:
        """Answer the next ``times`` requests to ``route`` (e.g. ``edit_original``) with ``status``."""
        if self.route_names and route not in self.route_names:
            raise ValueError(f'unknown route {route!r}; known: {", ".join(sorted(self.route_names))}')
        return self.faults.add(Fault(route, status, times, retry_after, code,
                                     interaction_id=interaction.id if interaction else None))

    async def drop_gateway(self: StandIn, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the bot's Gateway connection (of shard ``shard``); discord.py should reconnect and RESUME."""
        await self.gateway.drop(code, shard=shard)

    async def wait_resumed(self: StandIn, resumes: int = 1, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Until the current session has resumed ``resumes`` times and is connected again."""
        def check() -> bool:
            session = self.gateway.current
            return bool(session and session.resumes >= resumes and self.gateway.connected())

        await self.recorder.wait_until(check, timeout, f'Gateway resume #{resumes}')

    # --- internals -----------------------------------------------------------

    def _place(self: StandIn, user: User | str, channel: Channel | str | None, dm: bool,
               guild: Guild | None = None) -> tuple[User, Channel]:
        user = self.world.user(user) if isinstance(user, str) else user
        if dm:
            return user, self.world.dm_channel(user)
        return user, self.channel(channel, guild=guild) if isinstance(channel, str) else channel

    def _target_channel(self: StandIn, channel: Channel | str | None, dm_with: User | str | None) -> Channel | None:
        if dm_with is not None:
            return self.world.dm_channel(self.world.user(dm_with) if isinstance(dm_with, str) else dm_with)
        return self.channel(channel) if isinstance(channel, str) else channel

    def _command(self: StandIn, name: str, where: Channel) -> dict[str, Any]:
        command = self.world.find_command(name, where.guild_id)
        if command is None:
            raise LookupError(f'/{name} is not registered: sync the tree first, or call standin.register_tree(tree)')
        return command

    async def _interact(self: StandIn, kind: int, data: dict[str, Any], user: User, where: Channel,
                        size_limit: int | None, age_s: float, source: Message | None = None) -> InteractionHandle:
        record = Interaction(
            id=snowflake(age_s), token=f'ix.{secrets.token_urlsafe(32)}', type=kind, payload={}, user=user,
            channel_id=where.id, guild_id=where.guild_id,
            attachment_size_limit=size_limit or self.world.upload_limit(where.id),
            source_message_id=source.id if source else None,
        )
        record.payload = self._interaction_payload(record, data, source)
        self.world.add_interaction(record)
        await self.gateway.dispatch('INTERACTION_CREATE', record.payload)
        return InteractionHandle(self, record)

    def _interaction_payload(self: StandIn, record: Interaction, data: dict[str, Any], source: Message | None) -> dict[str, Any]:
        world = self.world
        channel = world.channels[record.channel_id]
        payload: dict[str, Any] = {
            'id': str(record.id),
            'application_id': str(world.application_id),
            'type': record.type,
            'data': data,
            'channel_id': str(channel.id),
            'channel': channel.payload(),
            'token': record.token,
            'version': 1,
            'app_permissions': str((1 << 41) - 1),
            'locale': 'en-US',
            'entitlements': [],
            'attachment_size_limit': record.attachment_size_limit,
        }
        if channel.type == DM:
            payload.update(user=record.user.payload(), context=1,
                           authorizing_integration_owners={'0': str(world.application_id)})
        else:
            member = world.member(channel.guild_id, record.user)
            if member is None:
                raise LookupError(f'{record.user.name} is not a member of the guild')
            payload.update(guild_id=str(channel.guild_id), guild_locale='en-US', context=0,
                           member=member.payload(with_permissions=True),
                           guild={'id': str(channel.guild_id), 'locale': 'en-US', 'features': []},
                           authorizing_integration_owners={'0': str(channel.guild_id)})
        if source is not None:
            payload['message'] = source.payload()
        return payload

    def register_tree(self: StandIn, tree: Any, guild: Any = None) -> None:
        """Make a discord.py ``CommandTree``'s commands known without the bot syncing (as if synced earlier)."""
        guild_id = getattr(guild, 'id', guild)
        commands = tree.get_commands(guild=None if guild_id is None else _Obj(guild_id))
        self.world.set_commands(guild_id, [c.to_dict(tree) for c in commands])
        self.world.command_syncs.pop()  # not a sync by the bot


class _Obj:
    def __init__(self, id: int):
        self.id = id
