"""Buttons on Muse's replies. They carry their target in `custom_id`, so they keep working
after a restart (discord.py dynamic items); the compose cog does the work behind them."""

from __future__ import annotations

import re
from typing import Any

import discord

COMPOSE_COG = "Compose"
JAM_COG = "Jam"


class _IdButton(discord.ui.DynamicItem[discord.ui.Button], template=r"muse:(?P<action>\w+):(?P<id>\d+)"):
    action = ""
    label = ""
    style = discord.ButtonStyle.secondary

    def __init__(self, target_id: int) -> None:
        self.target_id = target_id
        super().__init__(discord.ui.Button(label=self.label, style=self.style,
                                           custom_id=f"muse:{self.action}:{target_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "_IdButton":
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> Any:
        cog = interaction.client.get_cog(COMPOSE_COG)  # type: ignore[union-attr]
        await cog.on_button(interaction, self.action, self.target_id)


class VariationButton(_IdButton, template=r"muse:variation:(?P<id>\d+)"):
    action, label, style = "variation", "Variation", discord.ButtonStyle.primary


class RemixButton(_IdButton, template=r"muse:remix:(?P<id>\d+)"):
    action, label = "remix", "Remix"


class CancelButton(_IdButton, template=r"muse:cancel:(?P<id>\d+)"):
    action, label, style = "cancel", "Cancel", discord.ButtonStyle.danger


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"muse:vote:(?P<id>\d+)"):
    """A vote for one jam entry; votes live in the database, so they survive restarts."""

    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id
        super().__init__(discord.ui.Button(label="Vote", emoji="\N{WHITE MEDIUM STAR}",
                                           style=discord.ButtonStyle.success, custom_id=f"muse:vote:{entry_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "VoteButton":
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> Any:
        cog = interaction.client.get_cog(JAM_COG)  # type: ignore[union-attr]
        await cog.on_vote(interaction, self.entry_id)


DYNAMIC_ITEMS = (VariationButton, RemixButton, CancelButton, VoteButton)


def result_view(composition_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VariationButton(composition_id))
    view.add_item(RemixButton(composition_id))
    return view


def entry_view(composition_id: int, entry_id: int) -> discord.ui.View:
    view = result_view(composition_id)
    view.add_item(VoteButton(entry_id))
    return view


def progress_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view
