"""Crash safety: SIGKILL a writer at random moments; every write that returned survives."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import open_database

pytestmark = pytest.mark.slow

ROUNDS = 20
HELPER = Path(__file__).with_name("storage_crash_writer.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_and_kill(db_path: Path, rng: random.Random, wait_for_ready: bool) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    child = subprocess.Popen(
        [sys.executable, str(HELPER), str(db_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        if wait_for_ready:  # kill mid-write
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n", child.stderr.read() if child.stderr else ""
            time.sleep(rng.uniform(0.0, 0.25))
        else:  # kill anywhere, start-up and migrations included
            time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL, err
    return out.splitlines(keepends=True)


@pytest.mark.timeout(60)
def test_sigkill_never_loses_a_returned_write(tmp_path: Path) -> None:
    db_path = tmp_path / "muse.sqlite3"
    rng = random.Random(int(os.environ.get("MUSE_CRASH_SEED", "20240607")))
    written = {"c": set(), "j": set(), "d": set()}
    mid_write_kills = 0
    for round_no in range(ROUNDS):
        lines = _run_and_kill(db_path, rng, wait_for_ready=round_no % 4 != 0)
        for line in lines:
            if not line.endswith("\n"):  # cut off by the kill: that write may not have returned
                continue
            kind, _, value = line.strip().partition(" ")
            if kind in written:
                written[kind].add(int(value))
        mid_write_kills += any(line.startswith(("c ", "j ")) for line in lines)

        with sqlite3.connect(db_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if version == 0:  # killed before the first migration committed: nothing half-made
                assert tables == 0 and not any(written.values())
                continue
            pieces = {row[0] for row in conn.execute("SELECT id FROM compositions")}
            files = {row[0] for row in conn.execute("SELECT composition_id FROM composition_files")}
            jobs = {row[0] for row in conn.execute("SELECT id FROM jobs")}
            done = {row[0] for row in conn.execute("SELECT id FROM jobs WHERE status = 'done'")}
        assert written["c"] <= pieces, f"round {round_no}: lost pieces {sorted(written['c'] - pieces)}"
        assert pieces == files  # a piece and its files commit together
        assert written["j"] <= jobs, f"round {round_no}: lost jobs {sorted(written['j'] - jobs)}"
        assert written["d"] <= done
    assert mid_write_kills >= ROUNDS // 2  # the kills really landed among writes
    assert len(written["c"]) > ROUNDS
    print(f"crash rounds={ROUNDS} mid-write kills={mid_write_kills} pieces={len(written['c'])} jobs={len(written['j'])}")

    async def reopen() -> None:  # the bot's start-up path works on the crashed file
        async with open_database(db_path) as db:
            await db.jobs.requeue_running()
            assert await db.integrity_check() == "ok"
            assert all(j.status.value == "queued" for j in await db.jobs.list_active())

    asyncio.run(reopen())
