"""The composer tier on a real local Ray cluster: two replicas deployed from deploy/ray/serve.yaml.

The cluster starts once for the module. Most requests use the rules engine (the tier, not the model,
is the point); one composes with the trained model through the tier. The replica-kill test runs
last: it lengthens the batch wait and leaves a replaced replica behind.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.remote_worker import RemoteComposerWorker
from bot.worker import ComposerWorker
from composer import resolve_remix
from composer.errors import InvalidRequest
from composer_tier.client import RemoteComposer
from composer_tier.errors import ComposerTierError
from storage import ArtifactStore
from tests.ray_cluster import ROOT, RayCluster, ray_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REPLICAS = 2
LIMIT = 8_000_000
SAME_KINDS = ("midi", "image", "text", "score")  # the encoded audio is not bit-for-bit repeatable


@pytest.fixture(scope="module")
def cluster():
    with ray_cluster(num_cpus=4) as started:
        started.deploy(replicas=REPLICAS, engine="model")
        yield started


@pytest.fixture(scope="module")
def remote(cluster: RayCluster) -> RemoteComposer:
    return RemoteComposer.connect(cluster.address)


def totals(stats: dict[str, dict]) -> tuple[int, int]:
    return sum(s["batches"] for s in stats.values()), sum(s["pieces"] for s in stats.values())


async def test_concurrent_calls_are_composed_in_fewer_model_passes(remote, make_request):
    before = await remote.replica_stats(REPLICAS)
    assert len(before) == REPLICAS and all(s["engine"] == "model" for s in before.values())
    requests = [make_request(seed=seed) for seed in range(8)]
    drafts = await remote.compose_scores(requests, job_ids=range(8))
    assert [d.request.seed for d in drafts] == list(range(8))
    after = await remote.replica_stats(REPLICAS)
    batches, pieces = (a - b for a, b in zip(totals(after), totals(before)))
    assert pieces == 8
    assert batches < 8, [s["batch_sizes"] for s in after.values()]


async def test_the_tier_composes_what_the_local_composer_does(remote, composer, make_request):
    requests = [make_request(seed=3), make_request("a sad song", seed=4, voice="female", lyrics="rain on the sea"),
                make_request(seed=5, engine="model")]
    drafts = await remote.compose_scores(requests)
    local = composer.compose_scores(requests)
    assert [d.midi for d in drafts] == [d.midi for d in local]
    assert [d.score for d in drafts] == [d.score for d in local]
    assert drafts[2].engine["name"] == "model"

    piece = await remote.finish(drafts[1], LIMIT, job_id=42)
    mine = composer.finish(local[1], size_limit_bytes=LIMIT)
    assert {k: piece.artifacts[k] for k in SAME_KINDS} == {k: mine.artifacts[k] for k in SAME_KINDS}
    assert piece.artifacts["audio"].startswith((b"ID3", b"\xff\xfb")) and piece.audio_format == "mp3"
    assert piece.artifacts["image"].startswith(b"\x89PNG") and piece.artifacts["midi"].startswith(b"MThd")


async def test_a_remix_on_the_tier_keeps_the_stored_notes(remote, composer, make_request):
    parent = make_request(seed=9)
    (draft,) = composer.compose_scores([parent])
    score = composer.finish(draft).artifacts["score"]
    request = resolve_remix(parent, {"tempo": parent.tempo + 30, "pitch": 2}, composer.catalog)
    remixed = await remote.remix(parent, request, score, draft.engine, job_id=9)
    assert remixed.midi == composer.remix(parent, request, score, draft.engine).midi


async def test_a_bad_request_fails_alone_with_its_own_message(remote, make_request):
    from dataclasses import replace

    bad = replace(make_request(seed=1), engine="no-such-engine")
    good, failed = await asyncio.gather(remote.compose_scores([make_request(seed=2)]), remote.compose_scores([bad]),
                                        return_exceptions=True)
    assert good[0].request.seed == 2
    assert isinstance(failed, InvalidRequest) and "no-such-engine" in str(failed)


async def test_the_remote_worker_stores_pieces_like_the_local_worker(remote, composer, make_request, tmp_path):
    (draft,) = composer.compose_scores([make_request(seed=11)])
    threads = ThreadPoolExecutor(max_workers=2)
    try:
        remote_store, local_store = ArtifactStore(tmp_path / "remote"), ArtifactStore(tmp_path / "local")
        worker = RemoteComposerWorker(composer, remote, remote_store, threads, threads)
        remote_done = await worker.finish(draft, LIMIT, job_id=11)
        local_done = await ComposerWorker(composer, threads, local_store).finish(draft, LIMIT)
    finally:
        threads.shutdown(wait=True)
    assert remote_done.attachments.keys() == local_done.attachments.keys()
    got = {f.kind: (f.sha256, f.size_bytes) for f in remote_done.stored}
    want = {f.kind: (f.sha256, f.size_bytes) for f in local_done.stored}
    assert got.keys() == want.keys() and all(got[k] == want[k] for k in SAME_KINDS)
    for stored in remote_done.stored:
        assert remote_store.resolve(stored.path).read_bytes() == remote_done.piece.artifacts[stored.kind]


def test_an_app_that_is_not_deployed_is_a_tier_error(cluster):
    with pytest.raises(ComposerTierError) as missing:
        RemoteComposer.connect(cluster.address, "no-such-app")
    assert not missing.value.retriable and "no-such-app" in str(missing.value)


def test_a_bot_process_composes_through_the_tier_without_the_model(cluster, tmp_path):
    """As `muse bot` with MUSE_COMPOSER=ray: a process of its own connects, composes, stores, closes."""
    done = subprocess.run([sys.executable, "-m", "tests.composer_tier.bot_side", cluster.address, str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["stored"] == ["audio", "image", "midi", "score", "text"] and out["files_exist"]
    assert not out["melody_model_here"] and not out["ray_connected_after_close"]


async def test_a_replica_killed_mid_batch_is_a_retriable_error_and_a_retry_succeeds(cluster, remote, make_request):
    before = cluster.replica_names()
    # a long batch wait holds the calls on the replicas (user_config: reconfigured, not replaced)
    cluster.deploy(replicas=REPLICAS, engine="model", batch_wait_timeout_s=4.0)
    assert cluster.replica_names() == before
    requests = [make_request(seed=seed) for seed in range(4)]
    calls = []
    for request in requests:  # one at a time, so the router, counting what it sent, uses both replicas
        calls.append(asyncio.ensure_future(remote.compose_scores([request])))
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    assert not any(call.done() for call in calls)  # each waits on its replica for its batch
    cluster.kill_replica(before[0])
    results = await asyncio.gather(*calls, return_exceptions=True)
    lost = [r for r in results if isinstance(r, BaseException)]
    assert lost and all(isinstance(r, ComposerTierError) and r.retriable for r in lost), results

    started = time.monotonic()
    drafts = await remote.compose_scores(requests)  # the survivor (or the replacement) answers
    assert [d.request.seed for d in drafts] == list(range(4))
    assert time.monotonic() - started < 30
    cluster.wait_running(REPLICAS, timeout_s=60)  # Serve has replaced the killed replica
    after = cluster.replica_names()
    assert before[0] not in after and len(after) == REPLICAS


async def test_the_remote_worker_retries_a_batch_whose_replica_was_killed(cluster, remote, composer, make_request,
                                                                         tmp_path, caplog):
    """Runs after the batch wait was lengthened above, so the calls are still waiting when one dies."""
    worker = RemoteComposerWorker(composer, remote, ArtifactStore(tmp_path), None, None)  # type: ignore[arg-type]
    victim = cluster.replica_names()[0]
    calls = []
    for seed in range(4):
        calls.append(asyncio.ensure_future(worker.compose([make_request(seed=seed)], job_ids=[seed])))
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    cluster.kill_replica(victim)
    results = await asyncio.gather(*calls)  # none fails: the lost ones were sent again
    assert [drafts[0].request.seed for drafts, _ in results] == list(range(4))
    assert any("trying again" in r.getMessage() for r in caplog.records if r.name == "bot.remote_worker")
