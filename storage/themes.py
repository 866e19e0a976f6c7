"""Members' custom themes: owner, visibility, an unguessable share code, the spec as JSON.

The spec is validated by `composer` before it gets here; storage only keeps it.
Names are unique per owner, compared case-insensitively for ASCII letters.
"""

from __future__ import annotations

import secrets

import aiosqlite

from storage._codec import dumps, from_ts_required, loads
from storage._repo import Repo, ensure_guild, ensure_user, fetch_all
from storage._repo import fetch_one as _one
from storage.errors import ConflictError, InvalidValueError, NotFoundError
from storage.models import JSON, NewSavedTheme, SavedTheme, Visibility

SHARE_CODE_BYTES = 12  # 96 bits from `secrets`; 16 URL-safe characters


def new_share_code() -> str:
    return secrets.token_urlsafe(SHARE_CODE_BYTES)


class ThemeRepo(Repo):
    async def create(self, new: NewSavedTheme) -> SavedTheme:
        """Raises ConflictError when the owner already has a theme with this name."""
        visibility = Visibility(new.visibility)
        _check_guild(visibility, new.guild_id)
        now = self._db.clock()
        async with self._db.write() as conn:
            await ensure_user(conn, new.owner_id, now)
            await ensure_guild(conn, new.guild_id, now)
            if await _one(conn, "SELECT * FROM themes WHERE owner_id = ? AND name = ?", (new.owner_id, new.name)):
                raise ConflictError(f"you already have a theme named {new.name!r}")
            code = await _unused_code(conn)
            row = await _one(
                conn,
                """INSERT INTO themes (owner_id, guild_id, name, visibility, share_code, spec_json,
                                       schema_version, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                (new.owner_id, new.guild_id, new.name, visibility.value, code, dumps(new.spec),
                 new.schema_version, now, now),
            )
        assert row is not None
        return _theme(row)

    async def get(self, theme_id: int) -> SavedTheme | None:
        return await self._get("SELECT * FROM themes WHERE id = ?", (theme_id,))

    async def get_by_name(self, owner_id: int, name: str) -> SavedTheme | None:
        return await self._get("SELECT * FROM themes WHERE owner_id = ? AND name = ?", (owner_id, name))

    async def get_by_share_code(self, code: str) -> SavedTheme | None:
        """Whoever holds the code may import the theme, whatever its visibility."""
        return await self._get("SELECT * FROM themes WHERE share_code = ?", (code,))

    async def list_for_owner(self, owner_id: int) -> list[SavedTheme]:
        return await self._list("SELECT * FROM themes WHERE owner_id = ? ORDER BY name", (owner_id,))

    async def list_visible(self, user_id: int, guild_id: int | None) -> list[SavedTheme]:
        """What autocomplete offers: the member's own themes, then the server's shared ones."""
        return await self._list(
            """SELECT * FROM themes
               WHERE owner_id = ? OR (guild_id = ? AND visibility = 'guild')
               ORDER BY owner_id != ?, name""",
            (user_id, guild_id, user_id),
        )

    async def list_public(self, *, limit: int = 25, before_id: int | None = None) -> list[SavedTheme]:
        return await self._list(
            "SELECT * FROM themes WHERE visibility = 'public' AND id < ? ORDER BY id DESC LIMIT ?",
            ((1 << 63) - 1 if before_id is None else before_id, max(1, min(limit, 100))),
        )

    async def update(
        self,
        theme_id: int,
        *,
        owner_id: int,
        name: str | None = None,
        spec: JSON | None = None,
        schema_version: int | None = None,
        visibility: Visibility | str | None = None,
        guild_id: int | None = None,
    ) -> SavedTheme:
        """Change the given fields of the owner's theme; NotFoundError if it is not theirs."""
        now = self._db.clock()
        async with self._db.write() as conn:
            row = await _one(conn, "SELECT * FROM themes WHERE id = ? AND owner_id = ?", (theme_id, owner_id))
            if row is None:
                raise NotFoundError(f"no theme {theme_id} owned by you")
            current = _theme(row)
            new_visibility = Visibility(visibility) if visibility is not None else current.visibility
            new_guild = guild_id if guild_id is not None else current.guild_id
            _check_guild(new_visibility, new_guild)
            if name is not None and await _one(
                conn, "SELECT id FROM themes WHERE owner_id = ? AND name = ? AND id != ?", (owner_id, name, theme_id)
            ):
                raise ConflictError(f"you already have a theme named {name!r}")
            await ensure_guild(conn, new_guild, now)
            await conn.execute(
                """UPDATE themes SET name = ?, spec_json = ?, schema_version = ?, visibility = ?,
                                     guild_id = ?, updated_at = ? WHERE id = ?""",
                (current.name if name is None else name,
                 dumps(current.spec if spec is None else spec),
                 current.schema_version if schema_version is None else schema_version,
                 new_visibility.value, new_guild, now, theme_id),
            )
            row = await _one(conn, "SELECT * FROM themes WHERE id = ?", (theme_id,))
        assert row is not None
        return _theme(row)

    async def regenerate_share_code(self, theme_id: int, *, owner_id: int) -> str:
        """Revoke the old code (someone leaked it) and return a fresh one."""
        async with self._db.write() as conn:
            code = await _unused_code(conn)
            cursor = await conn.execute(
                "UPDATE themes SET share_code = ?, updated_at = ? WHERE id = ? AND owner_id = ?",
                (code, self._db.clock(), theme_id, owner_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no theme {theme_id} owned by you")
        return code

    async def delete(self, theme_id: int, *, owner_id: int) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("DELETE FROM themes WHERE id = ? AND owner_id = ?", (theme_id, owner_id))
            return cursor.rowcount > 0

    async def _get(self, sql: str, params: tuple[object, ...]) -> SavedTheme | None:
        async with self._db.read() as conn:
            row = await _one(conn, sql, params)
        return None if row is None else _theme(row)

    async def _list(self, sql: str, params: tuple[object, ...]) -> list[SavedTheme]:
        async with self._db.read() as conn:
            return [_theme(row) for row in await fetch_all(conn, sql, params)]


def _check_guild(visibility: Visibility, guild_id: int | None) -> None:
    if visibility is Visibility.GUILD and guild_id is None:
        raise InvalidValueError("a theme shared with a server needs that server's id")


async def _unused_code(conn: aiosqlite.Connection) -> str:
    while True:  # a 96-bit collision will not happen, but costs one lookup to rule out
        code = new_share_code()
        if await _one(conn, "SELECT 1 FROM themes WHERE share_code = ?", (code,)) is None:
            return code



def _theme(row: aiosqlite.Row) -> SavedTheme:
    return SavedTheme(
        id=row["id"],
        owner_id=row["owner_id"],
        guild_id=row["guild_id"],
        name=row["name"],
        visibility=Visibility(row["visibility"]),
        share_code=row["share_code"],
        spec=loads(row["spec_json"]),
        schema_version=row["schema_version"],
        created_at=from_ts_required(row["created_at"]),
        updated_at=from_ts_required(row["updated_at"]),
    )
