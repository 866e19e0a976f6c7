"""The composer tier without a Ray cluster: error translation, replica options, the Serve config file,
and the bot's remote worker over an in-process stand-in of the tier (retries, storing)."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import yaml
from ray import exceptions as rx
from ray.serve import exceptions as sx

from bot.remote_worker import RETRIES, RemoteComposerWorker
from bot.worker import ComposerWorker
from composer import resolve_remix
from composer.errors import InvalidRequest
from composer_tier import app as tier_app
from composer_tier.client import _translate
from composer_tier.errors import ComposerTierError
from storage import ArtifactStore, StoredFile
from storage import Composition as Record
from tests.ray_cluster import SERVE_YAML

LIMIT = 8_000_000


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("raised", [rx.ActorDiedError(), rx.ActorUnavailableError("gone", None),
                                    sx.BackPressureError(num_queued_requests=9, max_queued_requests=8),
                                    sx.DeploymentUnavailableError(sx.DeploymentID("Composer", "muse-composer"))])
def test_a_lost_or_busy_replica_is_a_retriable_tier_error(raised):
    out = _translate(raised)
    assert isinstance(out, ComposerTierError) and out.retriable


def test_a_muse_error_raised_on_the_replica_comes_out_as_itself():
    cause = InvalidRequest("unknown engine 'x'")
    out = _translate(rx.RayTaskError("compose", "Traceback …", cause).as_instanceof_cause())
    assert out is cause


def test_any_other_error_on_the_replica_is_a_tier_error_not_worth_retrying():
    out = _translate(rx.RayTaskError("compose", "Traceback …", KeyError("x")).as_instanceof_cause())
    assert isinstance(out, ComposerTierError) and not out.retriable
    assert "KeyError" in str(out)


def test_tier_errors_keep_retriable_through_pickling():
    out = pickle.loads(pickle.dumps(ComposerTierError("lost", retriable=True)))
    assert out.retriable and str(out) == "lost"


# -- replica options and the config file -------------------------------------------------------------
def test_replicas_take_a_gpu_when_the_cluster_has_one(monkeypatch):
    monkeypatch.setattr(tier_app, "cluster_gpus", lambda: 0.0)
    assert tier_app.actor_options({}) == {"num_cpus": 1.0}
    monkeypatch.setattr(tier_app, "cluster_gpus", lambda: 2.0)
    assert tier_app.actor_options({}) == {"num_cpus": 1.0, "num_gpus": 1.0}
    assert tier_app.actor_options({"num_gpus": 0, "num_cpus": 2}) == {"num_cpus": 2.0}


def test_a_fixed_replica_count_or_autoscaling_bounds():
    assert tier_app.replica_options({"num_replicas": 3}) == {"num_replicas": 3}
    scaling = tier_app.replica_options({"min_replicas": 2, "max_replicas": 6})["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (2, 6)


def test_the_serve_config_names_the_app_its_builder_and_batching():
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema.model_validate(yaml.safe_load(SERVE_YAML.read_text()))
    (app,) = config.applications
    assert app.name == tier_app.APP_NAME and app.import_path == "composer_tier.app:build_app"
    (deployment,) = app.deployments
    assert deployment.name == "Composer"
    assert deployment.max_ongoing_requests >= deployment.user_config["max_batch_size"]
    assert {"max_batch_size", "batch_wait_timeout_s", "engine"} <= set(deployment.user_config)
    assert {"min_replicas", "max_replicas", "num_cpus", "num_gpus"} <= set(app.args)
    built = tier_app.build_app(app.args)  # builds without a cluster (no GPUs seen: CPU replicas)
    assert built is not None


# -- the bot's remote worker over a stand-in tier ---------------------------------------------------
@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch):
    import bot.remote_worker

    monkeypatch.setattr(bot.remote_worker, "RETRY_PAUSE_S", (0.0,))


@pytest.fixture
def threads():
    pool = ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


def remote_worker(composer, tier, tmp_path, threads):
    return RemoteComposerWorker(composer, tier, ArtifactStore(tmp_path / "remote"), threads, threads)


def stored_bytes(finished, store: ArtifactStore) -> dict[str, bytes]:
    return {f.kind: store.resolve(f.path).read_bytes() for f in finished.stored}


async def test_a_lost_replica_is_retried_and_the_job_gets_its_piece(composer, local_tier, make_request, tmp_path,
                                                                  threads):
    tier = local_tier([ComposerTierError("lost", retriable=True)] * RETRIES)
    worker = remote_worker(composer, tier, tmp_path, threads)
    drafts, _ = await worker.compose([make_request(seed=1), make_request(seed=2)], job_ids=[7, 8])
    assert [d.request.seed for d in drafts] == [1, 2]
    assert tier.calls == [("compose", [7, 8])] * (RETRIES + 1)


async def test_retries_are_bounded_and_a_lasting_error_fails_the_call(composer, local_tier, make_request, tmp_path,
                                                                    threads):
    tier = local_tier([ComposerTierError("lost", retriable=True)] * (RETRIES + 1))
    with pytest.raises(ComposerTierError):
        await remote_worker(composer, tier, tmp_path, threads).compose([make_request()])
    assert len(tier.calls) == RETRIES + 1


async def test_an_error_not_worth_retrying_fails_at_once(composer, local_tier, make_request, tmp_path, threads):
    tier = local_tier([InvalidRequest("bad"), ComposerTierError("broken", retriable=False)])
    worker = remote_worker(composer, tier, tmp_path, threads)
    with pytest.raises(InvalidRequest):
        await worker.compose([make_request()])
    (draft,) = composer.compose_scores([make_request()])
    with pytest.raises(ComposerTierError):
        await worker.finish(draft, LIMIT, job_id=3)
    assert tier.calls == [("compose", None), ("finish", 3)]


async def test_a_piece_finished_on_the_tier_is_stored_like_a_local_one(composer, local_tier, make_request, tmp_path,
                                                                     threads):
    (draft,) = composer.compose_scores([make_request()])
    remote = await remote_worker(composer, local_tier(), tmp_path, threads).finish(draft, LIMIT)
    local_store = ArtifactStore(tmp_path / "local")
    local = await ComposerWorker(composer, threads, local_store).finish(draft, LIMIT)
    assert sorted(f.kind for f in remote.stored) == sorted(f.kind for f in local.stored)
    assert remote.attachments.keys() == local.attachments.keys()
    got = stored_bytes(remote, ArtifactStore(tmp_path / "remote"))
    assert got == remote.piece.artifacts  # every artifact kept as it came back
    want = stored_bytes(local, local_store)
    assert {k: v for k, v in got.items() if k != "audio"} == {k: v for k, v in want.items() if k != "audio"}


async def test_a_remix_reads_the_stored_score_here_and_sends_it(composer, local_tier, make_request, tmp_path,
                                                              threads):
    parent_request = make_request()
    (draft,) = composer.compose_scores([parent_request])
    store = ArtifactStore(tmp_path / "remote")
    artifact = store.put_bytes(composer.finish(draft).artifacts["score"], suffix=".json")
    parent = Record(id=1, created_at=datetime.now(timezone.utc), owner_id=1, prompt=parent_request.prompt,
                    request={}, seed=parent_request.seed, engine=draft.engine["name"],
                    checkpoint=draft.engine.get("checkpoint"), engine_version=draft.engine.get("version"),
                    files=(StoredFile("score", artifact.relative_path, artifact.sha256, artifact.size_bytes),))
    request = resolve_remix(parent_request, {"tempo": parent_request.tempo + 20}, composer.catalog)
    tier = local_tier()
    remixed = await remote_worker(composer, tier, tmp_path, threads).remix(request, parent, parent_request, job_id=5)
    assert tier.calls == [("remix", 5)]
    assert remixed.score.tracks == draft.score.tracks and remixed.request.tempo == request.tempo
