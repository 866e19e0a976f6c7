"""Integrated loudness (ITU-R BS.1770-4, K-weighted, gated) so every piece plays at about -14 LUFS."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def _biquad_high_shelf(rate: int) -> tuple[np.ndarray, np.ndarray]:
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / rate)
    vh, vb = 10 ** (gain_db / 20), (10 ** (gain_db / 20)) ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b = np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0])
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return b, a


def _biquad_high_pass(rate: int) -> tuple[np.ndarray, np.ndarray]:
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    b = np.array([1.0, -2.0, 1.0])
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return b, a


def integrated_lufs(audio: np.ndarray, rate: int) -> float:
    """Loudness of a (frames, channels) float signal in LUFS; -inf for silence."""
    if audio.ndim == 1:
        audio = audio[:, None]
    b1, a1 = _biquad_high_shelf(rate)
    b2, a2 = _biquad_high_pass(rate)
    weighted = lfilter(b2, a2, lfilter(b1, a1, audio, axis=0), axis=0)
    block, hop = int(0.4 * rate), int(0.1 * rate)
    if len(weighted) < block:
        return float("-inf")
    starts = np.arange(0, len(weighted) - block + 1, hop)
    squares = np.cumsum(np.concatenate([np.zeros((1, weighted.shape[1])), weighted ** 2]), axis=0)
    power = ((squares[starts + block] - squares[starts]) / block).sum(axis=1)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(power)
    gated = power[loud > -70]
    if gated.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    final = power[(loud > -70) & (loud > relative)]
    return float(-0.691 + 10 * np.log10(final.mean()))
