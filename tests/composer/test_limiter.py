"""The limiter and the loudness match work only where they must and give the whole-signal answers."""

import numpy as np
import pytest

from composer.audio.loudness import _block_power, integrated_lufs, k_weighted, weighted_lufs
from composer.audio.mix import TARGET_LUFS, limit, normalise
from composer.audio.render import SAMPLE_RATE
from composer.audio.running import running_mean, running_min


def _dense_limit(audio: np.ndarray, ceiling: float, lookahead_s: float = 0.003) -> np.ndarray:
    """The limiter's gain curve computed over every sample, as the definition reads."""
    peaks = np.abs(audio).max(axis=1)
    needed = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peaks, np.float32(1e-9)))
    window = max(1, int(lookahead_s * SAMPLE_RATE))
    gain = running_mean(running_min(needed, 2 * window + 1), window)
    return audio * np.minimum(gain, needed)[:, None]


def _signal(seconds: float, spikes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    audio = (rng.standard_normal((int(seconds * SAMPLE_RATE), 2)) * 0.05).astype(np.float32)
    at = rng.integers(0, len(audio), size=spikes)
    audio[at] *= 40  # isolated peaks, some close enough together to share a stretch
    audio[:3] *= 30  # and some at the very edges
    audio[-2:] *= 30
    return audio


@pytest.mark.parametrize("spikes", [1, 30, 3000])
def test_limiting_only_near_peaks_gives_the_whole_signal_curve(spikes):
    audio = _signal(5.0, spikes, spikes)
    np.testing.assert_allclose(limit(audio, 0.87), _dense_limit(audio, 0.87), rtol=1e-6, atol=1e-7)
    assert np.abs(limit(audio, 0.87)).max() <= 0.87 + 1e-6


def test_nothing_over_the_ceiling_is_returned_as_it_is():
    audio = _signal(1.0, 0, 1) * 0.1
    assert limit(audio, 0.87) is audio


def test_block_power_by_hops_matches_the_running_sum():
    weighted = np.random.default_rng(3).standard_normal((SAMPLE_RATE * 3 + 1234, 2)).astype(np.float32)
    block, hop = int(0.4 * SAMPLE_RATE), int(0.1 * SAMPLE_RATE)
    squares = np.cumsum(np.concatenate([np.zeros((1, 2)), weighted.astype(np.float64) ** 2]), axis=0)
    starts = np.arange(0, len(weighted) - block + 1, hop)
    expected = ((squares[starts + block] - squares[starts]) / block).sum(axis=1)
    np.testing.assert_allclose(_block_power(weighted, block, hop), expected, rtol=1e-9)


@pytest.mark.parametrize("spikes", [0, 40, 4000])
def test_normalise_reaches_the_target_as_measuring_afresh_would(spikes):
    audio = _signal(8.0, spikes, 11) * 0.5
    out = normalise(audio)
    if spikes <= 40:  # thousands of peaks limited hard leave it quieter, as two passes always did
        assert integrated_lufs(out, SAMPLE_RATE) == pytest.approx(TARGET_LUFS, abs=0.1)
    assert np.abs(out).max() <= 10 ** (-1 / 20)
    # the second pass's loudness, from the updated weighted copy, is what weighting afresh gives
    ceiling = 10 ** (-1 / 20) * 0.98
    scaled = audio * np.float32(10 ** ((TARGET_LUFS - integrated_lufs(audio, SAMPLE_RATE)) / 20))
    limited = limit(scaled, ceiling)
    if limited is not scaled:
        again = _dense_limit(limited * np.float32(10 ** ((TARGET_LUFS - integrated_lufs(limited, SAMPLE_RATE)) / 20)),
                             ceiling)
        np.testing.assert_allclose(out, again, rtol=1e-4, atol=1e-6)


def test_weighted_lufs_is_integrated_lufs_of_the_weighted_signal():
    audio = _signal(3.0, 5, 2)
    assert weighted_lufs(k_weighted(audio, SAMPLE_RATE), SAMPLE_RATE) == integrated_lufs(audio, SAMPLE_RATE)
