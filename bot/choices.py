"""Slash-option choices and autocomplete lists built from the catalog (names only, no theory)."""

from __future__ import annotations

from discord import app_commands

from composer import FORMATS, METERS, key_names

MAX_CHOICES = 25

FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in FORMATS]
METER_CHOICES = [app_commands.Choice(name=m, value=m) for m in METERS]
KEY_NAMES = key_names()


def matching(names: list[str], current: str) -> list[app_commands.Choice[str]]:
    """Names that start with what the member typed first, then those that contain it."""
    typed = current.strip().lower()
    first = [n for n in names if n.lower().startswith(typed)]
    then = [n for n in names if typed in n.lower() and n not in first]
    return [app_commands.Choice(name=n, value=n) for n in (first + then)[:MAX_CHOICES]]
