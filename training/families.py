"""Tune families: near-duplicates removed, and the split drawn by family, not by tune.

The same tune often sits in two collections (O'Neill's and Ryan's) or twice in one, transposed or
with a few notes changed. Each tune is reduced to the set of its pitch-interval 6-grams (key- and
rhythm-free); MinHash with banded locality-sensitive hashing finds candidate pairs and their exact
Jaccard similarity decides. Pairs at FAMILY_JACCARD or above join one family (union-find), so a
tune and its variants are all train or all test; within a family, a tune at DUPLICATE_JACCARD or
above of one kept earlier is dropped.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

SHINGLE = 6
HASHES, BANDS = 64, 16  # 16 bands of 4 rows: pairs near Jaccard 0.5 meet with probability ~0.65
FAMILY_JACCARD = 0.4
DUPLICATE_JACCARD = 0.7
SPLIT_BUCKETS = 100  # by hash of the family: 0-89 train, 90-94 validation, 95-99 test
_PRIME = (1 << 61) - 1


def shingles(pitches: list[int]) -> set[int]:
    steps = np.diff(np.asarray(pitches, dtype=np.int64))
    return {zlib.crc32(steps[i:i + SHINGLE].tobytes()) for i in range(max(0, len(steps) - SHINGLE + 1))}


def _minhash(sets: list[set[int]], seed: int = 0) -> np.ndarray:
    """HASHES minima of random affine hashes per set (uint64 arithmetic wraps; still a hash family)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, HASHES, dtype=np.uint64)
    b = rng.integers(0, _PRIME, HASHES, dtype=np.uint64)
    out = np.full((len(sets), HASHES), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(sets):
        if s:
            x = np.fromiter(s, dtype=np.uint64)[:, None]
            out[i] = ((x * a + b) % np.uint64(_PRIME)).min(axis=0)
    return out


def _candidates(signatures: np.ndarray) -> set[tuple[int, int]]:
    rows = HASHES // BANDS
    pairs: set[tuple[int, int]] = set()
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = {}
        for i, sig in enumerate(signatures[:, band * rows:(band + 1) * rows]):
            buckets.setdefault(sig.tobytes(), []).append(i)
        for members in buckets.values():
            if 1 < len(members) <= 200:  # a giant bucket is empty or trivial tunes
                pairs.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return pairs


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / max(1, len(a | b))


@dataclass
class Families:
    family: list[int]  # family root index per tune
    duplicate_of: list[int | None]  # the kept tune each dropped near-duplicate repeats
    pairs_checked: int

    def split_of(self, ids: list[str], i: int) -> str:
        bucket = zlib.crc32(ids[self.family[i]].encode()) % SPLIT_BUCKETS
        return "train" if bucket < 90 else "val" if bucket < 95 else "test"


def group(pitch_lists: list[list[int]], seed: int = 0) -> Families:
    """Families and near-duplicates of the tunes, given in priority order (earlier tunes are kept)."""
    sets = [shingles(p) for p in pitch_lists]
    pairs = _candidates(_minhash(sets, seed))
    parent = list(range(len(sets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    similar: list[tuple[int, int, float]] = []
    for a, b in pairs:
        score = jaccard(sets[a], sets[b])
        if score >= FAMILY_JACCARD:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
            similar.append((a, b, score))
    duplicate_of: list[int | None] = [None] * len(sets)
    for a, b, score in sorted(similar, key=lambda t: (t[0], t[1])):
        if score >= DUPLICATE_JACCARD and duplicate_of[a] is None and duplicate_of[b] is None:
            duplicate_of[b] = a  # b comes later in priority order
    return Families([root(i) for i in range(len(sets))], duplicate_of, len(pairs))


def summary(families: Families) -> dict[str, int]:
    sizes = Counter(families.family)
    return {"families": len(sizes), "tunes_in_shared_families": sum(n for n in sizes.values() if n > 1),
            "near_duplicates_dropped": sum(d is not None for d in families.duplicate_of),
            "candidate_pairs": families.pairs_checked}
