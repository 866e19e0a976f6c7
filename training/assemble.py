"""From parsed shards to the compact corpus file: families, near-duplicates dropped, splits drawn."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from training.corpus import COLLECTIONS, LEFT_OUT, report, shard_records, works_from, write_compact
from training.families import group, summary


def assemble(root: Path) -> dict[str, object]:
    """Write `melodies.json.gz` from the shards under `root`; returns what was kept and dropped."""
    records = list(shard_records(root))  # every shard read once, for the works and the report
    works = works_from(records)
    order = {c: i for i, c in enumerate(COLLECTIONS)}
    works.sort(key=lambda w: (order.get(w.collection, len(order)), w.id))  # earlier collections are kept
    families = group([[p for _, _, p in w.notes] for w in works])
    ids = [w.id for w in works]
    kept = []
    dropped: Counter[str] = Counter()
    for i, work in enumerate(works):
        if families.duplicate_of[i] is not None:
            dropped[work.collection] += 1
            continue
        work.split = families.split_of(ids, i)
        kept.append(work)
    write_compact(root, kept)
    splits = Counter(w.split for w in kept)
    per_collection = report(records)
    for collection, counts in per_collection.items():
        counts["near_duplicates_dropped"] = dropped.get(collection, 0)
        counts["in_corpus"] = counts.get("kept", 0) - dropped.get(collection, 0)
    return {"collections": per_collection, "families": summary(families), "splits": dict(splits),
            "left_out": LEFT_OUT}
