"""Where a job's progress and result go, and the fallback when the interaction token is dead.

A slash command's answer edits the interaction's original response through its webhook
(this works from a new process after a restart, too). After 15 minutes the token is dead
(401, code 50027): the piece then goes to the channel as a normal message that pings only
the requester. Mentions and DMs get a status message that is edited the same way.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import discord

from bot.jobspec import ReplyTo

log = logging.getLogger(__name__)

TOKEN_EXPIRED = 50027
UNKNOWN_WEBHOOK = 10015
NO_PINGS = discord.AllowedMentions.none()


@dataclass
class Outgoing:
    """One message to send: text, an embed, files (name → bytes) and buttons."""

    content: str | None = None
    embed: discord.Embed | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    view: discord.ui.View | None = None

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), name) for name, data in self.files.items()]


def requester_pings(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)],
                                   replied_user=False)


def _token_dead(exc: discord.HTTPException) -> bool:
    return exc.status == 401 or (exc.status == 404 and exc.code == UNKNOWN_WEBHOOK) or exc.code == TOKEN_EXPIRED


class Reply:
    """Progress edits and the final delivery for one job."""

    def __init__(self, client: discord.Client, reply: ReplyTo, requester_id: int,
                 token: str | None = None, token_expires_at: datetime | None = None):
        self.client = client
        self.reply = reply
        self.requester_id = requester_id
        self._token = token
        self._expires_at = token_expires_at
        self.fell_back = False

    # -- progress ---------------------------------------------------------------------------
    async def progress(self, content: str, view: discord.ui.View | None = None) -> None:
        if self.reply.kind == "interaction":
            if not self._token_alive():
                return  # no progress in the channel; the result will still come
            await self._webhook().edit_message("@original", content=content, view=view,  # type: ignore[arg-type]
                                               allowed_mentions=NO_PINGS)
        elif self.reply.message_id is not None:
            await self._status_message().edit(content=content, view=view, allowed_mentions=NO_PINGS)

    # -- delivery ---------------------------------------------------------------------------
    async def deliver(self, messages: list[Outgoing]) -> None:
        """Send the first message in place of the reply, the rest after it."""
        first, rest = messages[0], messages[1:]
        if self.reply.kind == "interaction":
            sent = 0
            if self._token_alive():
                try:
                    await self._webhook().edit_message(  # type: ignore[arg-type]
                        "@original", content=first.content or "", embed=first.embed,
                        attachments=first.discord_files(), view=first.view, allowed_mentions=NO_PINGS)
                    sent = 1
                    for extra in rest:
                        await self._webhook().send(content=extra.content or discord.utils.MISSING,
                                                   embed=extra.embed or discord.utils.MISSING,
                                                   files=extra.discord_files(),
                                                   view=extra.view or discord.utils.MISSING,
                                                   allowed_mentions=NO_PINGS, wait=True)
                        sent += 1
                    return
                except discord.HTTPException as exc:
                    if not _token_dead(exc):
                        raise
                    log.info("interaction token dead (%s %s); delivering in the channel", exc.status, exc.code)
            await self._to_channel(messages[sent:])
            return
        if self.reply.message_id is not None:
            await self._status_message().edit(content=first.content or "", embed=first.embed,
                                              attachments=first.discord_files(), view=first.view,
                                              allowed_mentions=NO_PINGS)
            for extra in rest:
                await self._send(extra, pings=NO_PINGS)
            return
        await self._to_channel(messages)

    async def fail(self, line: str) -> None:
        """Tell the requester one short line in place of the piece."""
        await self.deliver([Outgoing(content=line)])

    async def _to_channel(self, messages: list[Outgoing]) -> None:
        self.fell_back = True
        for i, message in enumerate(messages):
            if i == 0:
                prefix = f"<@{self.requester_id}> "
                message = Outgoing(prefix + (message.content or "here is your piece."), message.embed,
                                   message.files, message.view)
            await self._send(message, pings=requester_pings(self.requester_id) if i == 0 else NO_PINGS)

    async def _send(self, message: Outgoing, *, pings: discord.AllowedMentions) -> None:
        channel = self.client.get_partial_messageable(self.reply.channel_id)  # type: ignore[arg-type]
        await channel.send(content=message.content, embed=message.embed, files=message.discord_files(),
                           view=message.view or discord.utils.MISSING, allowed_mentions=pings)

    # -- helpers ----------------------------------------------------------------------------
    def _token_alive(self) -> bool:
        if not self._token or self.fell_back:
            return False
        return self._expires_at is None or self._expires_at > datetime.now(timezone.utc)

    def _webhook(self) -> discord.Webhook:
        return discord.Webhook.partial(self.reply.application_id, self._token,  # type: ignore[arg-type]
                                       client=self.client)

    def _status_message(self) -> discord.PartialMessage:
        channel = self.client.get_partial_messageable(self.reply.channel_id)  # type: ignore[arg-type]
        return channel.get_partial_message(self.reply.message_id)  # type: ignore[arg-type]
