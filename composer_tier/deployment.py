"""The composer tier's Serve deployment: each replica owns a Composer (catalog, melody engine, synth)
and composes the calls that arrive together in one model pass.

Calls from every bot process land on the replicas' batch queues, so requests from different
processes share a pass, which is where the model gains most. The blocking work (model passes,
render and encode) runs on the replica's own threads: one composes, `finish_threads` render, and the
replica's event loop stays free to take more calls meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, TypeVar

import ray
from ray import serve
from ray.serve import metrics

from composer import Composer, CompositionRequest, Draft, Piece, default_engine, load_catalog
from composer_tier.replica_stats import ReplicaStats

log = logging.getLogger("ray.serve")  # Serve's logger: lines go to the replica's log with its id

T = TypeVar("T")

DEPLOYMENT = "Composer"
# Batching defaults; `user_config` changes them on running replicas (no restart).
MAX_BATCH_SIZE = 8
BATCH_WAIT_TIMEOUT_S = 0.05
MAX_ONGOING_REQUESTS = 32  # at least the batch size: the rest wait on the replica, not in the router


def _job(job_id: str | None) -> dict[str, Any]:
    """Log-record extras: JSON logs get a `job_id` field, so a job can be followed across processes."""
    return {"job_id": job_id} if job_id is not None else {}


@serve.deployment(name=DEPLOYMENT, max_ongoing_requests=MAX_ONGOING_REQUESTS)
class ComposerDeployment:
    """One replica: loads the catalog (MUSE_PACKS_DIR for operator packs) and keeps the engine warm
    (user_config `engine`, else MUSE_ENGINE, else the default engine)."""

    def __init__(self, packs_dir: str | None = None):
        packs_dir = packs_dir or os.environ.get("MUSE_PACKS_DIR") or None
        # drafts go back to the bot between compose and finish: a band rendered early would be lost
        self.composer = Composer(load_catalog(packs_dir), early_band=False)
        self.engine = ""
        self._composing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="muse-compose")
        self._finishing = ThreadPoolExecutor(max_workers=_cpus(), thread_name_prefix="muse-render")
        self.stats_ = ReplicaStats(_replica_id(), "", MAX_BATCH_SIZE, BATCH_WAIT_TIMEOUT_S)
        self._batch_size = metrics.Histogram(
            "muse_composer_batch_size", description="Requests composed in one model pass.",
            boundaries=[1, 2, 4, 8, 16, 32])
        self._compose_s = metrics.Histogram(
            "muse_composer_compose_seconds", description="Seconds one model pass (a batch) took.",
            boundaries=[0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32])
        self._finish_s = metrics.Histogram(
            "muse_composer_finish_seconds", description="Seconds rendering and encoding one piece took.",
            boundaries=[0.25, 0.5, 1, 2, 4, 8, 16, 32])
        self._pieces = metrics.Counter("muse_composer_pieces", description="Drafts composed in batches.")

    async def reconfigure(self, config: dict[str, Any]) -> None:
        """user_config: `max_batch_size`, `batch_wait_timeout_s`, `engine` (warmed before the replica
        takes calls), `finish_threads`."""
        config = config or {}
        if "max_batch_size" in config:
            self.stats_.max_batch_size = int(config["max_batch_size"])
            self._compose_batch.set_max_batch_size(self.stats_.max_batch_size)
        if "batch_wait_timeout_s" in config:
            self.stats_.batch_wait_timeout_s = float(config["batch_wait_timeout_s"])
            self._compose_batch.set_batch_wait_timeout_s(self.stats_.batch_wait_timeout_s)
        if config.get("finish_threads"):
            old, self._finishing = self._finishing, ThreadPoolExecutor(
                max_workers=int(config["finish_threads"]), thread_name_prefix="muse-render")
            old.shutdown(wait=False)
        engine = config.get("engine") or os.environ.get("MUSE_ENGINE") or default_engine()
        if engine != self.engine:
            started = time.perf_counter()
            await self._on(self._composing, self.composer.warm_up, engine)
            self.engine = self.stats_.engine = engine
            log.info("composer replica %s: engine %s warm in %.1f s", self.stats_.replica_id, engine,
                     time.perf_counter() - started)

    # -- calls -----------------------------------------------------------------------------
    async def compose(self, request: CompositionRequest, job_id: str | None = None) -> Draft:
        """One request's draft, composed in one pass with the calls that arrive with it."""
        self.stats_.composing += 1
        try:
            result = await self._compose_batch(request, job_id)
        finally:
            self.stats_.composing -= 1
        if isinstance(result, BaseException):
            raise result
        return result

    async def finish(self, draft: Draft, limit_bytes: int, job_id: str | None = None) -> Piece:
        """Render and encode a draft here, where the synth is, so a bot host needs none."""
        started = time.perf_counter()
        try:
            piece = await self._on(self._finishing, self.composer.finish, draft, size_limit_bytes=limit_bytes)
        except Exception:
            self.stats_.failed += 1
            log.exception("job %s: finishing a piece failed", job_id, extra=_job(job_id))
            raise
        seconds = time.perf_counter() - started
        self.stats_.finished += 1
        self.stats_.finish_s += seconds
        self._finish_s.observe(seconds)
        log.info("job %s: finished a piece in %.2f s", job_id, seconds, extra=_job(job_id))
        return piece

    async def remix(self, parent_request: CompositionRequest, request: CompositionRequest,
                    stored_score: bytes | None, engine: dict[str, Any] | None, job_id: str | None = None) -> Draft:
        """A remix of a stored piece; its score bytes come with the call (the bot reads its storage)."""
        draft = await self._on(self._composing, self.composer.remix, parent_request, request, stored_score, engine)
        self.stats_.remixes += 1
        log.info("job %s: remixed in %.2f s", job_id, draft.compose_s, extra=_job(job_id))
        return draft

    def stats(self) -> dict[str, Any]:
        """Batch sizes and timings so far, with this replica's id and process (for bench and tests)."""
        return self.stats_.as_dict()

    # -- batching ----------------------------------------------------------------------------
    @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_TIMEOUT_S)
    async def _compose_batch(self, requests: list[CompositionRequest],
                             job_ids: list[str | None]) -> list[Draft | BaseException]:
        """One model pass for the batch; when it fails, each request alone, so one bad request
        fails only its own call."""
        started = time.perf_counter()
        try:
            drafts: list[Draft | BaseException] = list(
                await self._on(self._composing, self.composer.compose_scores, list(requests)))
        except Exception as exc:
            if len(requests) == 1:
                log.exception("job %s: composing failed", job_ids[0], extra=_job(job_ids[0]))
                self.stats_.failed += 1
                return [exc]
            log.warning("a batch of %d failed (%s); composing each alone", len(requests), exc)
            drafts = [await self._alone(r, j) for r, j in zip(requests, job_ids)]
        seconds = time.perf_counter() - started
        composed = sum(not isinstance(d, BaseException) for d in drafts)
        self.stats_.batch(len(requests), seconds)
        self._batch_size.observe(len(requests))
        self._compose_s.observe(seconds)
        self._pieces.inc(composed)
        for job_id in dict.fromkeys(job_ids):
            log.info("job %s: composed in a batch of %d (%.2f s)", job_id, len(requests), seconds,
                     extra=_job(job_id))
        return drafts

    async def _alone(self, request: CompositionRequest, job_id: str | None) -> Draft | BaseException:
        try:
            (draft,) = await self._on(self._composing, self.composer.compose_scores, [request])
            return draft
        except Exception as exc:
            log.exception("job %s: composing failed", job_id, extra=_job(job_id))
            self.stats_.failed += 1
            return exc

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args, **kwargs))


def _replica_id() -> str:
    try:
        return serve.get_replica_context().replica_id.unique_id
    except Exception:  # constructed outside Serve (a unit test)
        return f"local-{os.getpid()}"


def _cpus() -> int:
    """Render threads: the CPUs Ray gave this replica (at least one)."""
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    except Exception:
        cpus = 1
    return max(1, int(cpus))
