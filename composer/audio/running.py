"""Running minimum and running mean along a 1-D signal, edges held ("nearest"), in plain numpy.

The same results as scipy.ndimage's minimum_filter1d and uniform_filter1d (tested against them);
written here so the instrumental path does not import scipy.ndimage on every cold start.
"""

from __future__ import annotations

import numpy as np


def _padded(x: np.ndarray, size: int) -> np.ndarray:
    """x with its edges held for a centred window of `size` (scipy's origin 0)."""
    before = size // 2
    after = size - 1 - before
    return np.concatenate([np.full(before, x[0]), x, np.full(after, x[-1])]) if len(x) else x


def running_min(x: np.ndarray, size: int) -> np.ndarray:
    """Minimum over each centred window of `size` samples (van Herk / Gil-Werman, O(n))."""
    if size <= 1 or len(x) == 0:
        return x.copy()
    padded = _padded(x, size)
    n = len(x)
    blocks = -(-len(padded) // size)
    tail = blocks * size - len(padded)
    grid = np.concatenate([padded, np.full(tail, padded[-1])]).reshape(blocks, size)
    ahead = np.minimum.accumulate(grid, axis=1).ravel()  # min from each block's start to here
    behind = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()  # min from here to block end
    # window [i, i + size - 1]: the rest of i's block, then the start of the next block up to its end
    return np.minimum(behind[:n], ahead[size - 1:size - 1 + n])


def running_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over each centred window of `size` samples."""
    if size <= 1 or len(x) == 0:
        return x.copy()
    sums = np.concatenate([[0.0], np.cumsum(_padded(x, size), dtype=np.float64)])
    return ((sums[size:] - sums[:-size]) / size).astype(x.dtype)
