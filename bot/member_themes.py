"""The themes a member can use where they are: the built-ins plus their own and their server's.

Stored specs are validated again on the way out (a theme saved under an older schema must not
break a member's /compose); one that no longer passes is left out and logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from composer import Catalog, MuseError

if TYPE_CHECKING:
    from bot.client import MuseBot

log = logging.getLogger(__name__)
NOBODY = 0  # no member has id 0, so "visible to nobody in particular" is the server's shared set


async def member_catalog(bot: "MuseBot", user_id: int, guild_id: int | None) -> Catalog:
    return _with(bot, await bot.db.themes.list_visible(user_id, guild_id))


async def guild_catalog(bot: "MuseBot", guild_id: int) -> Catalog:
    """The built-ins plus the themes shared with this server (what a server-wide jam may use)."""
    return _with(bot, await bot.db.themes.list_visible(NOBODY, guild_id))


def _with(bot: "MuseBot", saved: list) -> Catalog:
    if not saved:
        return bot.catalog

    def left_out(spec: dict, exc: MuseError) -> None:
        log.warning("stored theme %s left out: %s", spec.get("name"), exc)

    return bot.catalog.with_themes([t.spec for t in saved], source="a stored theme", on_invalid=left_out)


async def theme_names_for(bot: "MuseBot", user_id: int, guild_id: int | None) -> list[str]:
    """Built-ins first, then the member's and the server's own (for autocomplete)."""
    saved = await bot.db.themes.list_visible(user_id, guild_id)
    builtin = sorted(bot.catalog.themes)
    return builtin + [t.name for t in saved if t.name not in bot.catalog.themes]
