"""The scale-out deploy files parse, say what docs/scale-out.md promises, and configure a valid bot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SCALEOUT = ROOT / "deploy" / "scaleout"
DOC = ROOT / "docs" / "scale-out.md"
BOTS = ("bot-shard-0", "bot-shard-1")
PROMISED_ENV = ("MUSE_DATABASE_URL", "MUSE_COMPOSER", "MUSE_RAY_ADDRESS", "MUSE_RAY_APP", "MUSE_SHARD_COUNT",
                "MUSE_SHARD_IDS", "MUSE_HEALTH_PORT", "MUSE_LOG_FORMAT")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((SCALEOUT / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kube() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((SCALEOUT / "kuberay.yaml").read_text(encoding="utf-8")))
    return {d["kind"]: d for d in docs}


def interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` with the defaults (what a local trial gets)."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_starts_postgres_a_ray_head_and_two_shards(compose) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "ray-head", *BOTS}
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15" and "pg_isready" in str(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    head = " ".join(services["ray-head"]["command"])
    assert "ray start --head --block" in head and "serve deploy deploy/ray/serve.yaml" in head
    assert services["ray-head"]["build"]["args"]["MUSE_EXTRAS"] == "scaleout"
    assert "env_file" not in services["ray-head"]  # the token is for the bots only
    assert services["bot-shard-0"]["command"] == ["bot", "--sync"]
    assert services["bot-shard-1"]["command"] == ["bot"]


@pytest.mark.parametrize("shard", [0, 1])
def test_each_bot_is_a_valid_scale_out_config(compose, shard: int) -> None:
    bot = compose["services"][f"bot-shard-{shard}"]
    env = {k: interpolate(str(v)) for k, v in bot["environment"].items()}
    assert set(PROMISED_ENV) <= set(env)
    config = load_config({**env, "DISCORD_TOKEN": "x" * 30}, dotenv=None).scale
    assert config.shard_ids == (shard,) and config.shard_count == 2 and config.composer == "ray"
    assert config.ray_address == "ray://ray-head:10001" and config.ray_app == "muse-composer"
    assert config.database_url.startswith("postgresql://") and "@postgres:5432/" in config.database_url
    assert config.log_format == "json" and config.health_port == 8081
    assert f"127.0.0.1:{config.health_port}/readyz" in " ".join(bot["healthcheck"]["test"])
    assert {name: d["condition"] for name, d in bot["depends_on"].items()} == {
        "postgres": "service_healthy", "ray-head": "service_healthy"}


def test_the_image_takes_the_scaleout_extra() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG MUSE_EXTRAS=" in dockerfile and "requirements-scaleout.lock" in dockerfile
    assert (ROOT / "requirements-scaleout.lock").is_file()


def test_kuberay_runs_the_composer_app_on_gpu_workers(kube) -> None:
    service = kube["RayService"]
    serve = yaml.safe_load(service["spec"]["serveConfigV2"])
    (app,) = serve["applications"]
    local = yaml.safe_load((ROOT / "deploy" / "ray" / "serve.yaml").read_text(encoding="utf-8"))
    (local_app,) = local["applications"]
    assert app["name"] == local_app["name"] == "muse-composer"
    assert app["import_path"] == local_app["import_path"]
    assert app["args"]["num_gpus"] == 1 and 1 <= app["args"]["min_replicas"] <= app["args"]["max_replicas"]
    cluster = service["spec"]["rayClusterConfig"]
    (gpu,) = cluster["workerGroupSpecs"]
    (worker,) = gpu["template"]["spec"]["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["maxReplicas"] >= app["args"]["max_replicas"] and cluster["enableInTreeAutoscaling"] is True


def test_kuberay_bots_pick_their_shard_and_are_probed(kube) -> None:
    sts = kube["StatefulSet"]
    pod = sts["spec"]["template"]
    (bot,) = pod["spec"]["containers"]
    env = {e["name"]: e for e in bot["env"]}
    assert set(PROMISED_ENV) - {"MUSE_DATABASE_URL"} <= set(env)  # the URL comes from the secret
    assert "pod-index" in env["MUSE_SHARD_IDS"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert int(env["MUSE_SHARD_COUNT"]["value"]) == sts["spec"]["replicas"]
    assert env["MUSE_RAY_ADDRESS"]["value"] == f"ray://{kube['RayService']['metadata']['name']}-head-svc:10001"
    port = int(env["MUSE_HEALTH_PORT"]["value"])
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {p["name"]: p["containerPort"] for p in bot["ports"]} == {"health": port}
    notes = pod["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true" and int(notes["prometheus.io/port"]) == port
    assert notes["prometheus.io/path"] == "/metrics"


def test_the_doc_names_what_the_files_run(compose) -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in (*compose["services"], *PROMISED_ENV, "deploy/scaleout/compose.yaml", "deploy/scaleout/kuberay.yaml",
                 "FOR UPDATE SKIP LOCKED", "/healthz", "/readyz", "/metrics"):
        assert f"`{name}`" in text or name in text, name
    for metric in ("muse_queue_waiting", "muse_queue_running", "muse_batch_size", "muse_defer_seconds",
                   "muse_deliver_seconds", "muse_jobs_total", "muse_gpu_utilization"):
        assert f"`{metric}" in text, metric
    last = text.rstrip().rsplit("\n## ", 1)[1]
    assert last.startswith("Measured\n") and "`python -m bench scaleout`" in last  # the bench writes it
