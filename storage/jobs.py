"""The persisted job queue: what to compose, for whom, where to deliver, and how it went.

Status moves queued -> running -> done | failed | cancelled (and queued -> cancelled).
Every transition is one conditional UPDATE, so two workers can never claim the
same job, and a job cancelled while running cannot later be marked done.

Several bot processes may share the table (PostgreSQL, the scale-out mode): each job names the
process that holds it (`owner`), rows are picked with the dialect's SKIP LOCKED so two processes
never wait for or take the same row, limits are checked and the job inserted in one transaction
(`enqueue_admitted`), and the jobs of a process whose heartbeat stopped are adopted by a live one
(`adopt_orphans`), a bounded number of times.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._codec import dumps, from_ts, from_ts_required, loads, to_ts
from storage._repo import Repo, ensure_user, fetch_all as _all
from storage.errors import ConflictError, InvalidStateError, NotFoundError
from storage.models import Job, JobStatus, NewJob

_ACTIVE = "('queued', 'running')"
_INSERT = """INSERT INTO jobs (kind, payload_json, requester_id, guild_id, channel_id, interaction_token,
                               token_expires_at, created_at, owner, delivery_key)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *"""

# Why `enqueue_admitted` refused a job (the caller words the reply).
REFUSED_MEMBER = "member"  # the member already has member_active_max jobs queued or running
REFUSED_COOLDOWN = "cooldown"  # the member's last job is younger than the cooldown
REFUSED_GUILD = "guild"  # the server already has guild_active_max jobs queued or running
REFUSED_QUEUE = "queue"  # queue_max jobs are queued or running in all


class JobRepo(Repo):
    async def enqueue(self, new: NewJob, *, owner: str | None = None) -> Job:
        """Raises ConflictError when a job with the same `delivery_key` exists (a repeated interaction)."""
        now = self._db.clock()
        async with self._db.write() as conn:
            await ensure_user(conn, new.requester_id, now)
            return await _insert(conn, new, owner, now)

    async def enqueue_admitted(
        self,
        new: NewJob,
        *,
        owner: str | None,
        member_active_max: int,
        guild_active_max: int,
        queue_max: int,
        cooldown_s: float,
        background: bool = False,
    ) -> Job | str:
        """Check the limits and insert in one transaction, so processes sharing the table cannot
        together pass a limit; returns the job, or the reason it was refused (REFUSED_*).

        SQLite's write transaction already excludes every other writer. On PostgreSQL the member
        and the server are locked (advisory, until commit), in that order so two enqueues never
        wait for each other in a cycle; the total-queue cap is checked without a global lock, so
        processes enqueueing at the same instant can pass it by at most one job each.
        `background` jobs skip the member, cooldown and server checks.
        """
        async with self._db.write() as conn:
            if new.delivery_key is not None and await _all(
                conn, "SELECT 1 FROM jobs WHERE delivery_key = ?", (new.delivery_key,)
            ):
                raise ConflictError(f"a job with delivery key {new.delivery_key!r} exists already")
            if not background:
                await self._lock(conn, f"muse-member:{new.requester_id}")
                if new.guild_id is not None:
                    await self._lock(conn, f"muse-guild:{new.guild_id}")
            # read the clock once the locks are held: a job that another process stored while this one
            # waited is then never "newer than now", which would read as a cooldown with none set
            now = self._db.clock()
            if not background:
                reason = await _member_or_guild_refusal(
                    conn, new, now, member_active_max, guild_active_max, cooldown_s
                )
                if reason is not None:
                    return reason
            if await _count(conn, f"SELECT count(*) FROM jobs WHERE status IN {_ACTIVE}", ()) >= queue_max:
                return REFUSED_QUEUE
            await ensure_user(conn, new.requester_id, now)
            return await _insert(conn, new, owner, now)

    async def get(self, job_id: int) -> Job | None:
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    async def get_by_key(self, delivery_key: str) -> Job | None:
        """The job accepted for this interaction, message or jam post, if any."""
        async with self._db.read() as conn:
            rows = await _all(conn, "SELECT * FROM jobs WHERE delivery_key = ?", (delivery_key,))
        return _job(rows[0]) if rows else None

    async def claim_next(self, *, owner: str | None = None) -> Job | None:
        """Atomically take the oldest queued job and mark it running (attempts + 1); with `owner`,
        the job is now that process's."""
        return await self._claim("", (), owner)

    async def claim(self, job_id: int, *, owner: str | None = None) -> Job | None:
        """Take this job if it is still queued (the in-memory queue picked it for fairness). With
        `owner`, a job that process already claimed is returned again: a retry whose first COMMIT
        answer was lost must not drop the job it took."""
        job = await self._claim(" AND id = ?", (job_id,), owner)
        if job is None and owner is not None:
            found = await self.get(job_id)
            if found is not None and found.status is JobStatus.RUNNING and found.owner == owner:
                return found
        return job

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
        mine, params = _filter("requester_id", requester_id)
        async with self._db.write() as conn:
            cursor = await conn.execute(
                f"UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status IN {_ACTIVE}{mine}",
                (self._db.clock(), job_id, *params),
            )
            return cursor.rowcount > 0

    async def requeue_running(self, *, owner: str | None = None) -> list[Job]:
        """After a restart: jobs left running by the dead process go back to the queue. With
        `owner`, only that process's: a process restarting must not take a live process's jobs."""
        mine, params = _filter("owner", owner)
        async with self._db.write() as conn:
            rows = await _all(
                conn,
                f"UPDATE jobs SET status = 'queued', started_at = NULL WHERE status = 'running'{mine} RETURNING *",
                params,
            )
        return sorted((_job(r) for r in rows), key=lambda j: j.id)

    async def list_active(self, *, requester_id: int | None = None) -> list[Job]:
        """Queued and running jobs, oldest first (the queue rebuilds itself from this)."""
        mine, params = _filter("requester_id", requester_id)
        async with self._db.read() as conn:
            rows = await _all(conn, f"SELECT * FROM jobs WHERE status IN {_ACTIVE}{mine} ORDER BY id", params)
        return [_job(r) for r in rows]

    async def count_active(self, requester_id: int) -> int:
        return await self.count_active_by(requester_id=requester_id)

    async def count_active_by(self, *, requester_id: int | None = None, guild_id: int | None = None) -> int:
        """Queued and running jobs of a member, of a server, of both, or (neither given) in all."""
        member, member_params = _filter("requester_id", requester_id)
        guild, guild_params = _filter("guild_id", guild_id)
        async with self._db.read() as conn:
            return await _count(conn, f"SELECT count(*) FROM jobs WHERE status IN {_ACTIVE}{member}{guild}",
                                (*member_params, *guild_params))

    async def mark_delivered(self, job_id: int, *, by: str | None = None) -> bool:
        """True the first time only: the guard that posts each piece exactly once, whichever
        process finished it. With `by` (the process), asking again is True for that process alone:
        a retry whose first COMMIT answer was lost must still post."""
        async with self._db.write() as conn:
            again = " OR delivered_by = ?" if by is not None else ""
            cursor = await conn.execute(
                f"UPDATE jobs SET delivered_at = ?, delivered_by = ? WHERE id = ? AND (delivered_at IS NULL{again})",
                (self._db.clock(), by, job_id, *((by,) if by is not None else ())),
            )
            return cursor.rowcount > 0

    async def purge_finished(self, *, finished_before: datetime) -> int:
        """Drop finished jobs older than the cut-off; history lives in compositions."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                f"DELETE FROM jobs WHERE status NOT IN {_ACTIVE} AND finished_at < ?", (to_ts(finished_before),)
            )
            return cursor.rowcount

    async def heartbeat(self, name: str, shard_ids: str) -> None:
        """This process is alive (and serves these shards); its jobs are not orphans."""
        now = self._db.clock()
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO bot_processes (name, shard_ids, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET shard_ids = excluded.shard_ids,
                     heartbeat_at = excluded.heartbeat_at""",
                (name, shard_ids, now, now),
            )

    async def forget_process(self, name: str) -> None:
        """A clean stop: the process's remaining jobs become orphans at once, not after `stale_s`."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM bot_processes WHERE name = ?", (name,))

    async def adopt_orphans(self, *, owner: str, stale_s: float, max_attempts: int) -> tuple[list[Job], list[Job]]:
        """Take over the queued and running jobs of processes whose heartbeat is older than
        `stale_s` (or gone), and those with no owner: returns (adopted, given_up). Adopted jobs
        are queued and owned by `owner`; running jobs already tried `max_attempts` times fail
        instead. Rows are picked with SKIP LOCKED, so two processes adopting at once split the
        orphans, never share them.

        The stopped processes are named first, and rows are then picked by a test on the row
        alone (`owner IS NULL OR owner IN (…)`): PostgreSQL re-checks a row that another
        transaction changed before the lock was taken, and that re-check is only dependable
        for conditions on the locked row itself, not for a join to bot_processes.
        """
        now = self._db.clock()
        async with self._db.write() as conn:
            stopped = [row[0] for row in await _all(
                conn,
                f"""SELECT DISTINCT owner FROM jobs o WHERE status IN {_ACTIVE} AND owner IS NOT NULL AND owner != ?
                    AND NOT EXISTS (SELECT 1 FROM bot_processes p WHERE p.name = o.owner AND p.heartbeat_at >= ?)""",
                (owner, now - stale_s),
            )]
            of_stopped = f" OR owner IN ({', '.join('?' * len(stopped))})" if stopped else ""
            orphans = (f"SELECT id FROM jobs WHERE status IN {_ACTIVE} AND (owner IS NULL{of_stopped})"
                       f"{self._db.dialect.skip_locked}")
            given_up = await _all(
                conn,
                f"""UPDATE jobs SET status = 'failed', finished_at = ?,
                                    error = 'gave up after ' || attempts || ' attempts'
                    WHERE id IN ({orphans}) AND status = 'running' AND attempts >= ? RETURNING *""",
                (now, *stopped, max_attempts),
            )
            adopted = await _all(
                conn,
                f"UPDATE jobs SET status = 'queued', started_at = NULL, owner = ? WHERE id IN ({orphans}) RETURNING *",
                (owner, *stopped),
            )
        return _by_id(adopted), _by_id(given_up)

    async def _claim(self, where: str, params: tuple[object, ...], owner: str | None) -> Job | None:
        pick = f"SELECT id FROM jobs WHERE status = 'queued'{where} ORDER BY id LIMIT 1{self._db.dialect.skip_locked}"
        async with self._db.write() as conn:
            rows = await _all(
                conn,
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?, "
                f"owner = coalesce(?, owner) WHERE id = ({pick}) AND status = 'queued' RETURNING *",
                (self._db.clock(), owner, *params),
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

    async def _lock(self, conn: aiosqlite.Connection, key: str) -> None:
        """Hold `key` until the transaction ends, where the dialect has such locks."""
        if self._db.dialect.key_lock is not None:
            await _all(conn, self._db.dialect.key_lock, (key,))


async def _insert(conn: aiosqlite.Connection, new: NewJob, owner: str | None, now: float) -> Job:
    rows = await _all(
        conn,
        _INSERT,
        (new.kind, dumps(new.payload), new.requester_id, new.guild_id, new.channel_id,
         new.interaction_token, to_ts(new.token_expires_at), now, owner, new.delivery_key),
    )
    return _job(rows[0])


async def _member_or_guild_refusal(
    conn: aiosqlite.Connection, new: NewJob, now: float, member_max: int, guild_max: int, cooldown_s: float
) -> str | None:
    member = f"SELECT count(*) FROM jobs WHERE requester_id = ? AND status IN {_ACTIVE}"
    if await _count(conn, member, (new.requester_id,)) >= member_max:
        return REFUSED_MEMBER
    last = await _all(conn, "SELECT max(created_at) FROM jobs WHERE requester_id = ?", (new.requester_id,))
    if cooldown_s > 0 and last[0][0] is not None and now - last[0][0] < cooldown_s:
        return REFUSED_COOLDOWN
    guild = f"SELECT count(*) FROM jobs WHERE guild_id = ? AND status IN {_ACTIVE}"
    if new.guild_id is not None and await _count(conn, guild, (new.guild_id,)) >= guild_max:
        return REFUSED_GUILD
    return None


async def _count(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...]) -> int:
    rows = await _all(conn, sql, params)
    return int(rows[0][0])


def _filter(column: str, value: object) -> tuple[str, tuple[object, ...]]:
    """` AND column = ?` when a value is given, nothing when it is None."""
    return ("", ()) if value is None else (f" AND {column} = ?", (value,))


async def _state_error(conn: aiosqlite.Connection, job_id: int, action: str) -> Exception:
    rows = await _all(conn, "SELECT status FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        return NotFoundError(f"no job {job_id}")
    return InvalidStateError(f"job {job_id} is {rows[0][0]}, not running; cannot mark it {action}")


def _by_id(rows: list[aiosqlite.Row]) -> list[Job]:
    return sorted((_job(r) for r in rows), key=lambda j: j.id)


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
        delivery_key=row["delivery_key"],
        attempts=row["attempts"],
        error=row["error"],
        composition_id=row["composition_id"],
        created_at=from_ts_required(row["created_at"]),
        started_at=from_ts(row["started_at"]),
        finished_at=from_ts(row["finished_at"]),
        owner=row["owner"],
        delivered_at=from_ts(row["delivered_at"]),
    )
