"""The persisted job queue: what to compose, for whom, where to deliver, and how it went.

Status moves queued -> running -> done | failed | cancelled (and queued -> cancelled).
Every transition is one conditional UPDATE, so two workers can never claim the
same job, and a job cancelled while running cannot later be marked done.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._codec import dumps, from_ts, from_ts_required, loads, to_ts
from storage._repo import Repo, fetch_all as _all, ensure_user
from storage.errors import InvalidStateError, NotFoundError
from storage.models import Job, JobStatus, NewJob

_ACTIVE = "('queued', 'running')"


class JobRepo(Repo):
    async def enqueue(self, new: NewJob) -> Job:
        now = self._db.clock()
        async with self._db.write() as conn:
            await ensure_user(conn, new.requester_id, now)
            rows = await _all(
                conn,
                """INSERT INTO jobs (kind, payload_json, requester_id, guild_id, channel_id,
                                     interaction_token, token_expires_at, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                (new.kind, dumps(new.payload), new.requester_id, new.guild_id, new.channel_id,
                 new.interaction_token, to_ts(new.token_expires_at), now),
            )
        return _job(rows[0])

    async def get(self, job_id: int) -> Job | None:
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    async def claim_next(self) -> Job | None:
        """Atomically take the oldest queued job and mark it running (attempts + 1)."""
        return await self._claim("(SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1)", ())

    async def claim(self, job_id: int) -> Job | None:
        """Take this job if it is still queued (the in-memory queue picked it for fairness)."""
        return await self._claim("?", (job_id,))

    async def complete(self, job_id: int, *, composition_id: int | None = None) -> Job:
        return await self._finish(job_id, JobStatus.DONE, None, composition_id)

    async def fail(self, job_id: int, error: str, *, retry: bool = False) -> Job:
        """Record the error; with `retry`, put the job back in the queue instead of failing it."""
        if retry:
            async with self._db.write() as conn:
                rows = await _all(
                    conn,
                    "UPDATE jobs SET status = 'queued', error = ?, started_at = NULL "
                    "WHERE id = ? AND status = 'running' RETURNING *",
                    (error, job_id),
                )
                if not rows:
                    raise await _state_error(conn, job_id, "retry")
            return _job(rows[0])
        return await self._finish(job_id, JobStatus.FAILED, error, None)

    async def cancel(self, job_id: int, *, requester_id: int | None = None) -> bool:
        """Cancel a queued or running job (only the requester's, when given)."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                f"UPDATE jobs SET status = 'cancelled', finished_at = ? "
                f"WHERE id = ? AND status IN {_ACTIVE} AND (? IS NULL OR requester_id = ?)",
                (self._db.clock(), job_id, requester_id, requester_id),
            )
            return cursor.rowcount > 0

    async def requeue_running(self) -> list[Job]:
        """After a restart: jobs left running by the dead process go back to the queue."""
        async with self._db.write() as conn:
            rows = await _all(
                conn,
                "UPDATE jobs SET status = 'queued', started_at = NULL WHERE status = 'running' RETURNING *",
                (),
            )
        return sorted((_job(r) for r in rows), key=lambda j: j.id)

    async def list_active(self, *, requester_id: int | None = None) -> list[Job]:
        """Queued and running jobs, oldest first (the queue rebuilds itself from this)."""
        async with self._db.read() as conn:
            rows = await _all(
                conn,
                f"SELECT * FROM jobs WHERE status IN {_ACTIVE} AND (? IS NULL OR requester_id = ?) ORDER BY id",
                (requester_id, requester_id),
            )
        return [_job(r) for r in rows]

    async def count_active(self, requester_id: int) -> int:
        async with self._db.read() as conn:
            rows = await _all(
                conn, f"SELECT count(*) FROM jobs WHERE requester_id = ? AND status IN {_ACTIVE}", (requester_id,)
            )
        return int(rows[0][0])

    async def purge_finished(self, *, finished_before: datetime) -> int:
        """Drop finished jobs older than the cut-off; history lives in compositions."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                f"DELETE FROM jobs WHERE status NOT IN {_ACTIVE} AND finished_at < ?", (to_ts(finished_before),)
            )
            return cursor.rowcount

    async def _claim(self, id_sql: str, params: tuple[object, ...]) -> Job | None:
        async with self._db.write() as conn:
            rows = await _all(
                conn,
                f"UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? "
                f"WHERE id = {id_sql} AND status = 'queued' RETURNING *",
                (self._db.clock(), *params),
            )
        return _job(rows[0]) if rows else None

    async def _finish(self, job_id: int, status: JobStatus, error: str | None, composition_id: int | None) -> Job:
        async with self._db.write() as conn:
            rows = await _all(
                conn,
                "UPDATE jobs SET status = ?, error = ?, composition_id = ?, finished_at = ? "
                "WHERE id = ? AND status = 'running' RETURNING *",
                (status.value, error, composition_id, self._db.clock(), job_id),
            )
            if not rows:
                raise await _state_error(conn, job_id, status.value)
        return _job(rows[0])


async def _state_error(conn: aiosqlite.Connection, job_id: int, action: str) -> Exception:
    rows = await _all(conn, "SELECT status FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        return NotFoundError(f"no job {job_id}")
    return InvalidStateError(f"job {job_id} is {rows[0][0]}, not running; cannot mark it {action}")



def _job(row: aiosqlite.Row) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        status=JobStatus(row["status"]),
        payload=loads(row["payload_json"]),
        requester_id=row["requester_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        interaction_token=row["interaction_token"],
        token_expires_at=from_ts(row["token_expires_at"]),
        attempts=row["attempts"],
        error=row["error"],
        composition_id=row["composition_id"],
        created_at=from_ts_required(row["created_at"]),
        started_at=from_ts(row["started_at"]),
        finished_at=from_ts(row["finished_at"]),
    )
