"""/themes, /voices and /help: what Muse can do, privately to whoever asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import COLOUR

if TYPE_CHECKING:
    from bot.client import MuseBot

HELP = """**Muse composes original music from a few words.**
`/compose prompt:happy birthday voice:male` — options: voice, theme, tempo, key, meter, length, pitch, seed, variations (1-4), format (mp3, ogg, wav, midi, text), lyrics.
`/remix piece:#12 tempo:90` — change tempo, pitch or key (same notes), or voice or theme (re-arranged); the Remix button under a piece opens the same as a form.
`/history` — your pieces; post one again.
`/theme create name:neon rain base:retro tempo_min:95 tempo_max:105 mode:minor` — a theme of your own; `/theme share`, `/theme import`, `/theme export`, `/theme from-midi`, `/theme list`, `/theme show`, `/theme edit`, `/theme delete`.
`/jam status`, `/jam submit`, `/jam leaderboard`, `/jam archive` — the server's daily jam (organisers: `/jam setup`, `now`, `on`, `off`, `preview`, `reroll`, `skip`).
`/themes`, `/voices` — what exists.
You can also mention me or DM me in plain words: "a slow sad piano song in D minor please"."""


class InfoCog(commands.Cog, name="Info"):
    def __init__(self, bot: "MuseBot"):
        self.bot = bot

    def help_text(self) -> str:
        return HELP

    def _listing(self, title: str, items: dict) -> discord.Embed:
        lines = [f"**{name}** — {item.description}" for name, item in sorted(items.items())]
        return discord.Embed(title=title, description="\n".join(lines)[:4000], colour=COLOUR)

    @app_commands.command(name="themes", description="The themes Muse composes in")
    async def themes(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=self._listing("Themes", self.bot.catalog.themes), ephemeral=True)

    @app_commands.command(name="voices", description="The voices that sing or lead")
    async def voices(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=self._listing("Voices", self.bot.catalog.voices), ephemeral=True)

    @app_commands.command(name="help", description="How to use Muse")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)
