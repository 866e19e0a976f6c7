"""The Remix form a member opens from the Remix button under a piece.

Every field is optional and shows the piece's current value; whatever is filled in becomes a
/remix change. The compose cog checks the values and queues the job.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.views import COMPOSE_COG
from composer.request import CompositionRequest

FIELDS = ("tempo", "key", "pitch", "voice", "theme")  # a modal holds at most five


class RemixForm(discord.ui.Modal):
    def __init__(self, piece_id: int, base: CompositionRequest, voices: list[str]) -> None:
        super().__init__(title=f"Remix #{piece_id}"[:45], custom_id=f"muse:remix-form:{piece_id}", timeout=900)
        self.piece_id = piece_id
        hints = {
            "tempo": ("Tempo (BPM, 30-300)", f"now {base.tempo}; keeps the notes"),
            "key": ("Key", f"now {base.key.name}; e.g. D minor, Bb major"),
            "pitch": ("Transpose (semitones, -12 to 12)", f"now {base.pitch:+d}; keeps the notes"),
            "voice": ("Voice", f"now {base.voice}; {', '.join(voices)}"),
            "theme": ("Theme", f"now {base.theme}; see /themes (re-arranges)"),
        }
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for name in FIELDS:
            label, placeholder = hints[name]
            field: discord.ui.TextInput = discord.ui.TextInput(
                label=label, custom_id=name, placeholder=placeholder[:100], required=False, max_length=40)
            self.inputs[name] = field
            self.add_item(field)

    def changes(self) -> dict[str, Any]:
        return {name: field.value.strip() for name, field in self.inputs.items() if field.value and field.value.strip()}

    async def on_submit(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(COMPOSE_COG)  # type: ignore[union-attr]
        await cog.on_remix_form(interaction, self.piece_id, self.changes())
