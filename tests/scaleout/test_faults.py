"""Faults in the scale-out mode: a composer replica killed mid-batch, a bot shard killed with jobs
queued, PostgreSQL restarted under load. Every accepted job must be delivered exactly once and
nothing committed lost; each test prints its counts (`pytest -s` shows them)."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.conftest import has_midi
from tests.discord_standin import StandIn
from tests.scaleout.conftest import shard_processes

pytestmark = pytest.mark.slow

TIMEOUT_S = 150
MEMBERS = ("owner", "alice", "bob")


async def _send(standin: StandIn, guilds, *, length: int = 30, tag: str = "") -> list:
    """One /compose per member per server, all at once; returns the interactions once each is deferred."""
    ixs = []
    for guild in guilds:
        for member in MEMBERS:
            ixs.append(await standin.slash("compose", user=member, guild=guild, length=length, voice="piano",
                                           channel=standin.channel("general", guild=guild),
                                           prompt=f"a calm tune {tag} for {member}"))
    for ix in ixs:
        assert (await ix.ack()).callback_type == 5  # deferred (accepted once its job is stored)
    return ixs


async def _delivered_once(ixs, what: str, procs=(), url: str | None = None) -> None:
    try:
        await asyncio.gather(*(ix.wait_for(has_midi, timeout=TIMEOUT_S) for ix in ixs))
    except TimeoutError:
        raise AssertionError(f"{what}: not every piece came\n{await _story(ixs, procs, url)}") from None
    await asyncio.sleep(2.0)  # a second post would come now, if one were coming
    posted = [sum(1 for d in ix.deliveries if has_midi(d)) for ix in ixs]
    print(f"\n{what}: accepted {len(ixs)}, delivered {sum(p > 0 for p in posted)}, "
          f"posted twice {sum(p > 1 for p in posted)}, lost {sum(p == 0 for p in posted)}")
    assert posted == [1] * len(ixs)


async def test_a_replica_killed_mid_batch(standin: StandIn, shards, guilds, cluster) -> None:
    ixs = await _send(standin, guilds, tag="under a killed replica")
    await asyncio.sleep(0.5)  # the first batch is on the replicas now
    victim = cluster.replica_names()[0]
    await asyncio.to_thread(cluster.kill_replica, victim)
    await _delivered_once(ixs, f"replica {victim} killed mid-batch", shards)
    await asyncio.to_thread(cluster.wait_running, 2)  # Serve replaced it


async def test_a_shard_killed_with_jobs_queued(standin: StandIn, scale_env, guilds, tmp_path, pg_url) -> None:
    async with shard_processes(scale_env, tmp_path, "0", "1") as (first, second):
        ixs = await _send(standin, [guilds[1]], tag="on a killed shard")  # shard 1's jobs
        await _until_stored(pg_url, len(ixs))  # accepted: in the job table (a defer alone is not yet)
        second.kill()  # with its jobs queued or composing
        await _delivered_once(ixs, "shard 1 killed with jobs queued; shard 0 adopted them", (first,), pg_url)
        await second.start()  # back again: it must not post any of them a second time
        await asyncio.sleep(3.0)
        assert [sum(1 for d in ix.deliveries if has_midi(d)) for ix in ixs] == [1] * len(ixs)
    jobs = await _rows(pg_url, "SELECT status, attempts, owner FROM jobs")
    assert {j["status"] for j in jobs} == {"done"}
    print(f"jobs run again after the kill: {sum(j['attempts'] > 1 for j in jobs)} of {len(jobs)}; "
          f"finished by shard 0: {sum('shards-0' in j['owner'] for j in jobs)}")


async def test_postgres_restarted_under_load(standin: StandIn, shards, guilds, pg_server, pg_url) -> None:
    kept = await _send(standin, guilds[:1], length=8, tag="before the restart")
    await asyncio.gather(*(ix.wait_for(has_midi, timeout=TIMEOUT_S) for ix in kept))
    before = await _rows(pg_url, "SELECT id, prompt, owner_id FROM compositions ORDER BY id")
    ixs = await _send(standin, guilds, tag="through a database restart")
    await asyncio.to_thread(pg_server.restart)
    await _delivered_once(ixs, "PostgreSQL restarted under load", shards, pg_url)
    after = await _rows(pg_url, "SELECT id, prompt, owner_id FROM compositions ORDER BY id")
    assert [dict(r) for r in after[:len(before)]] == [dict(r) for r in before]  # nothing committed lost
    assert len(after) == len(before) + len(ixs)
    print(f"compositions: {len(before)} before the restart, all kept; {len(after)} after")


async def _story(ixs, procs, url: str | None) -> str:
    """What happened, for a failure message: each interaction's replies, the job table, and the
    warnings and errors each shard process logged."""
    lines = [f"interaction {ix.record.id}: {[(d.kind, (d.content or '')[:80]) for d in ix.deliveries]}" for ix in ixs]
    if url is not None:
        rows = await _rows(url, "SELECT id, status, attempts, owner, delivery_key, delivered_at FROM jobs ORDER BY id")
        lines += [str(dict(row)) for row in rows]
    for proc in procs:
        lines += [f"shard {proc.shard_ids}: {r['level']} {r['logger']}: {r['message'][:200]}"
                  for r in proc.records() if r.get("level") in ("WARNING", "ERROR")][-15:]
    return "\n".join(lines)


async def _until_stored(url: str, jobs: int, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if (await _rows(url, "SELECT count(*) AS n FROM jobs"))[0]["n"] >= jobs:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{jobs} jobs were not stored within {timeout_s} s")


async def _rows(url: str, sql: str) -> list:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()
