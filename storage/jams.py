"""Daily jams: each server's schedule, its rounds (one per local day), entries and votes.

`open_round` is idempotent on (guild, round_key), so a scheduler that fires twice
or a bot that restarts mid-announcement never posts two prompts for one day.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._codec import dumps, from_ts, from_ts_required, loads, to_ts
from storage._repo import Repo, fetch_all as _all, ensure_guild, ensure_user
from storage.errors import ConflictError, InvalidStateError, InvalidValueError, NotFoundError
from storage.models import JamEntry, JamRound, JamSchedule


class JamRepo(Repo):
    async def set_schedule(self, schedule: JamSchedule) -> JamSchedule:
        """Create or replace the server's schedule."""
        _check_time_of_day(schedule.time_of_day)
        now = self._db.clock()
        async with self._db.write() as conn:
            await ensure_guild(conn, schedule.guild_id, now)
            await conn.execute(
                """INSERT INTO jam_schedules (guild_id, channel_id, time_of_day, timezone, theme_pool_json,
                                              enabled, created_by, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (guild_id) DO UPDATE SET
                     channel_id = excluded.channel_id, time_of_day = excluded.time_of_day,
                     timezone = excluded.timezone, theme_pool_json = excluded.theme_pool_json,
                     enabled = excluded.enabled, updated_at = excluded.updated_at""",
                (schedule.guild_id, schedule.channel_id, schedule.time_of_day, schedule.timezone,
                 dumps(list(schedule.theme_pool)), int(schedule.enabled), schedule.created_by, now, now),
            )
            rows = await _all(conn, "SELECT * FROM jam_schedules WHERE guild_id = ?", (schedule.guild_id,))
        return _schedule(rows[0])

    async def get_schedule(self, guild_id: int) -> JamSchedule | None:
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jam_schedules WHERE guild_id = ?", (guild_id,))
        return _schedule(rows[0]) if rows else None

    async def set_enabled(self, guild_id: int, enabled: bool) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE jam_schedules SET enabled = ?, updated_at = ? WHERE guild_id = ?",
                (int(enabled), self._db.clock(), guild_id),
            )
            return cursor.rowcount > 0

    async def list_enabled(self) -> list[JamSchedule]:
        """What the scheduler loads at start-up."""
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jam_schedules WHERE enabled = 1 ORDER BY guild_id", ())
        return [_schedule(r) for r in rows]

    async def open_round(
        self,
        *,
        guild_id: int,
        round_key: str,
        channel_id: int,
        prompt: str,
        theme: str | None,
        opens_at: datetime,
        closes_at: datetime,
    ) -> tuple[JamRound, bool]:
        """Returns (round, created); an existing round for the same key is returned unchanged."""
        if closes_at <= opens_at:
            raise InvalidValueError("a jam round must close after it opens")
        async with self._db.write() as conn:
            await ensure_guild(conn, guild_id, self._db.clock())
            cursor = await conn.execute(
                """INSERT INTO jam_rounds (guild_id, round_key, channel_id, prompt, theme, opens_at, closes_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, round_key) DO NOTHING""",
                (guild_id, round_key, channel_id, prompt, theme, to_ts(opens_at), to_ts(closes_at)),
            )
            created = cursor.rowcount > 0
            rows = await _all(
                conn, "SELECT * FROM jam_rounds WHERE guild_id = ? AND round_key = ?", (guild_id, round_key)
            )
        return _round(rows[0]), created

    async def claim_post(self, round_id: int, *, stale_s: float) -> bool:
        """Take the right to post an unposted, open round; a claim older than `stale_s` may be taken
        over (its process stopped before posting). False when it is posted, closed or freshly claimed."""
        now = self._db.clock()
        async with self._db.write() as conn:
            cursor = await conn.execute(
                """UPDATE jam_rounds SET post_claimed_at = ?
                   WHERE id = ? AND message_id IS NULL AND closed = 0
                     AND (post_claimed_at IS NULL OR post_claimed_at < ?)""",
                (now, round_id, now - stale_s),
            )
            return cursor.rowcount > 0

    async def set_round_message(self, round_id: int, message_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE jam_rounds SET message_id = ? WHERE id = ?", (message_id, round_id))

    async def current_round(self, guild_id: int) -> JamRound | None:
        """The newest round that is not closed."""
        async with self._db.read() as conn:
            rows = await _all(
                conn, "SELECT * FROM jam_rounds WHERE guild_id = ? AND closed = 0 ORDER BY id DESC LIMIT 1", (guild_id,)
            )
        return _round(rows[0]) if rows else None

    async def get_round(self, round_id: int) -> JamRound | None:
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jam_rounds WHERE id = ?", (round_id,))
        return _round(rows[0]) if rows else None

    async def close_round(self, round_id: int) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("UPDATE jam_rounds SET closed = 1 WHERE id = ? AND closed = 0", (round_id,))
            return cursor.rowcount > 0

    async def submit(
        self, round_id: int, *, user_id: int, composition_id: int | None, message_id: int | None = None
    ) -> JamEntry:
        """One entry per member per round; submitting again replaces the piece."""
        now = self._db.clock()
        async with self._db.write() as conn:
            await _open_round_or_raise(conn, round_id)
            await ensure_user(conn, user_id, now)
            rows = await _all(
                conn,
                """INSERT INTO jam_entries (round_id, user_id, composition_id, message_id, created_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (round_id, user_id) DO UPDATE SET
                     composition_id = excluded.composition_id, message_id = excluded.message_id,
                     created_at = excluded.created_at
                   RETURNING *""",
                (round_id, user_id, composition_id, message_id, now),
            )
        return _entry(rows[0], 0)

    async def vote(self, round_id: int, *, voter_id: int, entry_id: int) -> None:
        """One vote per member per round (voting again moves it); never for one's own entry."""
        now = self._db.clock()
        async with self._db.write() as conn:
            await _open_round_or_raise(conn, round_id)
            entries = await _all(conn, "SELECT user_id FROM jam_entries WHERE id = ? AND round_id = ?", (entry_id, round_id))
            if not entries:
                raise NotFoundError(f"no entry {entry_id} in this jam round")
            if entries[0]["user_id"] == voter_id:
                raise ConflictError("you cannot vote for your own entry")
            await ensure_user(conn, voter_id, now)
            await conn.execute(
                """INSERT INTO jam_votes (round_id, voter_id, entry_id, created_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (round_id, voter_id) DO UPDATE SET entry_id = excluded.entry_id,
                     created_at = excluded.created_at""",
                (round_id, voter_id, entry_id, now),
            )

    async def recent_rounds(self, guild_id: int, *, limit: int = 30) -> list[JamRound]:
        """The server's newest rounds first (the archive, recent prompts, the leaderboard)."""
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jam_rounds WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
                              (guild_id, max(1, min(limit, 1000))))
        return [_round(r) for r in rows]

    async def replace_prompt(self, round_id: int, *, prompt: str, theme: str | None) -> JamRound:
        """A new prompt for an open round that nobody has entered yet (an organiser's reroll)."""
        async with self._db.write() as conn:
            await _open_round_or_raise(conn, round_id)
            if await _all(conn, "SELECT 1 FROM jam_entries WHERE round_id = ? LIMIT 1", (round_id,)):
                raise ConflictError("members have already entered this round, so its prompt stays")
            await conn.execute("UPDATE jam_rounds SET prompt = ?, theme = ? WHERE id = ?", (prompt, theme, round_id))
            rows = await _all(conn, "SELECT * FROM jam_rounds WHERE id = ?", (round_id,))
        return _round(rows[0])

    async def get_entry(self, entry_id: int) -> JamEntry | None:
        async with self._db.read() as conn:
            rows = await _all(
                conn, """SELECT e.*, (SELECT count(*) FROM jam_votes v WHERE v.entry_id = e.id) AS votes
                         FROM jam_entries e WHERE e.id = ?""", (entry_id,))
        return _entry(rows[0], rows[0]["votes"]) if rows else None

    async def set_entry_message(self, entry_id: int, message_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE jam_entries SET message_id = ? WHERE id = ?", (message_id, entry_id))

    async def entries(self, round_id: int) -> list[JamEntry]:
        """Entries with their vote counts, most votes first, earliest first on ties."""
        async with self._db.read() as conn:
            rows = await _all(
                conn,
                """SELECT e.*, (SELECT count(*) FROM jam_votes v WHERE v.entry_id = e.id) AS votes
                   FROM jam_entries e WHERE e.round_id = ? ORDER BY votes DESC, e.created_at, e.id""",
                (round_id,),
            )
        return [_entry(r, r["votes"]) for r in rows]


def _check_time_of_day(value: str) -> None:
    hours, _, minutes = value.partition(":")
    if not (len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
            and int(hours) < 24 and int(minutes) < 60):
        raise InvalidValueError(f"time of day must be HH:MM (24-hour), not {value!r}")


async def _open_round_or_raise(conn: aiosqlite.Connection, round_id: int) -> None:
    rows = await _all(conn, "SELECT closed FROM jam_rounds WHERE id = ?", (round_id,))
    if not rows:
        raise NotFoundError(f"no jam round {round_id}")
    if rows[0]["closed"]:
        raise InvalidStateError("this jam round is closed")



def _schedule(row: aiosqlite.Row) -> JamSchedule:
    return JamSchedule(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        time_of_day=row["time_of_day"],
        timezone=row["timezone"],
        theme_pool=tuple(loads(row["theme_pool_json"])),
        enabled=bool(row["enabled"]),
        created_by=row["created_by"],
        updated_at=from_ts(row["updated_at"]),
    )


def _round(row: aiosqlite.Row) -> JamRound:
    return JamRound(
        id=row["id"],
        guild_id=row["guild_id"],
        round_key=row["round_key"],
        channel_id=row["channel_id"],
        prompt=row["prompt"],
        theme=row["theme"],
        message_id=row["message_id"],
        opens_at=from_ts_required(row["opens_at"]),
        closes_at=from_ts_required(row["closes_at"]),
        closed=bool(row["closed"]),
    )


def _entry(row: aiosqlite.Row, votes: int) -> JamEntry:
    return JamEntry(
        id=row["id"],
        round_id=row["round_id"],
        user_id=row["user_id"],
        composition_id=row["composition_id"],
        message_id=row["message_id"],
        created_at=from_ts_required(row["created_at"]),
        votes=votes,
    )
