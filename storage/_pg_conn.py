"""An asyncpg connection dressed as the slice of aiosqlite the repositories use.

Repositories call `execute` (reading `.rowcount`), `execute_fetchall` and `executemany` with `?`
placeholders and read rows by name or index; asyncpg's Record does the latter already. Here the
placeholders become `$1..$n` (never inside quotes or comments), and the command tag
("UPDATE 3") becomes the row count.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from functools import lru_cache
from typing import Any

import asyncpg


@lru_cache(maxsize=1024)
def to_dollar_params(sql: str) -> str:
    """`?` -> `$1, $2, …` outside string literals, quoted identifiers and comments."""
    out: list[str] = []
    n = 0
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            end = sql.find(char, i + 1)
            while end != -1 and sql[end + 1 : end + 2] == char:  # a doubled quote is an escaped quote
                end = sql.find(char, end + 2)
            end = len(sql) if end == -1 else end + 1
            out.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = len(sql) if end == -1 else end + 2
            out.append(sql[i:end])
            i = end
        elif char == "?":
            n += 1
            out.append(f"${n}")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def rowcount(status: str) -> int:
    """Rows touched, from a command tag such as 'INSERT 0 1', 'UPDATE 3' or 'DELETE 0'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgCursor:
    """What `execute` gives back: the row count, plus rows when used as `async with`."""

    def __init__(self, rows: list[asyncpg.Record], count: int) -> None:
        self._rows = rows
        self.rowcount = count
        self.lastrowid = None  # PostgreSQL has none: repositories use RETURNING instead

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return list(self._rows)


class _Pending:
    """`await conn.execute(...)` runs the statement; `async with conn.execute(...) as cur` also
    fetches its rows, as aiosqlite allows."""

    def __init__(self, conn: asyncpg.Connection, sql: str, params: Sequence[Any]) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def _run(self) -> PgCursor:
        status = await self._conn.execute(self._sql, *self._params)
        return PgCursor([], rowcount(status))

    async def __aenter__(self) -> PgCursor:
        rows = await self._conn.fetch(self._sql, *self._params)
        return PgCursor(rows, len(rows))

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One pooled connection, for the length of one `read()` or `write()` block."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Pending:
        return _Pending(self.raw, to_dollar_params(sql), tuple(params))

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return await self.raw.fetch(to_dollar_params(sql), *tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self.raw.executemany(to_dollar_params(sql), rows)
