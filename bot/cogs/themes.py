"""/theme: members create, edit, share, import, export and delete their own themes.

The cog only checks who may do what and stores plain specs; every music rule (what a theme may
say, how settings map onto it, reading files and MIDI) lives in `composer`. A theme is copied
on import, never linked, and a piece keeps the exact spec it used (it travels in its request).
"""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING, Any, Optional

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import KEY_NAMES, matching
from bot.embeds import COLOUR
from bot.errors import BotError
from bot.jobspec import JobSpec
from bot.member_themes import theme_names_for
from bot.views import COMPOSE_COG
from composer import customise_theme, gm_instrument_names, theme_name
from composer.catalog.customise import SETTINGS
from composer.options import bounds
from storage import ConflictError, NewSavedTheme, SavedTheme, Visibility

if TYPE_CHECKING:
    from bot.client import MuseBot

log = logging.getLogger(__name__)

MAX_THEMES_PER_MEMBER = 25
MAX_SPEC_BYTES = 64 * 1024
MAX_MIDI_BYTES = 2 * 1024 * 1024
PREVIEW_LENGTH_S = 10
SCOPES = {"private": Visibility.PRIVATE, "server": Visibility.GUILD, "public": Visibility.PUBLIC}
SHOWN = {Visibility.PRIVATE: "private", Visibility.GUILD: "this server", Visibility.PUBLIC: "public"}

Tempo = app_commands.Range[int, bounds("tempo")[0], bounds("tempo")[1]]
SETTING_HELP = {
    "description": "One or two sentences: what it sounds like", "mood": "One mood word (e.g. dreamy)",
    "examples": "Phrases that should pick it, separated by ; (e.g. neon rain; night drive)",
    "tempo_min": "Slowest tempo (BPM)", "tempo_max": "Fastest tempo (BPM)", "mode": "major or minor",
    "key": "A fixed key, e.g. A minor", "meters": "Time signatures, e.g. 4/4 or 3/4, 6/8",
    "progression": "Roman numerals, e.g. i VI III VII, or verse: I V vi IV | chorus: IV V I I",
    "harmony": "Harmony instrument (General MIDI name)", "bass": "Bass instrument (General MIDI name)",
    "pad": "Pad instrument (General MIDI name)", "groove": "straight, swing or shuffle",
    "style": "Melody style the model writes in",
}
GROOVES = [app_commands.Choice(name=g, value=g) for g in ("straight", "swing", "shuffle")]
MODES = [app_commands.Choice(name=m, value=m) for m in ("major", "minor")]
STYLES = [app_commands.Choice(name=s, value=s) for s in ("folk", "irish", "scottish", "chorale", "song", "early",
                                                         "classical")]
SCOPE_CHOICES = [app_commands.Choice(name=n, value=n) for n in SCOPES]


