"""The Remix form a member opens from the Remix button under a piece.

Every field is optional and shows the piece's current value; whatever is filled in becomes a
/remix change. The compose cog checks the values and queues the job.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.views import COMPOSE_COG
from composer import CompositionRequest
from composer.options import BY_NAME, REMIX_OPTIONS

FIELDS = REMIX_OPTIONS[:5]  # a modal holds at most five


class RemixForm(discord.ui.Modal):
    def __init__(self, piece_id: int, base: CompositionRequest, voices: list[str]) -> None:
        super().__init__(title=f"Remix #{piece_id}"[:45], custom_id=f"muse:remix-form:{piece_id}", timeout=900)
        self.piece_id = piece_id
        voices_help = f"; {', '.join(voices)}" if voices else ""
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for name in FIELDS:
            option = BY_NAME[name]
            label = f"{name.capitalize()} ({option.range_help})" if option.range else name.capitalize()
            now = base.key.name if name == "key" else getattr(base, option.request_field)
            placeholder = f"now {now}; {option.help}" + (voices_help if name == "voice" else "")
            field: discord.ui.TextInput = discord.ui.TextInput(
                label=label, custom_id=name, placeholder=placeholder[:100], required=False, max_length=40)
            self.inputs[name] = field
            self.add_item(field)

    def changes(self) -> dict[str, Any]:
        return {name: field.value.strip() for name, field in self.inputs.items() if field.value and field.value.strip()}

    async def on_submit(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(COMPOSE_COG)  # type: ignore[union-attr]
        await cog.on_remix_form(interaction, self.piece_id, self.changes())
