"""/jam: a daily server-wide prompt with Muse's example, members' entries, votes and a winner.

Setting it up, posting now, pausing and resuming need Manage Server; anyone can look, submit and
vote. The schedule lives in the database (the scheduler is rebuilt from it at start-up); rounds,
entries and votes too, so a restart loses nothing and never posts a day twice.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Optional

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import matching
from bot.cogs.compose import piece_choices
from bot.cogs.history import post_stored_piece
from bot.embeds import COLOUR
from bot.errors import BotError, tell, user_line
from bot.jam.rounds import MIN_ENTRIES, JamRunner, Results, title_of
from bot.jam.scheduler import JamScheduler
from bot.jam.timing import next_fire, parse_time_of_day, parse_timezone, round_key
from bot.jobspec import JobSpec
from bot.member_themes import guild_catalog
from bot.shards import guild_filter
from bot.views import COMPOSE_COG, JAM_COG, entry_view
from storage import ConflictError, InvalidStateError, JamRound, JamSchedule

if TYPE_CHECKING:
    from bot.client import MuseBot

log = logging.getLogger(__name__)

GRACE_S = 3 * 3600  # a bot that was down at jam time still posts once within this
TIMEZONES = sorted(zoneinfo.available_timezones())
NEEDED = discord.Permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True)


class JamCog(commands.GroupCog, name=JAM_COG, group_name="jam", group_description="The server's daily jam"):
    def __init__(self, bot: "MuseBot"):
        self.bot = bot
        self.runner = JamRunner(bot)
        # with shards split over processes, each schedules the servers on its own shards
        self.scheduler = JamScheduler(self.runner.on_due, grace_s=GRACE_S, owns=guild_filter(bot.config.scale))
        super().__init__()

    async def cog_load(self) -> None:
        await self.scheduler.start(await self.bot.db.jams.list_enabled())

    async def cog_unload(self) -> None:
        await self.scheduler.shutdown()
        for task in list(self.runner.rechecks):
            task.cancel()

    # -- organisers ------------------------------------------------------------------------
    @app_commands.command(name="setup", description="Post a jam prompt every day in a channel (Manage Server)")
    @app_commands.describe(channel="Where the prompt goes", time="Time of day, 24-hour, e.g. 18:30",
                           timezone="Your time zone, e.g. Europe/Paris",
                           themes="Optional: only these themes, comma-separated (built-in or this server's)")
    async def setup(self, interaction: discord.Interaction, channel: discord.TextChannel, time: str,
                    timezone: str, themes: Optional[str] = None) -> None:
        guild_id = self._organiser(interaction)
        try:
            time_of_day, zone = parse_time_of_day(time), parse_timezone(timezone)
        except ValueError as exc:
            raise BotError(str(exc)) from None
        pool = await self._theme_pool(guild_id, themes)
        self._check_can_post(interaction, channel)
        schedule = await self.bot.db.jams.set_schedule(JamSchedule(
            guild_id=guild_id, channel_id=channel.id, time_of_day=time_of_day, timezone=zone.key,
            theme_pool=pool, enabled=True, created_by=interaction.user.id))
        self.scheduler.upsert(schedule)
        await interaction.response.send_message(f"The daily jam is on in {channel.mention}: next prompt "
                                                f"{self._next(schedule)}.", ephemeral=True)

    @app_commands.command(name="now", description="Post today's jam prompt right away (Manage Server)")
    async def now(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        posted = await self.runner.on_due(schedule, datetime.now(timezone.utc))
        await interaction.followup.send("Posted today's jam." if posted else
                                        "Today's jam is already out; the next one comes at the usual time.",
                                        ephemeral=True)

    @app_commands.command(name="off", description="Pause the daily jam (Manage Server)")
    async def off(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        await self.bot.db.jams.set_enabled(schedule.guild_id, False)
        self.scheduler.remove(schedule.guild_id)
        await interaction.response.send_message("The daily jam is paused; `/jam on` resumes it.", ephemeral=True)

    @app_commands.command(name="on", description="Resume the daily jam (Manage Server)")
    async def on(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        await self.bot.db.jams.set_enabled(schedule.guild_id, True)
        schedule = await self._schedule(schedule.guild_id)
        self.scheduler.upsert(schedule)
        await interaction.response.send_message(f"The daily jam is back: next prompt {self._next(schedule)}.",
                                                ephemeral=True)

    @app_commands.command(name="reroll", description="A different prompt for today, before anyone has entered "
                                                     "(Manage Server)")
    async def reroll(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        jam = await self._open_round(schedule.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            jam = await self.runner.reroll(schedule, jam, salt=interaction.id & 0xFFFF)
        except ConflictError as exc:
            raise BotError(str(exc)) from None
        await interaction.followup.send(f"Today's prompt is now: {jam.prompt}", ephemeral=True)

    @app_commands.command(name="skip", description="Close today's round without a winner (Manage Server)")
    async def skip(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        jam = await self._open_round(schedule.guild_id)
        await self.bot.db.jams.close_round(jam.id)
        await interaction.response.send_message(f"Skipped **{title_of(jam.prompt)}**; the next prompt comes "
                                                f"{self._next(schedule)}.", ephemeral=True)

    @app_commands.command(name="preview", description="The next prompt, before it is posted (Manage Server)")
    async def preview(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._organiser(interaction))
        when = self.scheduler.next_run(schedule.guild_id) or next_fire(schedule, datetime.now(timezone.utc))
        prompt = await self.runner.draw(schedule, round_key(schedule, when))
        await interaction.response.send_message(f"Next ({self._next(schedule)}): {prompt.text}", ephemeral=True)

    # -- everyone ----------------------------------------------------------------------------
    @app_commands.command(name="archive", description="Past rounds and their winners")
    async def archive(self, interaction: discord.Interaction) -> None:
        rounds = [r for r in await self.bot.db.jams.recent_rounds(self._guild(interaction), limit=30) if r.closed]
        lines = []
        for jam in rounds[:10]:
            results = Results(jam, await self.bot.db.jams.entries(jam.id))
            won = (f"won by <@{results.winner.user_id}> ({results.winner.votes} votes)" if results.winner
                   else f"{len(results.entries)} entries, no winner")
            lines.append(f"**{jam.round_key}** {title_of(jam.prompt)} — {won}")
        embed = discord.Embed(title="Jam archive", description="\n".join(lines) or "No finished rounds yet.",
                              colour=COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="status", description="Today's jam, its entries and when the next one comes")
    async def status(self, interaction: discord.Interaction) -> None:
        schedule = await self._schedule(self._guild(interaction))
        jam = await self.bot.db.jams.current_round(schedule.guild_id)
        lines = [f"**Next prompt** {self._next(schedule) if schedule.enabled else 'paused (`/jam on`)'}"
                 f" · {schedule.time_of_day} {schedule.timezone} in <#{schedule.channel_id}>"]
        if jam is not None:
            entries = await self.bot.db.jams.entries(jam.id)
            lines += [f"**Today** {jam.prompt}", f"Closes {discord.utils.format_dt(jam.closes_at, 'R')} · "
                      f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"]
            lines += [f"{i + 1}. <@{e.user_id}> — {e.votes} vote{'s' if e.votes != 1 else ''}"
                      for i, e in enumerate(entries[:10])]
        embed = discord.Embed(title="Daily jam", description="\n".join(lines), colour=COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="submit", description="Enter today's jam: compose an entry, or pick one of yours")
    @app_commands.describe(prompt="Your own words for the piece (default: today's prompt)",
                           piece="Or a piece from your /history")
    async def submit(self, interaction: discord.Interaction, prompt: Optional[str] = None,
                     piece: Optional[str] = None) -> None:
        jam = await self._open_round(self._guild(interaction))
        compose = self.bot.get_cog(COMPOSE_COG)
        if piece is not None:
            record = await compose.piece_of(interaction.user.id, piece)
            await self._enter_history_piece(interaction, jam, record)
            return
        options = {"theme": jam.theme} if jam.theme else {}
        request = await compose.understand(prompt or jam.prompt, options, interaction.user.id, interaction.guild_id)
        await compose.start(interaction, JobSpec("compose", request, compose.reply_to(interaction),
                                                 jam_round_id=jam.id))

    @app_commands.command(name="leaderboard", description="Who has won this server's jams")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        guild_id = self._guild(interaction)
        wins: dict[int, int] = {}
        rounds = [r for r in await self.bot.db.jams.recent_rounds(guild_id, limit=1000) if r.closed]
        for jam in rounds:
            winner = Results(jam, await self.bot.db.jams.entries(jam.id)).winner
            if winner is not None:
                wins[winner.user_id] = wins.get(winner.user_id, 0) + 1
        ranked = sorted(wins.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        lines = [f"{i + 1}. <@{user}> — {n} win{'s' if n != 1 else ''}" for i, (user, n) in enumerate(ranked)]
        text = "\n".join(lines) or f"No winner yet: a round needs {MIN_ENTRIES} entries to crown one."
        embed = discord.Embed(title="Jam leaderboard", description=text, colour=COLOUR)
        embed.set_footer(text=f"{len(rounds)} closed rounds")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @setup.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(TIMEZONES, current)

    @submit.autocomplete("piece")
    async def _pieces(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await piece_choices(self.bot, interaction.user.id, current)

    # -- votes -------------------------------------------------------------------------------
    async def on_vote(self, interaction: discord.Interaction, entry_id: int) -> None:
        try:
            entry = await self.bot.db.jams.get_entry(entry_id)
            if entry is None:
                raise BotError("that entry is gone")
            try:
                await self.bot.db.jams.vote(entry.round_id, voter_id=interaction.user.id, entry_id=entry_id)
            except InvalidStateError:
                raise BotError("voting for that round has closed") from None
            except ConflictError as exc:
                raise BotError(str(exc)) from None
            await tell(interaction, f"Your vote is on <@{entry.user_id}>'s entry; you can move it until the round "
                                    "closes.")
        except Exception as exc:  # buttons have no tree error handler: same one line, same log
            await tell(interaction, user_line(exc))

    # -- shared steps ------------------------------------------------------------------------
    def _guild(self, interaction: discord.Interaction) -> int:
        if interaction.guild_id is None:
            raise BotError("the jam belongs to a server: use it there")
        return interaction.guild_id

    def _organiser(self, interaction: discord.Interaction) -> int:
        guild_id = self._guild(interaction)
        if not interaction.permissions.manage_guild:
            raise BotError("only members with Manage Server can set up or change the jam")
        return guild_id

    async def _schedule(self, guild_id: int) -> JamSchedule:
        schedule = await self.bot.db.jams.get_schedule(guild_id)
        if schedule is None:
            raise BotError("this server has no jam yet: someone with Manage Server can start one with `/jam setup`")
        return schedule

    async def _open_round(self, guild_id: int) -> JamRound:
        jam = await self.bot.db.jams.current_round(guild_id)
        if jam is None:
            raise BotError("there is no jam open right now; `/jam status` says when the next one starts")
        return jam

    def _next(self, schedule: JamSchedule) -> str:
        when = self.scheduler.next_run(schedule.guild_id)
        if when is None:
            return "not scheduled"
        local = when.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
        return f"{local:%a %d %b %H:%M} {schedule.timezone} ({discord.utils.format_dt(when, 'R')})"

    async def _theme_pool(self, guild_id: int, text: str | None) -> tuple[str, ...]:
        if not text:
            return ()
        names = [n.strip().lower().replace(" ", "-") for n in text.split(",") if n.strip()]
        catalog = await guild_catalog(self.bot, guild_id)
        missing = [n for n in names if n not in catalog.themes]
        if missing:
            raise BotError(f"no theme {missing[0]!r} in this server; use built-in themes (see /themes) or themes "
                           "shared with this server")
        return tuple(dict.fromkeys(names))

    def _check_can_post(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        me = interaction.guild.me if interaction.guild else None
        allowed = channel.permissions_for(me) if me is not None else None
        if allowed is not None and not NEEDED <= allowed:
            raise BotError(f"I can't post pieces in {channel.mention}: I need View Channel, Send Messages, "
                           "Embed Links and Attach Files there")

    async def _enter_history_piece(self, interaction: discord.Interaction, jam: JamRound, record) -> None:
        entry = await self.bot.db.jams.submit(jam.id, user_id=interaction.user.id, composition_id=record.id)
        await interaction.response.defer(thinking=True)
        message = await post_stored_piece(self.bot, interaction, record, view=entry_view(record.id, entry.id),
                                          content=f"<@{interaction.user.id}>'s entry for **{title_of(jam.prompt)}**")
        await self.bot.db.jams.set_entry_message(entry.id, message.id)
