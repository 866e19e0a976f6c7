"""One place that turns any app-command failure into one short, private line.

Members see what went wrong and what is allowed; tracebacks go to the log only.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from composer import MuseError
from storage import StorageError

log = logging.getLogger(__name__)

UNEXPECTED_LINE = "Sorry, something went wrong on Muse's side; it has been logged."
MAX_LINE_CHARS = 300


class BotError(MuseError):
    """A member asked for something the bot cannot do (no such piece, nothing to change, …)."""


def one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"


def user_line(error: BaseException) -> str:
    """The line a member reads for this error; logs the traceback when it is our fault."""
    if isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)) and error.__cause__:
        if isinstance(error.__cause__, (MuseError, StorageError)):
            error = error.__cause__
    if isinstance(error, MuseError):
        return one_line(str(error))
    if isinstance(error, app_commands.TransformerError):
        return one_line(f"{error.value!r} is not a valid value for this option")
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"One moment, please: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    if isinstance(error, StorageError):
        log.error("storage error", exc_info=error)
        return "Muse can't reach its memory right now; try again in a minute."
    log.error("unexpected error", exc_info=error)
    return UNEXPECTED_LINE


async def tell(interaction: discord.Interaction, line: str) -> None:
    """Answer ephemerally whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(line, ephemeral=True)
        else:
            await interaction.response.send_message(line, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not send an error line: %s", exc)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    await tell(interaction, user_line(error))
