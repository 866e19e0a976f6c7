"""Storage speed: insert throughput and history-page latency for a member with 10,000 pieces.

Run: `.venv/bin/python bench/bench_storage.py` (add `--json` for machine-readable output).
Uses a real SQLite file in a temporary directory, with the same pragmas as the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bench.common import header  # noqa: E402
from storage import NewComposition, NewJob, StoredFile, open_database  # noqa: E402

OWNER = 42
GUILD = 7


def _piece(i: int, owner: int = OWNER) -> NewComposition:
    """About the size of a real record: request, three files, timings."""
    digest = f"{i:064x}"
    return NewComposition(
        owner_id=owner,
        prompt=f"a slow sad piano song in D minor, take {i}",
        request={"prompt": "a slow sad piano song", "theme": "sad", "voice": "piano", "tempo": 72,
                 "key": "D minor", "meter": "4/4", "length_s": 30, "pitch": 0, "seed": i, "lyrics": None},
        seed=i,
        engine="model",
        checkpoint="muse-5m",
        engine_version="0.1.0",
        description="A slow, tender piece in D minor for solo piano.",
        files=tuple(StoredFile(kind, f"artifacts/{digest[:2]}/{digest}{ext}", digest, 100_000)
                    for kind, ext in (("midi", ".mid"), ("audio", ".mp3"), ("image", ".png"))),
        timings_s={"understand": 0.01, "compose": 0.8, "render": 0.3, "encode": 0.2, "total": 1.3},
        guild_id=GUILD,
        channel_id=1,
    )


async def _timed(coro_factory, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await coro_factory()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def _summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {"median_ms": statistics.median(ordered), "p95_ms": ordered[int(0.95 * (len(ordered) - 1))]}


async def run(pieces: int, repeat: int, single_inserts: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with open_database(Path(tmp) / "muse.sqlite3") as db:
            # 1. One piece per transaction, as the bot writes them.
            lat = await _timed(lambda: db.compositions.add(_piece(0, owner=1)), single_inserts)
            results["insert_single"] = {**_summary(lat), "per_s": 1000.0 / statistics.median(lat), "n": float(single_inserts)}

            # 2. Batches of 100 per transaction (variations, imports): seeds the big history.
            batch_s: list[float] = []
            for start in range(0, pieces, 100):
                batch = [_piece(i) for i in range(start, min(start + 100, pieces))]
                t0 = time.perf_counter()
                await db.compositions.add_many(batch)
                batch_s.append((time.perf_counter() - t0) / len(batch))
            results["insert_batched"] = {"per_s": 1.0 / statistics.median(batch_s), "n": float(pieces)}
            # other members' noise in the same tables
            for start in range(0, pieces, 100):
                await db.compositions.add_many([_piece(i, owner=1000 + i % 50) for i in range(start, start + 100)])

            assert await db.compositions.count_for_user(OWNER) == pieces
            page = await db.compositions.history_for_user(OWNER, limit=20)
            assert len(page.items) == 20 and all(len(c.files) == 3 for c in page.items)
            # the id half-way through the member's history, to page on from there
            middle = (await db.compositions.history_for_user(OWNER, limit=1, offset=pieces // 2)).items[0].id

            results["history_first_page"] = _summary(
                await _timed(lambda: db.compositions.history_for_user(OWNER, limit=20), repeat))
            results["history_keyset_deep"] = _summary(
                await _timed(lambda: db.compositions.history_for_user(OWNER, limit=20, before_id=middle), repeat))
            results["history_offset_5000"] = _summary(
                await _timed(lambda: db.compositions.history_for_user(OWNER, limit=20, offset=5000), repeat))
            results["guild_first_page"] = _summary(
                await _timed(lambda: db.compositions.history_for_guild(GUILD, limit=20), repeat))
            results["count_for_user"] = _summary(await _timed(lambda: db.compositions.count_for_user(OWNER), repeat))

            async def enqueue_claim_complete() -> None:
                job = await db.jobs.enqueue(NewJob(requester_id=OWNER, payload={"prompt": "x"}))
                claimed = await db.jobs.claim_next()
                assert claimed is not None and claimed.id == job.id
                await db.jobs.complete(job.id)

            results["job_enqueue_claim_complete"] = _summary(await _timed(enqueue_claim_complete, repeat))
    return results


def main(argv: list[str] | None = None) -> int:
    """`argv=None` (as `python -m bench` calls it) means the defaults, not sys.argv."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pieces", type=int, default=10_000, help="pieces in the member's history")
    parser.add_argument("--repeat", type=int, default=300, help="samples per latency figure")
    parser.add_argument("--single-inserts", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args([] if argv is None else argv)
    results = asyncio.run(run(args.pieces, args.repeat, args.single_inserts))
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "pieces": args.pieces, "repeat": args.repeat}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    header("Storage (SQLite via aiosqlite)")
    print(f"A member with {args.pieces:,} pieces (3 files each) plus as many from 50 others; "
          f"latency medians of {args.repeat} samples.\n")
    print("| measure | median | p95 |")
    print("|---|---|---|")
    for name, value in results.items():
        if "median_ms" in value:
            extra = f" ({value['per_s']:.0f}/s)" if "per_s" in value else ""
            print(f"| {name} | {value['median_ms']:.2f} ms{extra} | {value['p95_ms']:.2f} ms |")
        else:
            print(f"| {name} | {value['per_s']:.0f} pieces/s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
