"""What a composer replica has done, kept on the replica: the bench reads batch sizes and timings
through `ComposerDeployment.stats()`, Ray's Prometheus endpoint gets the same through Serve metrics."""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

RECENT = 1000  # batches remembered one by one; the totals count every batch


@dataclass
class ReplicaStats:
    replica_id: str
    engine: str
    max_batch_size: int
    batch_wait_timeout_s: float
    pid: int = field(default_factory=os.getpid)
    batches: int = 0
    pieces: int = 0  # drafts composed in batches (remixes counted apart)
    remixes: int = 0
    finished: int = 0
    failed: int = 0
    composing: int = 0  # compose calls on this replica now: waiting for their batch or in its pass
    compose_s: float = 0.0
    finish_s: float = 0.0
    batch_sizes: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT))
    batch_s: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))

    def batch(self, size: int, seconds: float) -> None:
        self.batches += 1
        self.pieces += size
        self.compose_s += seconds
        self.batch_sizes.append(size)
        self.batch_s.append(seconds)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (lists, numbers) so it crosses Ray and JSON as is."""
        return {"replica_id": self.replica_id, "engine": self.engine, "pid": self.pid,
                "max_batch_size": self.max_batch_size, "batch_wait_timeout_s": self.batch_wait_timeout_s,
                "composing": self.composing, "batches": self.batches,
                "pieces": self.pieces, "remixes": self.remixes, "finished": self.finished, "failed": self.failed,
                "compose_s": self.compose_s, "finish_s": self.finish_s, "batch_sizes": list(self.batch_sizes),
                "batch_s": list(self.batch_s)}