class ThemeCog(commands.GroupCog, group_name="theme", group_description="Your own themes: create, share, import"):
    def __init__(self, bot: "MuseBot"):
        self.bot = bot
        super().__init__()

    # -- create and edit ---------------------------------------------------------------------
    @app_commands.command(name="create", description="Make a theme of your own from a built-in one")
    @app_commands.describe(name="A short name, e.g. neon rain", base="The theme to start from (default: happy)",
                           **SETTING_HELP)
    @app_commands.choices(mode=MODES, groove=GROOVES, style=STYLES)
    async def create(self, interaction: discord.Interaction, name: str, base: Optional[str] = None,
                     description: Optional[str] = None, mood: Optional[str] = None, examples: Optional[str] = None,
                     tempo_min: Optional[Tempo] = None, tempo_max: Optional[Tempo] = None,
                     mode: Optional[str] = None, key: Optional[str] = None, meters: Optional[str] = None,
                     progression: Optional[str] = None, harmony: Optional[str] = None, bass: Optional[str] = None,
                     pad: Optional[str] = None, groove: Optional[str] = None, style: Optional[str] = None) -> None:
        settings = _settings(locals())
        start = await self._base_spec(interaction, base or "happy")
        if description is None:  # a copy should not describe itself as its base
            settings["description"] = f"{theme_name(name)}: a member's theme built on {start['name']}."
        spec = customise_theme(start, name, settings)
        saved = await self._store(interaction, spec)
        await interaction.response.send_message(embed=theme_embed(saved, "Theme created"), ephemeral=True)

    @app_commands.command(name="edit", description="Change one of your themes")
    @app_commands.describe(name="One of your themes", rename="A new name", **SETTING_HELP)
    @app_commands.choices(mode=MODES, groove=GROOVES, style=STYLES)
    async def edit(self, interaction: discord.Interaction, name: str, rename: Optional[str] = None,
                   description: Optional[str] = None, mood: Optional[str] = None, examples: Optional[str] = None,
                   tempo_min: Optional[Tempo] = None, tempo_max: Optional[Tempo] = None,
                   mode: Optional[str] = None, key: Optional[str] = None, meters: Optional[str] = None,
                   progression: Optional[str] = None, harmony: Optional[str] = None, bass: Optional[str] = None,
                   pad: Optional[str] = None, groove: Optional[str] = None, style: Optional[str] = None) -> None:
        settings = _settings(locals())
        saved = await self._own(interaction.user.id, name)
        spec = customise_theme(saved.spec, rename or saved.name, settings)
        self._check_name(spec["name"])
        try:
            updated = await self.bot.db.themes.update(saved.id, owner_id=saved.owner_id, name=spec["name"], spec=spec,
                                                      schema_version=spec["schema"])
        except ConflictError as exc:
            raise BotError(str(exc)) from None
        await interaction.response.send_message(embed=theme_embed(updated, "Theme saved"), ephemeral=True)

    # -- looking ---------------------------------------------------------------------------
    @app_commands.command(name="list", description="Your themes, this server's, or public ones")
    @app_commands.describe(scope="mine (default), server or public")
    @app_commands.choices(scope=[app_commands.Choice(name=n, value=n) for n in ("mine", "server", "public")])
    async def list_(self, interaction: discord.Interaction, scope: Optional[str] = None) -> None:
        db = self.bot.db.themes
        if scope == "public":
            themes = await db.list_public(limit=25)
        elif scope == "server":
            themes = [t for t in await db.list_visible(interaction.user.id, interaction.guild_id)
                      if t.visibility is Visibility.GUILD and t.guild_id == interaction.guild_id]
        else:
            themes = await db.list_for_owner(interaction.user.id)
        title = {"public": "Public themes", "server": "This server's themes"}.get(scope or "", "Your themes")
        if not themes:
            await interaction.response.send_message("No themes here yet: try `/theme create`.", ephemeral=True)
            return
        lines = [f"**{t.name}** — {SHOWN[t.visibility]}, by <@{t.owner_id}> — {t.spec['description'][:90]}"
                 for t in themes]
        embed = discord.Embed(title=title, description="\n".join(lines)[:4000], colour=COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="show", description="A theme's settings and a short piece in it")
    @app_commands.describe(name="A theme you can use here")
    async def show(self, interaction: discord.Interaction, name: str) -> None:
        saved = await self._visible(interaction, name)
        compose = self.bot.get_cog(COMPOSE_COG)
        request = await compose.understand(f"a short piece in the {saved.name} theme",
                                           {"theme": saved.name, "length": PREVIEW_LENGTH_S},
                                           interaction.user.id, interaction.guild_id)
        await compose.start(interaction, JobSpec("compose", request, compose.reply_to(interaction)))
        if interaction.response.is_done():  # the piece follows in the answer; the settings now, privately
            await interaction.followup.send(embed=theme_embed(saved, "Theme"), ephemeral=True)

    # -- sharing ---------------------------------------------------------------------------
    @app_commands.command(name="share", description="Who can use one of your themes; gives its share code")
    @app_commands.describe(name="One of your themes", scope="private, server (this server) or public")
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def share(self, interaction: discord.Interaction, name: str, scope: str) -> None:
        saved = await self._own(interaction.user.id, name)
        visibility = SCOPES[scope]
        if visibility is Visibility.GUILD and interaction.guild_id is None:
            raise BotError("share with a server from inside that server")
        updated = await self.bot.db.themes.update(saved.id, owner_id=saved.owner_id, visibility=visibility,
                                                  guild_id=interaction.guild_id if visibility is Visibility.GUILD
                                                  else None)
        line = (f"**{updated.name}** is now {SHOWN[visibility]}. Anyone with the code can import a copy: "
                f"`{updated.share_code}`")
        await interaction.response.send_message(line, ephemeral=True)

    @app_commands.command(name="import", description="Copy a theme from a share code or a .json/.toml file")
    @app_commands.describe(code="A share code from /theme share", file="A theme file from /theme export")
    async def import_(self, interaction: discord.Interaction, code: Optional[str] = None,
                      file: Optional[discord.Attachment] = None) -> None:
        if (code is None) == (file is None):
            raise BotError("give either a share code or a theme file (.json or .toml), not both")
        if code is not None:
            source = await self.bot.db.themes.get_by_share_code(code.strip())
            if source is None:
                raise BotError("no theme has that share code; ask its owner for a fresh one")
            spec, author = source.spec, f"<@{source.owner_id}>"
        else:
            spec, author = await self._read_upload(file), None
        spec, notes = self._adopt(spec, author)
        spec = await self._free_name(interaction.user.id, spec)
        saved = await self._store(interaction, spec)
        embed = theme_embed(saved, "Theme imported", notes)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="export", description="A theme as a file you can keep or share")
    @app_commands.describe(name="A theme you can use here")
    async def export(self, interaction: discord.Interaction, name: str) -> None:
        from composer import write_theme_file

        saved = await self._visible(interaction, name)
        data = write_theme_file(saved.spec, "json")
        await interaction.response.send_message(f"**{saved.name}** (schema {saved.spec['schema']})", ephemeral=True,
                                                file=discord.File(io.BytesIO(data), f"{saved.name}.json"))

    @app_commands.command(name="delete", description="Delete one of your themes (or, with Manage Server, "
                                                     "one shared with this server)")
    @app_commands.describe(name="The theme to delete")
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        saved = await self.bot.db.themes.get_by_name(interaction.user.id, theme_name(name))
        if saved is None and interaction.guild_id is not None and interaction.permissions.manage_guild:
            saved = next((t for t in await self.bot.db.themes.list_visible(interaction.user.id, interaction.guild_id)
                          if t.name == theme_name(name) and t.visibility is Visibility.GUILD), None)
        if saved is None:
            raise BotError(f"you have no theme named {theme_name(name)!r}; only its owner (or, for a server theme, "
                           "someone with Manage Server) can delete it")
        await self.bot.db.themes.delete(saved.id, owner_id=saved.owner_id)
        await interaction.response.send_message(f"Deleted **{saved.name}**. Pieces made with it keep it.",
                                                ephemeral=True)

    @app_commands.command(name="from-midi", description="A theme inferred from a MIDI file: tempo, meter, key, "
                                                        "instruments, chords, groove")
    @app_commands.describe(file="A .mid file (at most 2 MB)", name="A name for the theme")
    async def from_midi(self, interaction: discord.Interaction, file: discord.Attachment, name: str) -> None:
        from composer import theme_from_midi

        if file.size > MAX_MIDI_BYTES:
            raise BotError(f"that file is {file.size / 1e6:.1f} MB; a MIDI file for a theme may be at most 2 MB")
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        spec = await self.bot.queue.worker.think(theme_from_midi, data, theme_name(name))
        saved = await self._store(interaction, spec)
        await interaction.followup.send(embed=theme_embed(saved, f"Theme from {file.filename}"), ephemeral=True)

    # -- autocomplete ------------------------------------------------------------------------
    @edit.autocomplete("name")
    @share.autocomplete("name")
    @delete.autocomplete("name")
    async def _own_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching([t.name for t in await self.bot.db.themes.list_for_owner(interaction.user.id)], current)

    @show.autocomplete("name")
    @export.autocomplete("name")
    @create.autocomplete("base")
    async def _usable_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(await theme_names_for(self.bot, interaction.user.id, interaction.guild_id), current)

    @create.autocomplete("key")
    @edit.autocomplete("key")
    async def _keys(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(KEY_NAMES, current)

    @create.autocomplete("harmony")
    @create.autocomplete("bass")
    @create.autocomplete("pad")
    @edit.autocomplete("harmony")
    @edit.autocomplete("bass")
    @edit.autocomplete("pad")
    async def _instruments(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return matching(gm_instrument_names(), current)

    # -- shared steps ------------------------------------------------------------------------
    async def _base_spec(self, interaction: discord.Interaction, name: str) -> dict[str, Any]:
        wanted = theme_name(name)
        if wanted in self.bot.catalog.themes:
            return self.bot.catalog.theme(wanted).spec
        return (await self._visible(interaction, wanted)).spec

    async def _own(self, user_id: int, name: str) -> SavedTheme:
        saved = await self.bot.db.themes.get_by_name(user_id, theme_name(name))
        if saved is None:
            raise BotError(f"you have no theme named {theme_name(name)!r}; `/theme list` shows yours "
                           "(only a theme's owner can change it)")
        return saved

    async def _visible(self, interaction: discord.Interaction, name: str) -> SavedTheme:
        wanted = theme_name(name)
        for saved in await self.bot.db.themes.list_visible(interaction.user.id, interaction.guild_id):
            if saved.name == wanted:
                return saved
        raise BotError(f"no theme named {wanted!r} here; `/theme list` shows yours and this server's")

    def _check_name(self, name: str) -> None:
        if name in self.bot.catalog.themes:
            raise BotError(f"{name!r} is a built-in theme; choose another name")

    async def _store(self, interaction: discord.Interaction, spec: dict[str, Any]) -> SavedTheme:
        """Save a validated spec as the member's private theme, within the per-member limits."""
        self._check_name(spec["name"])
        if len(json.dumps(spec).encode()) > MAX_SPEC_BYTES:
            raise BotError(f"that theme is too large; a theme may be at most {MAX_SPEC_BYTES // 1024} KiB")
        owned = await self.bot.db.themes.list_for_owner(interaction.user.id)
        if len(owned) >= MAX_THEMES_PER_MEMBER:
            raise BotError(f"you have {len(owned)} themes, the most one member may keep; delete one first")
        try:
            return await self.bot.db.themes.create(NewSavedTheme(owner_id=interaction.user.id, name=spec["name"],
                                                                 spec=spec, schema_version=spec["schema"]))
        except ConflictError as exc:
            raise BotError(f"{exc}; pick another name or edit that one") from None

    async def _read_upload(self, file: discord.Attachment) -> dict[str, Any]:
        from composer import MAX_THEME_FILE_BYTES, read_theme_file

        if file.size > MAX_THEME_FILE_BYTES:
            raise BotError(f"that file is {file.size / 1024:.0f} KiB; a theme file may be at most "
                           f"{MAX_THEME_FILE_BYTES // 1024} KiB")
        data = await file.read()
        return await self.bot.queue.worker.think(read_theme_file, data, file.filename)

    def _adopt(self, spec: dict[str, Any], author: str | None) -> tuple[dict[str, Any], list[str]]:
        """A copy that works here: credited, and with a default voice this bot has."""
        spec, notes = json.loads(json.dumps(spec)), []
        voice = spec.get("default_voice")
        if voice is not None and voice not in self.bot.catalog.voices:
            spec.pop("default_voice")
            notes.append(f"its voice {voice!r} is not on this bot, so its pieces use the usual voice")
        if author is not None:
            notes.append(f"a copy of a theme by {author}")
        return spec, notes

    async def _free_name(self, user_id: int, spec: dict[str, Any]) -> dict[str, Any]:
        """Rename on a clash (name-2, name-3, …) instead of overwriting."""
        taken = {t.name for t in await self.bot.db.themes.list_for_owner(user_id)} | set(self.bot.catalog.themes)
        name, n = spec["name"], 2
        while name in taken:
            name = f"{spec['name'][:29]}-{n}"
            n += 1
        return {**spec, "name": name}


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    """The theme settings among a command's options (discord.py needs each as its own parameter)."""
    return {name: values[name] for name in SETTINGS}


def theme_embed(saved: SavedTheme, title: str, notes: list[str] | None = None) -> discord.Embed:
    spec = saved.spec
    tempo = spec["tempo"]
    lines = [spec["description"], "",
             f"**Tempo** {tempo['min']}–{tempo['max']} BPM · **Meters** {', '.join(spec['meters'])} · "
             f"**Modes** {', '.join(spec['modes'])}",
             f"**Verse** {' '.join(spec['progressions']['verse'][0]['chords'])} · "
             f"**Chorus** {' '.join(spec['progressions']['chorus'][0]['chords'])}",
             f"**Groove** {spec['feel']['groove']} · **Melody style** {spec['melody'].get('style', 'folk')}",
             f"**Shared** {SHOWN[saved.visibility]} · code `{saved.share_code}`"]
    lines += [f"*Note: {n}.*" for n in notes or []]
    return discord.Embed(title=f"{title}: {saved.name}", description="\n".join(lines)[:4000], colour=COLOUR)

