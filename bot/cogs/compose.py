"""/compose, /remix, mentions and DMs, the Variation / Remix / Cancel buttons and the Remix form.

Handlers stay thin: understand the input, reserve a queue slot (or refuse politely and
privately), defer, and hand the job to the queue. Music happens in `composer`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Optional

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import FORMAT_CHOICES, KEY_NAMES, METER_CHOICES, matching
from bot.member_themes import member_catalog, theme_names_for
from bot.delivery import NO_PINGS
from bot.errors import BotError, one_line, tell, user_line
from bot.forms import RemixForm
from bot.job_queue import QueueRefusal
from bot.jobspec import DEFAULT_FILESIZE_LIMIT, JobSpec, ReplyTo
from bot.views import COMPOSE_COG, DYNAMIC_ITEMS
from composer import CompositionRequest, MuseError, draw_seed
from composer.options import REMIX_OPTIONS, SLASH_OPTIONS, bounds, describe_options

if TYPE_CHECKING:
    from bot.client import MuseBot

log = logging.getLogger(__name__)

# Ranges as Discord enforces them, from composer's option table (the one place they are written).
Tempo = app_commands.Range[int, bounds("tempo")[0], bounds("tempo")[1]]
Length = app_commands.Range[int, bounds("length")[0], bounds("length")[1]]
Pitch = app_commands.Range[int, bounds("pitch")[0], bounds("pitch")[1]]
Seed = app_commands.Range[int, bounds("seed")[0], bounds("seed")[1]]
Variations = app_commands.Range[int, bounds("variations")[0], bounds("variations")[1]]

HELP_WORDS = re.compile(r"\b(help|commands?|what (themes|voices)|which (themes|voices)|list (the )?(themes|voices)"
                        r"|how do (i|you)|what can you)\b", re.I)


async def piece_choices(bot: "MuseBot", user_id: int, current: str) -> list[app_commands.Choice[str]]:
    """A member's pieces matching what they typed, newest first (for every `piece` option)."""
    page = await bot.db.compositions.history_for_user(user_id, limit=100)
    typed = current.strip().lstrip("#").lower()
    out = []
    for record in page.items:
        label = f"#{record.id} {record.prompt}"[:80] + f" ({record.request.get('theme')}, {record.request.get('voice')})"
        if typed in label.lower():
            out.append(app_commands.Choice(name=label[:100], value=str(record.id)))
    return out[:25]


