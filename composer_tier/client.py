"""The bot's side of the composer tier: a handle on the Serve application, called asynchronously.

Each request is its own handle call and a batch's calls are sent together, so the replicas' batch
queues gather them (with the calls of other bot processes) into model passes. Whatever Ray or Serve
raises comes out as one `ComposerTierError` whose `retriable` says whether calling again may help;
an error the composer raised on the replica (a `MuseError`, e.g. a bad stored score) comes out as
itself, so the member gets its one-line message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Sequence, TypeVar

from composer import CompositionRequest, Draft, MuseError, Piece
from composer_tier.errors import ComposerTierError

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMESPACE = "muse"


def _translate(exc: BaseException) -> BaseException:
    """The error a caller sees for what a handle call raised (found by killing replicas mid-call)."""
    from ray import exceptions as rx
    from ray.serve import exceptions as sx

    if isinstance(exc, rx.RayTaskError):  # raised by our code on the replica: the cause, unwrapped
        cause = exc.cause
        if isinstance(cause, MuseError):
            return cause
        return ComposerTierError(f"the composer tier failed: {type(cause).__name__}: {cause}", retriable=False)
    if isinstance(exc, (rx.RayActorError, rx.ActorUnavailableError, rx.ObjectLostError, rx.OwnerDiedError,
                        rx.WorkerCrashedError, rx.NodeDiedError, rx.RaySystemError, rx.GetTimeoutError,
                        sx.BackPressureError, sx.DeploymentUnavailableError, sx.ReplicaUnavailableError)):
        # a replica died or is out of reach, or the tier is full or starting: another replica (or the
        # one Serve starts in its place) may well answer
        return ComposerTierError(f"a composer replica was lost or busy ({type(exc).__name__})", retriable=True)
    if isinstance(exc, (sx.RequestCancelledError, rx.TaskCancelledError)):
        return ComposerTierError("the composer tier call was cancelled", retriable=False)
    if isinstance(exc, (rx.RayError, sx.RayServeException)):
        return ComposerTierError(f"the composer tier failed: {type(exc).__name__}: {exc}", retriable=False)
    return exc


class RemoteComposer:
    """Calls the Serve application `app_name` on the Ray cluster at `address` ("auto": the local one).

    Connecting makes this process a small Ray driver (no local worker processes, no log streaming);
    a process that is already connected (a test) keeps its connection, and `close` leaves it open."""

    def __init__(self, handle: Any, *, owns_ray: bool):
        self._handle = handle
        self._owns_ray = owns_ray

    @classmethod
    def connect(cls, address: str = "auto", app_name: str = "muse-composer") -> "RemoteComposer":
        """Blocking (a second or two): run it on a thread from async code."""
        import ray
        from ray import serve

        logging.getLogger("ray.serve").setLevel(logging.WARNING)  # the handle's router chatter stays out of our log
        owns = not ray.is_initialized()
        if owns:  # a cluster that is down is waited for (Ray retries for minutes), then a tier error
            try:
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING,
                         configure_logging=False)
            except Exception as exc:
                raise ComposerTierError(f"cannot reach the Ray cluster at {address}: {exc}", retriable=False) from exc
        try:
            handle = serve.get_app_handle(app_name)
        except Exception as exc:
            if owns:
                ray.shutdown()
            raise ComposerTierError(f"no composer tier app {app_name!r} at {address}: {exc}", retriable=False) from exc
        log.info("composer tier: app %s on the Ray cluster at %s", app_name, address)
        return cls(handle, owns_ray=owns)

    async def compose_scores(self, requests: Sequence[CompositionRequest],
                             job_ids: Sequence[str | int | None] | None = None) -> list[Draft]:
        """One draft per request, in order; the calls go out together so replicas batch them."""
        ids = list(job_ids) if job_ids is not None else [None] * len(requests)
        calls = [self._call(self._handle.compose.remote(r, _id(j))) for r, j in zip(requests, ids)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)  # type: ignore[arg-type]

    async def finish(self, draft: Draft, limit_bytes: int, job_id: str | int | None = None) -> Piece:
        """Render and encode on a replica (it has the synth); the piece's bytes come back."""
        return await self._call(self._handle.finish.remote(draft, limit_bytes, _id(job_id)))

    async def remix(self, parent_request: CompositionRequest, request: CompositionRequest,
                    stored_score: bytes | None, engine: dict[str, Any] | None,
                    job_id: str | int | None = None) -> Draft:
        return await self._call(self._handle.remix.remote(parent_request, request, stored_score, engine, _id(job_id)))

    async def stats(self) -> dict[str, Any]:
        """One replica's stats (whichever the router picks); `replica_stats` for all of them."""
        return await self._call(self._handle.stats.remote())

    async def replica_stats(self, replicas: int, tries: int = 64) -> dict[str, dict[str, Any]]:
        """Stats by replica id, asking until `replicas` distinct ones answered (or `tries` calls)."""
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(tries):
            stats = await self.stats()
            seen[stats["replica_id"]] = stats
            if len(seen) >= replicas:
                break
        return seen

    async def close(self) -> None:
        """Drop the handle; disconnect from Ray only when `connect` connected."""
        self._handle = None
        if self._owns_ray:
            import ray

            await asyncio.to_thread(ray.shutdown)

    async def _call(self, response: Awaitable[T]) -> T:
        try:
            return await response
        except asyncio.CancelledError:
            cancel = getattr(response, "cancel", None)
            if cancel is not None:  # the job was cancelled or timed out: stop the replica's work too
                cancel()
            raise
        except Exception as exc:
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc


def _id(job_id: str | int | None) -> str | None:
    return None if job_id is None else str(job_id)
