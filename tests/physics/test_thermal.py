"""Tests for gigawatt.physics.thermal."""

import numpy as np
from numpy.testing import assert_allclose

from gigawatt.physics import thermal as th
from gigawatt.physics.it_power import dvfs_dynamic_power_frac


def test_max_it_power_solves_heat_balance() -> None:
    def loss(p: np.ndarray) -> np.ndarray:
        return 10.0 + 0.02 * p + 1e-5 * p**2

    cap = np.array([0.0, 500.0, 1000.0, np.inf])
    p = th.max_it_power_for_capacity_kw(cap, loss)
    assert_allclose((p + loss(p))[1:3], cap[1:3], rtol=1e-9)
    assert p[0] == 0.0 and np.isinf(p[3])


def test_throttle_fits_exactly_and_only_when_needed() -> None:
    fixed, dyn = np.array([300.0, 300.0, 300.0, 300.0]), np.array([700.0, 700.0, 0.0, 700.0])
    pmax = np.array([1200.0, 900.0, 200.0, 100.0])
    x = th.thermal_throughput_frac(pmax, fixed, dyn, exponent=2.5, min_throughput_frac=0.3)
    assert x[0] == 1.0  # fits
    assert_allclose(fixed[1] + dyn[1] * dvfs_dynamic_power_frac(x[1], 2.5), 900.0, rtol=1e-12)
    assert x[2] == 1.0  # nothing to throttle
    assert x[3] == 0.3  # floor: cannot fit even at minimum clocks
