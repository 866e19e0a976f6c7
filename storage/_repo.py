"""Shared helpers for repositories: the owning Database and member/guild rows on demand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import aiosqlite

if TYPE_CHECKING:
    from storage.db import Database


class Repo:
    def __init__(self, db: Database) -> None:
        self._db = db


async def ensure_user(conn: aiosqlite.Connection, user_id: int, now: float) -> None:
    """Members appear the first time they do something; callers need not register them."""
    await conn.execute(
        "INSERT INTO users (id, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (user_id, now, now),
    )


async def ensure_guild(conn: aiosqlite.Connection, guild_id: int | None, now: float) -> None:
    if guild_id is None:
        return
    await conn.execute(
        "INSERT INTO guilds (id, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (guild_id, now, now),
    )


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
    """Execute and fetch in one hop to aiosqlite's thread (a cursor costs three)."""
    return list(await conn.execute_fetchall(sql, tuple(params)))


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None
