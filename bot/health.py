"""Health, readiness and metrics of one bot process over HTTP (MUSE_HEALTH_PORT; off by default).

`/healthz` is liveness: it answers while the event loop runs, so an orchestrator restarts a process
whose loop is stuck. `/readyz` is readiness: 200 only when every gateway shard this process runs is
connected, the database answers a trivial read and the composer worker runs; otherwise 503 with a
JSON body naming each part that is not ready. `/metrics` is the Prometheus text format
(`bot.metrics`). Probes are not access-logged: they come every few seconds.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import discord
from aiohttp import web

from bot.config import ConfigError
from bot.job_queue import JobQueue
from storage import Database

READY_CHECK_TIMEOUT_S = 2.0  # a database or composer slower than this is not ready
_STATE = web.AppKey("muse_health", dict)


async def start_health_server(bot: discord.Client, queue: JobQueue, db: Database, port: int, *,
                              host: str = "0.0.0.0") -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on `port` (0: any free port, see `bound_port`) until
    `stop_health_server`. Needs prometheus_client (the `scaleout` extra)."""
    try:
        from bot.metrics import BotMetrics, gpu_reader
    except ImportError as exc:
        raise ConfigError(f"MUSE_HEALTH_PORT needs the scaleout extra (pip install 'muse[scaleout]'): {exc}") from exc
    metrics = BotMetrics(queue, gpu_reader())
    metrics.attach()
    app = web.Application()
    app[_STATE] = {"bot": bot, "queue": queue, "db": db, "metrics": metrics}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        metrics.detach()
        await runner.cleanup()
        raise
    return runner


async def stop_health_server(runner: web.AppRunner) -> None:
    """Stop answering and stop feeding this bot's metrics."""
    app = runner.app
    await runner.cleanup()
    if app is not None:
        app[_STATE]["metrics"].detach()


def bound_port(runner: web.AppRunner) -> int:
    """The port the server listens on (useful after asking for port 0)."""
    return int(runner.addresses[0][1])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    problems = await not_ready(state["bot"], state["queue"], state["db"])
    if problems:
        return web.json_response({"status": "not ready", "not_ready": problems}, status=503)
    return web.json_response({"status": "ready"})


async def metrics_page(request: web.Request) -> web.Response:
    from bot.metrics import CONTENT_TYPE

    body = request.app[_STATE]["metrics"].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def not_ready(bot: discord.Client, queue: JobQueue, db: Database,
                    timeout_s: float = READY_CHECK_TIMEOUT_S) -> dict[str, str]:
    """What keeps this process from serving, by part (gateway, database, composer); empty when ready."""
    found = {"gateway": gateway_problem(bot), "database": await database_problem(db, timeout_s),
             "composer": await composer_problem(bot, queue, timeout_s)}
    return {part: why for part, why in found.items() if why}


def gateway_problem(client: discord.Client) -> str | None:
    """Every shard this process runs is connected (a plain client runs one connection)."""
    if client.is_closed():
        return "the client is closed"
    if not client.is_ready():
        return "not connected to the gateway yet"
    shards = getattr(client, "shards", None)  # an AutoShardedClient: {shard id: ShardInfo}
    if isinstance(shards, dict) and shards:
        down = sorted(i for i, shard in shards.items() if shard.is_closed())
        return f"shards {down} are disconnected" if down else None
    ws = client.ws
    return None if ws is not None and ws.open else "the gateway connection is down (reconnecting)"


async def database_problem(db: Database, timeout_s: float) -> str | None:
    """A trivial read through the same repository the queue uses, on either backend."""
    try:
        await asyncio.wait_for(db.jobs.get(0), timeout_s)
    except asyncio.TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as exc:  # closed, unreachable, locked: the reason goes to the probe's body
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


async def composer_problem(bot: discord.Client, queue: JobQueue, timeout_s: float) -> str | None:
    """The worker task composes; a worker that can say more (a remote composer tier) is asked too,
    through an optional `async unready_reason() -> str | None`."""
    if getattr(bot, "start_worker", True):
        task = getattr(bot, "worker_task", None)
        if task is None:
            return "the composer worker has not started"
        if task.done():
            return "the composer worker has stopped"
    ask = getattr(queue.worker, "unready_reason", None)
    if ask is None:
        return None
    try:
        answer: Any = ask()
        return await asyncio.wait_for(answer, timeout_s) if inspect.isawaitable(answer) else answer
    except asyncio.TimeoutError:
        return f"the composer did not answer within {timeout_s:g} s"
    except Exception as exc:  # a remote tier that cannot be reached is simply not ready
        return f"{type(exc).__name__}: {exc}"
