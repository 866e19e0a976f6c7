"""The card under each piece: title, description and the facts a member may want to reuse."""

from __future__ import annotations

from typing import Any

import discord

from composer import Piece
from storage import Composition as Record

COLOUR = discord.Colour(0x7C5CFF)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def history_request(piece: Piece) -> dict[str, Any]:
    """The request as stored in history, plus what the embed shows (extra keys are ignored on load)."""
    return {**piece.request.to_manifest(), "engine": piece.request.engine,
            "sounding_key": piece.score.key_name, "duration_s": round(piece.score.duration_s, 2)}


def piece_embed(record: Record, notes: list[str] | None = None) -> discord.Embed:
    request = record.request
    description = record.description
    for note in notes or []:
        description += f"\n*Note: {note}.*"
    embed = discord.Embed(title=_clip(record.prompt, 256), description=_clip(description, 4000), colour=COLOUR)
    pitch = request.get("pitch") or 0
    fields = [
        ("Theme", request.get("theme")),
        ("Voice", request.get("voice")),
        ("Key", request.get("sounding_key") or request.get("key")),
        ("Tempo", f"{request.get('tempo')} BPM"),
        ("Meter", request.get("meter")),
        ("Length", f"{round(request.get('duration_s') or request.get('length_s') or 0)} s"),
        ("Seed", request.get("seed")),
        ("Id", f"#{record.id}"),
    ]
    if pitch:
        fields.insert(3, ("Pitch", f"{pitch:+d} semitones"))
    for name, value in fields:
        embed.add_field(name=name, value=_clip(str(value), 1024), inline=True)
    if record.parent_id:
        embed.set_footer(text=f"from #{record.parent_id} · engine {record.engine}")
    else:
        embed.set_footer(text=f"engine {record.engine}")
    return embed
