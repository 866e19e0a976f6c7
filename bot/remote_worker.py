"""The composer worker of MUSE_COMPOSER=ray: the same interface as `ComposerWorker`, with composing,
rendering and encoding done by the composer tier (a Ray Serve application) instead of in process.

Understanding, reading stored files and storing a finished piece's artifacts stay here, as in
`ComposerWorker`; the melody model and the synth live on the replicas, so this process loads
neither. A call that fails because a replica was lost is made again (at most `RETRIES` times): a
batch's drafts are fixed by their seeds, so composing again gives the same notes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import Awaitable, Callable, Sequence, TypeVar

from bot.config import BotConfig
from bot.worker import ComposerWorker, Finished, parent_engine
from composer import Catalog, Composer, CompositionRequest, Draft, understand
from composer.log_json import JOB_ID
from composer_tier.client import RemoteComposer
from composer_tier.errors import ComposerTierError
from storage import ArtifactStore
from storage import Composition as Record

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIES = 3  # calls made again after a retriable tier error; a fourth failure fails the job
RETRY_PAUSE_S = (0.5, 1.0, 2.0)  # Serve drops a dead replica at once and starts another meanwhile
IN_FLIGHT = 8  # pieces sent to the tier to finish at once (MUSE_RENDER_THREADS overrides)


class RemoteComposerWorker(ComposerWorker):
    """`composer` serves the catalog and understanding only; `remote` composes and finishes."""

    def __init__(self, composer: Composer, remote: RemoteComposer, artifacts: ArtifactStore,
                 reader: Executor, storers: Executor, in_flight: int = IN_FLIGHT):
        # local threads: `reader` understands, `storers` read and write artifact files; `in_flight`
        # (the runner's render_threads) is how many pieces the runner keeps finishing on the tier
        super().__init__(composer, storers, artifacts, reader, storers, in_flight)
        self.remote = remote

    async def compose(self, requests: list[CompositionRequest],
                      job_ids: Sequence[int | str | None] | None = None) -> tuple[list[Draft], float]:
        started = time.perf_counter()
        drafts = await self._retry(lambda: self.remote.compose_scores(requests, job_ids), "compose",
                                   _names(job_ids))
        return drafts, time.perf_counter() - started

    async def remix(self, request: CompositionRequest, parent: Record | None,
                    parent_request: CompositionRequest, job_id: int | str | None = None) -> Draft:
        """The stored score is read here (the replicas see no storage) and sent with the call."""
        job_id = job_id if job_id is not None else JOB_ID.get()  # bound by the runner
        stored = await self._run(self._stored_score, parent)
        engine = parent_engine(parent)
        return await self._retry(lambda: self.remote.remix(parent_request, request, stored, engine, job_id),
                                 "remix", _names([job_id]))

    async def finish(self, draft: Draft, limit_bytes: int, job_id: int | str | None = None) -> Finished:
        """Rendered and encoded on a replica; attached and stored here exactly like a local piece."""
        job_id = job_id if job_id is not None else JOB_ID.get()  # bound by the runner
        piece = await self._retry(lambda: self.remote.finish(draft, limit_bytes, job_id), "finish",
                                  _names([job_id]))
        return await asyncio.get_running_loop().run_in_executor(self.renderers,
                                                                partial(self._keep, piece, limit_bytes))

    async def unready_reason(self) -> str | None:
        """For /readyz: ready while a replica of the tier answers."""
        try:
            await self.remote.stats()
        except ComposerTierError as exc:
            return f"the composer tier does not answer: {exc}"
        return None

    async def close(self) -> None:
        await self.remote.close()

    async def _retry(self, call: Callable[[], Awaitable[T]], what: str, jobs: str) -> T:
        for attempt in range(RETRIES + 1):
            try:
                return await call()
            except ComposerTierError as exc:
                if not exc.retriable or attempt == RETRIES:
                    raise
                log.warning("job %s: %s on the composer tier failed (%s); trying again (%d of %d)",
                            jobs, what, exc, attempt + 1, RETRIES, extra={"job_id": jobs})
                await asyncio.sleep(RETRY_PAUSE_S[min(attempt, len(RETRY_PAUSE_S) - 1)])
        raise AssertionError("unreachable")


def _names(job_ids: Sequence[int | str | None] | None) -> str:
    ids = [str(j) for j in (job_ids or ()) if j is not None]
    return ",".join(ids) if ids else "-"


async def open_remote_worker(config: BotConfig, catalog: Catalog, artifacts: ArtifactStore,
                             reader: Executor) -> RemoteComposerWorker:
    """Connect to the composer tier (MUSE_RAY_ADDRESS, MUSE_RAY_APP) and warm understanding here;
    no melody model and no synth are loaded in this process. Close with `close_remote_worker`."""
    loop = asyncio.get_running_loop()
    remote = await loop.run_in_executor(reader, RemoteComposer.connect, config.scale.ray_address,
                                        config.scale.ray_app)
    composer = Composer(catalog)
    await loop.run_in_executor(reader, understand, "warm up", {}, catalog)
    in_flight = config.limits.render_threads or IN_FLIGHT
    storers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="muse-store")
    return RemoteComposerWorker(composer, remote, artifacts, reader, storers, in_flight)


async def close_remote_worker(worker: RemoteComposerWorker) -> None:
    """Disconnect from the tier and stop the worker's storage threads (the reader is the caller's)."""
    try:
        await worker.close()
    finally:
        if isinstance(worker.executor, ThreadPoolExecutor):
            worker.executor.shutdown(wait=False, cancel_futures=True)
