"""A smoothed n-gram baseline on the same tokens (interpolated absolute discounting, Kneser-Ney style
without continuation counts): the bar the transformer's held-out likelihood must clear."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

DISCOUNT = 0.75


class NGram:
    def __init__(self, order: int, vocab_size: int):
        self.order, self.vocab_size = order, vocab_size
        self.counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]

    def fit(self, sequences: list[np.ndarray]) -> "NGram":
        for seq in sequences:
            seq = [int(t) for t in seq]
            for i in range(1, len(seq)):
                for n in range(self.order):  # n = context length
                    if i - n < 0:
                        break
                    self.counts[n][tuple(seq[i - n:i])][seq[i]] += 1
        self.totals = [{ctx: sum(c.values()) for ctx, c in level.items()} for level in self.counts]
        return self

    def prob(self, context: tuple, token: int) -> float:
        p = 1.0 / self.vocab_size
        for n in range(self.order):
            if n > len(context):
                break
            ctx = context[len(context) - n:] if n else ()
            counter = self.counts[n].get(ctx)
            if not counter:
                break
            total = self.totals[n][ctx]
            lam = DISCOUNT * len(counter) / total
            p = max(counter.get(token, 0) - DISCOUNT, 0) / total + lam * p
        return p

    def nll(self, sequences: list[np.ndarray]) -> tuple[float, int]:
        """Mean NLL (nats) per predicted token, predicting every token after the first."""
        total, count = 0.0, 0
        for seq in sequences:
            seq = [int(t) for t in seq]
            for i in range(1, len(seq)):
                total -= math.log(self.prob(tuple(seq[max(0, i - self.order + 1):i]), seq[i]))
                count += 1
        return total / max(1, count), count


class NGramStepper:
    """The n-gram behind the sampler's model interface (`new_cache`, `step`, `n_positions`), so it
    writes melodies under exactly the constraints the transformer gets."""

    def __init__(self, ngram: NGram, n_positions: int):
        self.ngram, self.n_positions = ngram, n_positions
        self._levels = [{ctx: (np.fromiter(c.keys(), dtype=np.int64), np.fromiter(c.values(), dtype=np.float64))
                         for ctx, c in level.items()} for level in ngram.counts]

    def new_cache(self, batch: int) -> dict:
        return {"history": [[] for _ in range(batch)]}

    def distribution(self, context: list[int]) -> np.ndarray:
        p = np.full(self.ngram.vocab_size, 1.0 / self.ngram.vocab_size)
        for n in range(self.ngram.order):
            if n > len(context):
                break
            ctx = tuple(context[len(context) - n:]) if n else ()
            found = self._levels[n].get(ctx)
            if found is None:
                break
            tokens, counts = found
            total = counts.sum()
            p = p * (DISCOUNT * len(tokens) / total)
            p[tokens] += np.maximum(counts - DISCOUNT, 0) / total
        return p

    def step(self, ids, cache: dict, counts: list[int] | None = None) -> np.ndarray:
        rows = []
        for row, (history, new) in enumerate(zip(cache["history"], np.asarray(ids).tolist())):
            history.extend(new[:counts[row]] if counts is not None else new)  # the rest is padding
            rows.append(np.log(self.distribution(history[-(self.ngram.order - 1):])))
        return np.stack(rows).astype(np.float32)
