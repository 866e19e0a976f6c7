"""/history: a member's pieces, newest first, five per page, with buttons to post one again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery import Outgoing
from bot.embeds import COLOUR, piece_embed
from bot.errors import tell, user_line
from bot.views import result_view
from storage import Composition, Page

if TYPE_CHECKING:
    from bot.client import MuseBot

PAGE_SIZE = 5


class HistoryView(discord.ui.View):
    """Older / Newer paging and one Post button per piece on the page; only for its member."""

    def __init__(self, cog: "HistoryCog", owner_id: int, page: Page, cursors: list[int | None]):
        super().__init__(timeout=600)
        self.cog, self.owner_id, self.page, self.cursors = cog, owner_id, page, cursors
        for record in page.items:
            button = discord.ui.Button(label=f"Post #{record.id}", style=discord.ButtonStyle.primary,
                                       custom_id=f"history:post:{record.id}")
            button.callback = self._poster(record)
            self.add_item(button)
        newer = discord.ui.Button(label="Newer", disabled=len(cursors) <= 1, row=1)
        older = discord.ui.Button(label="Older", disabled=page.next_before_id is None, row=1)
        newer.callback, older.callback = self._newer, self._older
        self.add_item(newer)
        self.add_item(older)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    def _poster(self, record: Composition):
        async def post(interaction: discord.Interaction) -> None:
            try:
                await self.cog.repost(interaction, record)
            except Exception as exc:
                await tell(interaction, user_line(exc))
        return post

    async def _older(self, interaction: discord.Interaction) -> None:
        await self.cog.show(interaction, self.owner_id, [*self.cursors, self.page.next_before_id], edit=True)

    async def _newer(self, interaction: discord.Interaction) -> None:
        await self.cog.show(interaction, self.owner_id, self.cursors[:-1], edit=True)


class HistoryCog(commands.Cog, name="History"):
    def __init__(self, bot: "MuseBot"):
        self.bot = bot

    @app_commands.command(name="history", description="Your pieces, newest first; post one again")
    async def history(self, interaction: discord.Interaction) -> None:
        await self.show(interaction, interaction.user.id, [None], edit=False)

    async def show(self, interaction: discord.Interaction, owner_id: int, cursors: list[int | None], *,
                   edit: bool) -> None:
        page = await self.bot.db.compositions.history_for_user(owner_id, limit=PAGE_SIZE, before_id=cursors[-1])
        total = await self.bot.db.compositions.count_for_user(owner_id)
        if not page.items:
            await interaction.response.send_message("No pieces yet: try `/compose happy birthday`.", ephemeral=True)
            return
        lines = [f"**#{r.id}** {discord.utils.escape_markdown(r.prompt[:80])} — {r.request.get('theme')}, "
                 f"{r.request.get('voice')}, {r.request.get('tempo')} BPM, seed {r.seed}" for r in page.items]
        embed = discord.Embed(title="Your pieces", description="\n".join(lines), colour=COLOUR)
        embed.set_footer(text=f"page {len(cursors)} · {total} pieces in all")
        view = HistoryView(self, owner_id, page, cursors)
        if edit:
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def repost(self, interaction: discord.Interaction, record: Composition) -> None:
        """Post a stored piece again in the channel, with its files and buttons."""
        await interaction.response.defer(thinking=True)
        await post_stored_piece(self.bot, interaction, record, view=result_view(record.id))


async def post_stored_piece(bot: "MuseBot", interaction: discord.Interaction, record: Composition, *,
                            view: discord.ui.View, content: str | None = None) -> discord.Message:
    """A stored piece posted again as the (deferred) interaction's answer: its files that fit the
    upload limit, and a note when some did not."""
    files = await bot.queue.worker.read_files(record)
    limit = interaction.filesize_limit
    notes = [] if all(len(b) <= limit for b in files.values()) else ["some files are too big to post again"]
    files = {n: b for n, b in files.items() if len(b) <= limit}
    return await interaction.followup.send(content=content or discord.utils.MISSING,
                                           embed=piece_embed(record, notes),
                                           files=Outgoing(files=files).discord_files(), view=view,
                                           allowed_mentions=discord.AllowedMentions.none(), wait=True)
