"""One server's daily round: close yesterday's (winner and standings), open today's, post it, and
queue Muse's own example piece behind members' requests.

The database decides whether a round exists (one per server per local date), so a restart, a
late scheduler or a second bot process against the same database never posts a day twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.jam.timing import round_key, round_window
from bot.jobspec import JobSpec, ReplyTo
from bot.tasks import spawn
from bot.member_themes import guild_catalog
from composer import understand
from composer.jam import JamPrompt, draw_jam_prompt
from storage import JamEntry, JamRound, JamSchedule

if TYPE_CHECKING:
    from bot.client import MuseBot

log = logging.getLogger(__name__)

MIN_ENTRIES = 2  # fewer than this and nobody is crowned: a kind note instead
RECENT_DAYS = 30  # a title is not drawn again within this many rounds of a server
EXAMPLE_LENGTH_S = 30
POST_CLAIM_S = 60.0  # a claim to post a round older than this belongs to a process that stopped


@dataclass(frozen=True)
class Results:
    round: JamRound
    entries: list[JamEntry]  # most votes first, earliest first on ties

    @property
    def winner(self) -> JamEntry | None:
        return self.entries[0] if len(self.entries) >= MIN_ENTRIES else None

    def lines(self) -> list[str]:
        title = title_of(self.round.prompt)
        if self.winner is None:
            return [f"**{title}** closed with {len(self.entries)} "
                    f"entr{'y' if len(self.entries) == 1 else 'ies'}: not enough to crown anyone this time. "
                    "Thank you for playing — today is a fresh start!"]
        standings = " · ".join(f"{i + 1}. <@{e.user_id}> ({e.votes} vote{'s' if e.votes != 1 else ''})"
                               for i, e in enumerate(self.entries[:5]))
        return [f"**{title}** is won by <@{self.winner.user_id}> with {self.winner.votes} "
                f"vote{'s' if self.winner.votes != 1 else ''}! Standings: {standings}"]


def title_of(prompt_text: str) -> str:
    return prompt_text.split(" — ", 1)[0].strip()


def round_seed(guild_id: int, key: str, salt: int = 0) -> int:
    """The same server and day draw the same prompt in any process (a reroll changes the salt)."""
    digest = hashlib.sha256(f"{guild_id}:{key}:{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class JamRunner:
    def __init__(self, bot: "MuseBot"):
        self.bot = bot
        self.rechecks: set[asyncio.Task[None]] = set()  # cancelled when the jam cog unloads

    async def on_due(self, schedule: JamSchedule, fire_time: datetime, *, retry: bool = True) -> JamRound | None:
        """Open and post the round for `fire_time`'s local day; None when it is (being) posted elsewhere.

        A round opened by a process that stopped before posting it is posted here once that
        process's claim is stale; a fresh claim means someone else is posting it right now."""
        db = self.bot.db
        key = round_key(schedule, fire_time)
        opens_at, closes_at = round_window(schedule, fire_time)
        prompt = await self.draw(schedule, key)
        jam, created = await db.jams.open_round(guild_id=schedule.guild_id, round_key=key,
                                                channel_id=schedule.channel_id, prompt=prompt.text,
                                                theme=prompt.theme, opens_at=opens_at, closes_at=closes_at)
        if not created and (jam.message_id is not None or jam.closed):
            log.info("jam round %s of guild %s is already out", key, schedule.guild_id)
            return None
        if not await db.jams.claim_post(jam.id, stale_s=POST_CLAIM_S):
            if retry:  # someone is posting it, or stopped a moment ago: look again once that claim is stale
                task = spawn(self._look_again(schedule, fire_time), name=f"jam-recheck-{schedule.guild_id}-{key}")
                self.rechecks.add(task)
                task.add_done_callback(self.rechecks.discard)
            return None
        results = await self._close_older(schedule.guild_id, jam)
        await self.post(schedule, jam, prompt, results)
        return jam

    async def _look_again(self, schedule: JamSchedule, fire_time: datetime) -> None:
        await asyncio.sleep(POST_CLAIM_S + 1)
        await self.on_due(schedule, fire_time, retry=False)

    async def _close_older(self, guild_id: int, jam: JamRound) -> Results | None:
        """Close every earlier round still open; the newest of them is announced with today's."""
        older = [r for r in await self.bot.db.jams.recent_rounds(guild_id, limit=RECENT_DAYS)
                 if r.id < jam.id and not r.closed]
        results = [await self.close(r) for r in older]
        return results[0] if results else None

    async def draw(self, schedule: JamSchedule, key: str, salt: int = 0) -> JamPrompt:
        """The prompt for a server's day: the same in any process, never a title of its last 30 rounds."""
        catalog = await guild_catalog(self.bot, schedule.guild_id)
        recent = [title_of(r.prompt) for r in await self.bot.db.jams.recent_rounds(schedule.guild_id,
                                                                                   limit=RECENT_DAYS)
                  if r.round_key != key]  # the day's own round (posting it again) draws its own prompt
        return draw_jam_prompt(catalog, round_seed(schedule.guild_id, key, salt), theme_pool=schedule.theme_pool,
                               recent_titles=recent)

    async def reroll(self, schedule: JamSchedule, jam: JamRound, salt: int) -> JamRound:
        """Today's round with a fresh prompt (only before anyone entered), posted with a new example."""
        prompt = await self.draw(schedule, jam.round_key, salt)
        jam = await self.bot.db.jams.replace_prompt(jam.id, prompt=prompt.text, theme=prompt.theme)
        await self.post(schedule, jam, prompt, None, header="Today's prompt has changed.")
        return jam

    async def close(self, jam: JamRound) -> Results:
        await self.bot.db.jams.close_round(jam.id)
        return Results(jam, await self.bot.db.jams.entries(jam.id))

    async def post(self, schedule: JamSchedule, jam: JamRound, prompt: JamPrompt, results: Results | None,
                   header: str | None = None) -> None:
        """The announcement, then Muse's example in reply to it; a channel Muse cannot post in pauses
        the server's jam and tells whoever set it up."""
        lines = results.lines() if results else []
        lines += [header] if header else []
        closes = discord.utils.format_dt(jam.closes_at, "t")
        lines += [f"🎶 **Today's jam: {prompt.text}**",
                  f"Answer with `/jam submit` before {closes}, and vote with the Vote button under each entry."]
        winner = results.winner.user_id if results and results.winner else None
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(winner)] if winner
                                           else False)
        try:
            channel = self.bot.get_channel(jam.channel_id) or await self.bot.fetch_channel(jam.channel_id)
            message = await channel.send("\n".join(lines), allowed_mentions=mentions)  # type: ignore[union-attr]
            status = await message.reply("Muse's own take on it is on its way…", mention_author=False)
        except (discord.Forbidden, discord.NotFound) as exc:
            await self.pause(schedule, f"I can't post in <#{jam.channel_id}> ({exc.text or exc.status})")
            return
        await self.bot.db.jams.set_round_message(jam.id, message.id)
        await self._queue_example(schedule, prompt, status, jam.id)

    async def _queue_example(self, schedule: JamSchedule, prompt: JamPrompt, status: discord.Message,
                             round_id: int) -> None:
        catalog = await guild_catalog(self.bot, schedule.guild_id)
        options = {**prompt.options, "length": prompt.options.get("length", EXAMPLE_LENGTH_S),
                   "engine": self.bot.config.engine}
        request = await self.bot.queue.worker.think(understand, prompt.text, options, catalog)
        reply = ReplyTo("message", status.channel.id, message_id=status.id)
        spec = JobSpec("compose", request.seeded(), reply, priority=1)
        await self.bot.queue.submit_background(spec, requester_id=self.bot.user.id,  # type: ignore[union-attr]
                                               guild_id=schedule.guild_id, channel_id=status.channel.id,
                                               key=f"jam-example:{round_id}:{status.id}")  # one per post

    async def pause(self, schedule: JamSchedule, why: str) -> None:
        """Stop the server's jam rather than fail every day in silence; say so to its organiser."""
        log.warning("jam of guild %s paused: %s", schedule.guild_id, why)
        await self.bot.db.jams.set_enabled(schedule.guild_id, False)
        jam_cog = self.bot.get_cog("Jam")
        if jam_cog is not None:
            jam_cog.scheduler.remove(schedule.guild_id)  # type: ignore[attr-defined]
        if schedule.created_by is None:
            return
        try:
            user = await self.bot.fetch_user(schedule.created_by)
            await user.send(f"The daily jam is paused: {why}. Fix the channel's permissions, then `/jam on`.")
        except discord.HTTPException as exc:
            log.warning("could not tell the jam's organiser: %s", exc)
