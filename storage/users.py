"""Members and servers: display names and opaque preference/settings dicts.

Columns in the upserts' DO UPDATE are qualified with the table: PostgreSQL would find a bare
`name` ambiguous between the row and `excluded`.
"""

from __future__ import annotations

from storage._codec import dumps, from_ts, loads
from storage._repo import Repo, fetch_one
from storage.models import JSON, Guild, User


class UserRepo(Repo):
    async def upsert(self, user_id: int, *, name: str | None = None, preferences: JSON | None = None) -> User:
        """Create the member or update the given fields; fields left as None are kept."""
        now = self._db.clock()
        encoded = None if preferences is None else dumps(preferences)
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO users (id, name, preferences_json, created_at, updated_at)
                   VALUES (?, coalesce(?, ''), coalesce(?, '{}'), ?, ?)
                   ON CONFLICT (id) DO UPDATE SET
                     name = coalesce(?, users.name),
                     preferences_json = coalesce(?, users.preferences_json),
                     updated_at = excluded.updated_at""",
                (user_id, name, encoded, now, now, name, encoded),
            )
            row = await fetch_one(conn, "SELECT * FROM users WHERE id = ?", (user_id,))
        assert row is not None
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)


class GuildRepo(Repo):
    async def upsert(self, guild_id: int, *, name: str | None = None, settings: JSON | None = None) -> Guild:
        now = self._db.clock()
        encoded = None if settings is None else dumps(settings)
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO guilds (id, name, settings_json, created_at, updated_at)
                   VALUES (?, coalesce(?, ''), coalesce(?, '{}'), ?, ?)
                   ON CONFLICT (id) DO UPDATE SET
                     name = coalesce(?, guilds.name),
                     settings_json = coalesce(?, guilds.settings_json),
                     updated_at = excluded.updated_at""",
                (guild_id, name, encoded, now, now, name, encoded),
            )
            row = await fetch_one(conn, "SELECT * FROM guilds WHERE id = ?", (guild_id,))
        assert row is not None
        return _guild(row)

    async def get(self, guild_id: int) -> Guild | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM guilds WHERE id = ?", (guild_id,))
        return None if row is None else _guild(row)


def _user(row) -> User:  # type: ignore[no-untyped-def]
    return User(row["id"], row["name"], loads(row["preferences_json"]), from_ts(row["created_at"]))


def _guild(row) -> Guild:  # type: ignore[no-untyped-def]
    return Guild(row["id"], row["name"], loads(row["settings_json"]), from_ts(row["created_at"]))
