"""A bot process's side of MUSE_COMPOSER=ray, run as its own process (not yet connected to Ray, as
`muse bot` is): open the remote worker, compose and finish a piece through the tier, close; prints
one JSON object of what happened and how long it took.

    python -m tests.composer_tier.bot_side RAY_ADDRESS DATA_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def rss_mb() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 // 2**20


async def run(address: str, data_dir: Path) -> dict[str, Any]:
    import ray

    from bot.config import BotConfig, ScaleOut
    from bot.remote_worker import close_remote_worker, open_remote_worker
    from composer import load_catalog
    from storage import ArtifactStore

    out: dict[str, Any] = {"rss_start_mb": rss_mb()}
    reader = ThreadPoolExecutor(max_workers=1)
    config = BotConfig(token="t", data_dir=data_dir, scale=ScaleOut(composer="ray", ray_address=address))
    started = time.perf_counter()
    worker = await open_remote_worker(config, load_catalog(None), ArtifactStore(data_dir), reader)
    out["open_s"], out["rss_open_mb"] = time.perf_counter() - started, rss_mb()
    request = await worker.understand("happy birthday", {"seed": 5, "length": 6, "engine": "model"})
    started = time.perf_counter()
    (draft,), _ = await worker.compose([request], job_ids=[1])
    out["compose_s"] = time.perf_counter() - started
    started = time.perf_counter()
    done = await worker.finish(draft, 8_000_000, job_id=1)
    out["finish_s"] = time.perf_counter() - started
    out["stored"] = sorted(f.kind for f in done.stored)
    out["files_exist"] = all(worker.artifacts.exists(f.path) for f in done.stored)
    out["melody_model_here"] = any(m == "torch" or m.startswith("composer.melody.model") for m in sys.modules)
    await close_remote_worker(worker)
    out["ray_connected_after_close"] = ray.is_initialized()
    reader.shutdown()
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(sys.argv[1], Path(sys.argv[2])))))
