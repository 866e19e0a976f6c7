"""Every finished piece: its request, seed, engine, files and timings; paged history.

History pages are keyset-paged on the AUTOINCREMENT id (newest first) over the
(owner_id, id) and (guild_id, id) indexes, so page 500 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import aiosqlite

from storage._codec import dumps, from_ts_required, loads
from storage._repo import Repo, ensure_guild, ensure_user, fetch_all, fetch_one
from storage.models import Composition, NewComposition, Page, StoredFile

MAX_PAGE_SIZE = 100
_CHUNK = 500

_INSERT = """INSERT INTO compositions
    (owner_id, guild_id, channel_id, prompt, request_json, seed, engine, checkpoint,
     engine_version, description, timings_json, parent_id, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"""


class CompositionRepo(Repo):
    async def add(self, new: NewComposition) -> Composition:
        """Store one piece and its files in one transaction; returns it with its id."""
        return (await self.add_many([new]))[0]

    async def add_many(self, items: Sequence[NewComposition]) -> list[Composition]:
        """Store several pieces in one transaction (variations, imports, benchmarks)."""
        now = self._db.clock()
        ids: list[int] = []
        async with self._db.write() as conn:
            for new in items:
                ids.append(await _insert(conn, new, now))
            rows: list[Composition] = []
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows += await _fetch(conn, f"SELECT * FROM compositions WHERE id IN ({_marks(chunk)})", chunk)
        by_id = {c.id: c for c in rows}
        return [by_id[i] for i in ids]

    async def get(self, composition_id: int) -> Composition | None:
        async with self._db.read() as conn:
            rows = await _fetch(conn, "SELECT * FROM compositions WHERE id = ?", (composition_id,))
        return rows[0] if rows else None

    async def history_for_user(
        self, user_id: int, *, limit: int = 20, before_id: int | None = None, offset: int = 0
    ) -> Page:
        """A member's pieces, newest first. Page on with `before_id=page.next_before_id`."""
        return await self._page("owner_id", user_id, limit, before_id, offset)

    async def history_for_guild(
        self, guild_id: int, *, limit: int = 20, before_id: int | None = None, offset: int = 0
    ) -> Page:
        return await self._page("guild_id", guild_id, limit, before_id, offset)

    async def count_for_user(self, user_id: int) -> int:
        return await self._count("owner_id", user_id)

    async def count_for_guild(self, guild_id: int) -> int:
        return await self._count("guild_id", guild_id)

    async def delete(self, composition_id: int, *, owner_id: int) -> bool:
        """Members delete only their own pieces; returns whether a row went away."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "DELETE FROM compositions WHERE id = ? AND owner_id = ?", (composition_id, owner_id)
            )
            return cursor.rowcount > 0

    async def _page(self, column: str, key: int, limit: int, before_id: int | None, offset: int) -> Page:
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        sql = (
            f"SELECT * FROM compositions WHERE {column} = ? AND id < ? "
            "ORDER BY id DESC LIMIT ? OFFSET ?"
        )
        cursor_id = before_id if before_id is not None else (1 << 63) - 1
        async with self._db.read() as conn:
            rows = await _fetch(conn, sql, (key, cursor_id, limit + 1, max(0, offset)))
        items = tuple(rows[:limit])
        return Page(items, items[-1].id if len(rows) > limit else None)

    async def _count(self, column: str, key: int) -> int:
        async with self._db.read() as conn:
            row = await fetch_one(conn, f"SELECT count(*) FROM compositions WHERE {column} = ?", (key,))
        return int(row[0]) if row else 0


async def _insert(conn: aiosqlite.Connection, new: NewComposition, now: float) -> int:
    await ensure_user(conn, new.owner_id, now)
    await ensure_guild(conn, new.guild_id, now)
    rows = await fetch_all(  # RETURNING, not lastrowid: PostgreSQL has no lastrowid
        conn,
        _INSERT,
        (new.owner_id, new.guild_id, new.channel_id, new.prompt, dumps(new.request), new.seed,
         new.engine, new.checkpoint, new.engine_version, new.description, dumps(new.timings_s),
         new.parent_id, now),
    )
    composition_id = rows[0]["id"]
    await conn.executemany(
        "INSERT INTO composition_files (composition_id, kind, path, sha256, size_bytes) VALUES (?, ?, ?, ?, ?)",
        [(composition_id, f.kind, f.path, f.sha256, f.size_bytes) for f in new.files],
    )
    return composition_id


async def _fetch(conn: aiosqlite.Connection, sql: str, params: Iterable[object]) -> list[Composition]:
    """Rows plus their files (one extra query for the whole page)."""
    rows = await fetch_all(conn, sql, params)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    files: dict[int, list[StoredFile]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + _CHUNK]
        sql_files = f"SELECT * FROM composition_files WHERE composition_id IN ({_marks(chunk)}) ORDER BY kind"
        for f in await fetch_all(conn, sql_files, chunk):
            files[f["composition_id"]].append(StoredFile(f["kind"], f["path"], f["sha256"], f["size_bytes"]))
    return [_composition(row, tuple(files[row["id"]])) for row in rows]


def _composition(row: aiosqlite.Row, files: tuple[StoredFile, ...]) -> Composition:
    return Composition(
        id=row["id"],
        owner_id=row["owner_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        prompt=row["prompt"],
        request=loads(row["request_json"]),
        seed=row["seed"],
        engine=row["engine"],
        checkpoint=row["checkpoint"],
        engine_version=row["engine_version"],
        description=row["description"],
        timings_s=loads(row["timings_json"]),
        parent_id=row["parent_id"],
        files=files,
        created_at=from_ts_required(row["created_at"]),
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
