"""`muse bot` shard processes for the scale-out tests: real processes, real settings, real signals.

Each runs `python -m cli bot --sync` with the scale-out environment (PostgreSQL, the Ray composer
tier, its shard ids, a health port, JSON logs); the test reads its /readyz to know when it is up
and its log file to know what it did.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.ray_cluster import free_port

ROOT = Path(__file__).resolve().parents[2]


class ShardProcess:
    def __init__(self, shard_ids: str, shard_count: int, env: dict[str, str], log_path: Path):
        self.shard_ids = shard_ids
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, **env, "MUSE_SHARD_IDS": shard_ids, "MUSE_SHARD_COUNT": str(shard_count),
                    "MUSE_HEALTH_PORT": str(self.port), "MUSE_LOG_FORMAT": "json"}
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout_s: float = 90.0) -> None:
        """Start the process and wait until its /readyz answers 200 (gateway, database, composer)."""
        log = open(self.log_path, "ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli", "bot", "--sync", cwd=ROOT, env=self.env,
                stdout=log, stderr=asyncio.subprocess.STDOUT)
        finally:
            log.close()
        await self.wait_ready(timeout_s)

    async def wait_ready(self, timeout_s: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        last = "no answer"
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                if self.proc is not None and self.proc.returncode is not None:
                    raise AssertionError(f"shard {self.shard_ids} exited with {self.proc.returncode}:\n{self.tail()}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/readyz") as answer:
                        if answer.status == 200:
                            return
                        last = await answer.text()
                except aiohttp.ClientError as exc:
                    last = str(exc)
                await asyncio.sleep(0.25)
        raise AssertionError(f"shard {self.shard_ids} not ready after {timeout_s} s ({last}):\n{self.tail()}")

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{self.port}/metrics") as answer:
                return await answer.text()

    def kill(self) -> None:
        """SIGKILL: the process dies with whatever it holds (no clean stop, no goodbye to the database)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout_s)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def records(self) -> list[dict]:
        """The JSON log records the process wrote (lines that are not JSON, e.g. a crash, skipped)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
