"""Tests for gigawatt.perf.queueing."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf.queueing import (
    erlang_b,
    erlang_c,
    ggc_wait_mean_s,
    mmc_wait_mean_s,
    mmc_wait_percentile_s,
    mmc_wait_prob_exceeds,
    servers_for_wait_percentile,
)


def _erlang_b_recursion(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (2, 1.0), (10, 8.0), (100, 95.0), (2000, 1950.0)])
def test_erlang_b_matches_recursion(c: int, a: float) -> None:
    assert_allclose(erlang_b(c, a), _erlang_b_recursion(c, a), rtol=1e-10)


def test_erlang_c_known_values() -> None:
    assert_allclose(erlang_c(2, 1.0), 1 / 3, rtol=1e-12)  # M/M/2 at rho = 0.5 (Kleinrock 1975, §3.5)
    assert_allclose(erlang_c(1, 0.7), 0.7, rtol=1e-12)  # M/M/1: P(wait) = rho
    assert erlang_c(3, 3.0) == 1.0  # unstable


def test_mm1_formulas() -> None:
    lam, mu = 0.8, 1.0
    assert_allclose(mmc_wait_mean_s(1, lam, mu), lam / (mu * (mu - lam)), rtol=1e-12)
    t99 = mmc_wait_percentile_s(0.99, 1, lam, mu)
    assert_allclose(mmc_wait_prob_exceeds(t99, 1, lam, mu), 0.01, rtol=1e-9)
    assert mmc_wait_mean_s(1, 1.0, 1.0) == np.inf
    assert mmc_wait_percentile_s(0.5, 10, 1.0, 1.0) == 0.0  # P(wait) < 0.5 -> median wait 0


def test_allen_cunneen_scales_mmc() -> None:
    assert_allclose(ggc_wait_mean_s(4, 3.0, 1.0, 1.0, 0.0), 0.5 * mmc_wait_mean_s(4, 3.0, 1.0))


def test_sizing_is_minimal() -> None:
    lam = np.array([0.0, 5.0, 50.0, 500.0])
    c = servers_for_wait_percentile(lam, 1.0, 0.2, q=0.99)
    assert c[0] == 0
    for ci, li in zip(c[1:], lam[1:], strict=True):
        assert mmc_wait_percentile_s(0.99, ci, li, 1.0) <= 0.2
        assert mmc_wait_percentile_s(0.99, ci - 1, li, 1.0) > 0.2
    capped = servers_for_wait_percentile(100.0, 1.0, 100.0, max_utilization_frac=0.8)
    assert capped == 125
    with pytest.raises(ValueError, match="q: percentile"):
        mmc_wait_percentile_s(99, 2, 1.0, 1.0)