class ComposeCog(commands.Cog, name=COMPOSE_COG):
    def __init__(self, bot: "MuseBot"):
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    # -- /compose ---------------------------------------------------------------------------
    @app_commands.command(name="compose", description="Compose an original piece from a few words")
    @app_commands.describe(prompt="What to compose, in plain words (e.g. 'a slow sad piano song in D minor')",
                           **describe_options(SLASH_OPTIONS))
    @app_commands.choices(meter=METER_CHOICES, format=FORMAT_CHOICES)
    async def compose(self, interaction: discord.Interaction, prompt: str, theme: Optional[str] = None,
                      voice: Optional[str] = None, tempo: Optional[Tempo] = None, key: Optional[str] = None,
                      meter: Optional[str] = None, length: Optional[Length] = None, pitch: Optional[Pitch] = None,
                      seed: Optional[Seed] = None, lyrics: Optional[str] = None,
                      variations: Optional[Variations] = None, format: Optional[str] = None) -> None:
        options = {"theme": theme, "voice": voice, "tempo": tempo, "key": key, "meter": meter, "length": length,
                   "pitch": pitch, "seed": seed, "lyrics": lyrics, "variations": variations, "format": format}
        request = await self.understand(prompt, options, interaction.user.id, interaction.guild_id)
        await self.start(interaction, JobSpec("compose", request, self.reply_to(interaction)))

    @compose.autocomplete("theme")
    async def _theme_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(await theme_names_for(self.bot, interaction.user.id, interaction.guild_id), current)

    @compose.autocomplete("voice")
    async def _voice_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The bot's own voices (built-ins and the operator's packs), as many as there are."""
        return matching(sorted(self.bot.catalog.voices), current)

    @compose.autocomplete("key")
    async def _key_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(KEY_NAMES, current)

    # -- /remix -----------------------------------------------------------------------------
    @app_commands.command(name="remix", description="Change tempo, key, pitch, voice or theme of one of your pieces")
    @app_commands.describe(piece="A piece from your history", **describe_options(REMIX_OPTIONS))
    async def remix(self, interaction: discord.Interaction, piece: str, theme: Optional[str] = None,
                    voice: Optional[str] = None, tempo: Optional[Tempo] = None, key: Optional[str] = None,
                    pitch: Optional[Pitch] = None) -> None:
        record = await self.piece_of(interaction.user.id, piece)
        changes = {"theme": theme, "voice": voice, "tempo": tempo, "key": key, "pitch": pitch}
        await self.start_remix(interaction, record, changes)

    @remix.autocomplete("piece")
    async def _piece_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await piece_choices(self.bot, interaction.user.id, current)

    @remix.autocomplete("voice")
    async def _remix_voice_choices(self, interaction: discord.Interaction,
                                   current: str) -> list[app_commands.Choice[str]]:
        return matching(sorted(self.bot.catalog.voices), current)

    @remix.autocomplete("key")
    async def _remix_key_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(KEY_NAMES, current)

    @remix.autocomplete("theme")
    async def _remix_theme_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(await theme_names_for(self.bot, interaction.user.id, interaction.guild_id), current)

    # -- mentions and DMs -------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None:
            return
        if message.guild is not None and me not in message.mentions:
            return  # without the message-content intent only mentions carry text anyway
        text = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        if not text or HELP_WORDS.search(text):
            info = self.bot.get_cog("Info")
            await message.reply(info.help_text() if info else "Try /compose.", allowed_mentions=NO_PINGS)
            return
        try:
            request = await self.understand(text, {}, message.author.id, message.guild.id if message.guild else None)
        except MuseError as exc:
            await message.reply(one_line(str(exc)), allowed_mentions=NO_PINGS)
            return
        guild_id = message.guild.id if message.guild else None
        refusal = self.bot.queue.reserve(message.author.id, guild_id)
        if refusal:
            await message.reply(refusal, allowed_mentions=NO_PINGS)
            return
        try:
            status = await message.reply("Queued…", allowed_mentions=NO_PINGS)
        except BaseException:
            self.bot.queue.unreserve(message.author.id, guild_id)
            raise
        limit = message.guild.filesize_limit if message.guild else DEFAULT_FILESIZE_LIMIT
        reply = ReplyTo("message", message.channel.id, message_id=status.id, filesize_limit=limit)
        try:
            await self.bot.queue.submit(JobSpec("compose", request, reply), requester_id=message.author.id,
                                        guild_id=guild_id, channel_id=message.channel.id, key=f"message:{message.id}")
        except QueueRefusal as exc:
            await status.edit(content=str(exc), allowed_mentions=NO_PINGS)

    # -- buttons ----------------------------------------------------------------------------
    async def on_button(self, interaction: discord.Interaction, action: str, target_id: int) -> None:
        try:
            if action == "cancel":
                if await self.bot.queue.cancel(target_id, interaction.user.id):
                    await interaction.response.edit_message(content="Cancelled.", embed=None, view=None)
                else:
                    await tell(interaction, "Only the member who asked can cancel it, and only while it is on the way.")
            elif action == "variation":
                record = await self.piece_of(None, str(target_id))
                base = CompositionRequest.from_manifest(record.request)
                request = base.with_seed(draw_seed())
                await self.start(interaction, JobSpec("variation", request, self.reply_to(interaction),
                                                      parent_id=record.id))
            elif action == "remix":
                record = await self.piece_of(None, str(target_id))
                base = CompositionRequest.from_manifest(record.request)
                await interaction.response.send_modal(RemixForm(record.id, base, sorted(self.bot.catalog.voices)))
        except Exception as exc:  # buttons have no tree error handler: same one line, same log
            await tell(interaction, user_line(exc))

    async def on_remix_form(self, interaction: discord.Interaction, piece_id: int, changes: dict[str, Any]) -> None:
        """The Remix form was sent: the same checks and job as /remix, for whoever pressed the button."""
        try:
            record = await self.piece_of(None, str(piece_id))
            await self.start_remix(interaction, record, changes)
        except Exception as exc:  # forms have no tree error handler either
            await tell(interaction, user_line(exc))

    # -- shared steps -----------------------------------------------------------------------
    async def understand(self, prompt: str, options: dict[str, Any], user_id: int,
                         guild_id: int | None) -> CompositionRequest:
        """The request, with the member's own and their server's themes known as well as the built-ins."""
        options = {k: v for k, v in options.items() if v is not None}
        catalog = await member_catalog(self.bot, user_id, guild_id)
        request = await self.bot.queue.worker.understand(prompt, {**options, "engine": self.bot.config.engine},
                                                         catalog)
        if request.length_s > self.bot.config.limits.max_length_s:
            raise BotError(f"length must be at most {self.bot.config.limits.max_length_s:g} seconds here")
        return request.seeded()  # drawn now, so a restart composes the same piece

    def reply_to(self, interaction: discord.Interaction) -> ReplyTo:
        return ReplyTo("interaction", interaction.channel_id, interaction.application_id,
                       filesize_limit=interaction.filesize_limit)

    async def piece_of(self, owner_id: int | None, piece: str):
        text = piece.strip().lstrip("#")
        record = await self.bot.db.compositions.get(int(text)) if text.isdigit() else None
        if record is None or (owner_id is not None and record.owner_id != owner_id):
            raise BotError(f"no piece {piece!r} in your history; pick one from the list")
        return record

    async def start_remix(self, interaction: discord.Interaction, record: Any, changes: dict[str, Any]) -> None:
        """Resolve the remix once, now (bad values answer privately); the job composes exactly that."""
        parent = CompositionRequest.from_manifest(record.request)
        catalog = await member_catalog(self.bot, interaction.user.id, interaction.guild_id)
        request = await self.bot.queue.worker.resolve_remix(parent, changes, catalog)
        await self.start(interaction, JobSpec("remix", request, self.reply_to(interaction),
                                              parent_id=record.id, parent_request=parent))

    async def start(self, interaction: discord.Interaction, spec: JobSpec) -> None:
        """Reserve a slot or refuse privately; then defer and queue the job."""
        queue = self.bot.queue
        guild_id = interaction.guild_id
        refusal = queue.reserve(interaction.user.id, guild_id)
        if refusal:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        try:
            await interaction.response.defer(thinking=True)
        except BaseException:
            queue.unreserve(interaction.user.id, guild_id)
            raise
        queue.stats.note("deferred", (discord.utils.utcnow() - interaction.created_at).total_seconds())
        try:
            await queue.submit(spec, requester_id=interaction.user.id, guild_id=guild_id,
                               channel_id=interaction.channel_id, token=interaction.token,
                               token_expires_at=interaction.expires_at, key=f"interaction:{interaction.id}")
        except QueueRefusal as exc:  # another process took the last slot meanwhile: say so privately
            await interaction.delete_original_response()
            await interaction.followup.send(str(exc), ephemeral=True)
