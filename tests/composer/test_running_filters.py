"""The limiter's running minimum and mean give scipy.ndimage's answers, edges included."""

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from composer.audio.running import running_mean, running_min


@pytest.mark.parametrize("size", [1, 2, 3, 7, 132, 265, 1000])
@pytest.mark.parametrize("length", [1, 5, 264, 4096])
def test_running_filters_match_scipy(size, length):
    x = np.random.default_rng(size * 7919 + length).uniform(0.2, 1.0, length)
    assert np.array_equal(running_min(x, size), minimum_filter1d(x, size=size, mode="nearest"))
    np.testing.assert_allclose(running_mean(x, size), uniform_filter1d(x, size=size, mode="nearest"),
                               rtol=1e-9, atol=1e-12)
