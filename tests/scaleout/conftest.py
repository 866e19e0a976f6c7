"""The scale-out mode end to end: PostgreSQL, a local Ray cluster with two composer replicas, two
`muse bot` shard processes, and the Discord stand-in speaking to both with the real discord.py client.

The Ray cluster is started once per module (about 15 s); the database and the bots once per test.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

import pytest

from composer import default_engine
from tests.discord_standin import StandIn
from tests.ray_cluster import ray_cluster
from tests.scaleout.shard_process import ShardProcess

SHARDS = 2


@pytest.fixture(scope="module")
def cluster():
    with ray_cluster(num_cpus=4) as started:
        started.deploy(replicas=2, engine=default_engine())
        yield started


@pytest.fixture
def guilds(standin: StandIn):
    """One guild on each shard (added before any bot connects, so each shard's READY lists it)."""
    return [standin.guild_on_shard(shard, SHARDS, name=f"Shard {shard} server") for shard in range(SHARDS)]


@pytest.fixture
def scale_env(standin: StandIn, cluster, pg_url: str, tmp_path: Path) -> dict[str, str]:
    return {**standin.env, "MUSE_DATABASE_URL": pg_url, "MUSE_COMPOSER": "ray", "MUSE_RAY_ADDRESS": cluster.address,
            "MUSE_DATA_DIR": str(tmp_path / "data"), "MUSE_COOLDOWN_S": "0", "MUSE_JOB_TIMEOUT_S": "90"}


@contextlib.asynccontextmanager
async def shard_processes(scale_env: dict[str, str], logs: Path, *ids: str) -> AsyncIterator[list[ShardProcess]]:
    """Start one `muse bot` per shard range, all ready; stopped (SIGTERM) on the way out."""
    procs = [ShardProcess(shard_ids, SHARDS, scale_env, logs / f"shard-{shard_ids}.log") for shard_ids in ids]
    try:
        for proc in procs:  # one after the other: the first one syncs the commands
            await proc.start()
        yield procs
    finally:
        for proc in procs:
            await proc.stop()


@pytest.fixture
async def shards(scale_env, guilds, tmp_path: Path) -> AsyncIterator[list[ShardProcess]]:
    async with shard_processes(scale_env, tmp_path, "0", "1") as procs:
        yield procs
