"""The Serve application: `import_path: composer_tier.app:build_app` in deploy/ray/serve.yaml.

The builder runs on the cluster, so it can see whether the cluster has GPUs: a replica asks for one
GPU there and for CPUs elsewhere, unless the config's args say otherwise. Replica counts come from
the args too: a fixed `num_replicas`, or autoscaling between `min_replicas` and `max_replicas`.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.serve import Application

from composer_tier.deployment import BATCH_WAIT_TIMEOUT_S, MAX_BATCH_SIZE, ComposerDeployment

APP_NAME = "muse-composer"
DEFAULT_USER_CONFIG = {"max_batch_size": MAX_BATCH_SIZE, "batch_wait_timeout_s": BATCH_WAIT_TIMEOUT_S}


def cluster_gpus() -> float:
    """GPUs the connected cluster reports (0 when this process is not connected to one)."""
    return float(ray.cluster_resources().get("GPU", 0)) if ray.is_initialized() else 0.0


def actor_options(args: dict[str, Any]) -> dict[str, Any]:
    """One GPU per replica when the cluster has GPUs, one CPU otherwise; `num_cpus`/`num_gpus` in the
    args fix either (`num_gpus: auto`, the default, detects)."""
    gpus = args.get("num_gpus", "auto")
    if gpus in (None, "auto"):
        gpus = 1 if cluster_gpus() > 0 else 0
    options: dict[str, Any] = {"num_cpus": float(args.get("num_cpus", 1))}
    if float(gpus) > 0:
        options["num_gpus"] = float(gpus)
    return options


def replica_options(args: dict[str, Any]) -> dict[str, Any]:
    """A fixed `num_replicas`, or autoscaling bounds (Serve takes one or the other)."""
    if args.get("num_replicas"):
        return {"num_replicas": int(args["num_replicas"])}
    return {"autoscaling_config": {
        "min_replicas": int(args.get("min_replicas", 1)),
        "max_replicas": int(args.get("max_replicas", 4)),
        # a replica gains from a full batch, so it is busy, not overloaded, with a batch in flight
        "target_ongoing_requests": float(args.get("target_ongoing_requests", MAX_BATCH_SIZE)),
    }}


def build_app(args: dict[str, Any] | None = None) -> Application:
    """The application from a Serve config's `args` (all optional): num_replicas | min_replicas,
    max_replicas, target_ongoing_requests; num_cpus, num_gpus; packs_dir; user_config (defaults for
    the deployment's user_config, which the config's `deployments` entry overrides)."""
    args = dict(args or {})
    user_config = {**DEFAULT_USER_CONFIG, **(args.get("user_config") or {})}
    deployment = ComposerDeployment.options(ray_actor_options=actor_options(args), user_config=user_config,
                                            **replica_options(args))
    return deployment.bind(args.get("packs_dir"))
