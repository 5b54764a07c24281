"""Communication factor of training across halls and sites (:mod:`gigawatt.perf.crosssite`)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf import crosssite as cs
from gigawatt.perf.routing import great_circle_km


def test_ring_allreduce_matches_the_hand_formula() -> None:
    # 140 GB (70B parameters, BF16) over 2 islands at 800 Gbit/s, 5 ms one way:
    # 2·(1/2)·140e9·8/800e9 = 1.4 s, + 2·1·0.005 = 0.01 s
    assert_allclose(cs.ring_allreduce_s(140e9, 2, 800.0, 0.005), 1.41, rtol=1e-12)
    # 4 islands: 2·(3/4)·S·8/B + 6α
    assert_allclose(cs.ring_allreduce_s(1e9, 4, 10.0, 0.001), 1.5 * 0.8 + 0.006, rtol=1e-12)


def test_one_island_sends_nothing_and_arrays_broadcast() -> None:
    assert cs.ring_allreduce_s(1e12, 1, 1.0, 1.0) == pytest.approx(0.0, abs=1e-15)
    t = cs.ring_allreduce_s(np.array([1e9, 2e9]), np.array([[1], [2], [3]]), 8.0)
    assert t.shape == (3, 2)
    assert_allclose(t[0], 0.0, atol=1e-15)
    assert_allclose(t[1], [1.0, 2.0], rtol=1e-12)  # 2·(1/2)·8e9/8e9


def test_step_compute_time() -> None:
    # 6 · 10e9 · 1,048,576 / (8 · 400e12) = 19.66 s
    assert_allclose(cs.step_compute_s(10e9, 1_048_576, 8, 400.0), 6 * 10e9 * 1_048_576 / 3.2e15, rtol=1e-12)


def test_throughput_factor_formula_and_limits() -> None:
    assert cs.span_throughput_factor(1.0) == pytest.approx(1.0, abs=1e-15)
    # synchronous: t_c = 2 s, campus 0.5 s, WAN 1.5 s -> 2 / (2 + 0.5 + 1.5) = 0.5
    assert cs.span_throughput_factor(2.0, 0.5, 1.5) == pytest.approx(0.5, rel=1e-12)
    # DiLoCo, H = 100, WAN 400 s per sync: 100·20 / (100·20 + 400) = 0.8333
    assert cs.span_throughput_factor(20.0, 0.0, 400.0, 100) == pytest.approx(2000 / 2400, rel=1e-12)
    # full overlap hides what fits in the window, the rest stays exposed
    assert cs.span_throughput_factor(20.0, 0.0, 400.0, 100, wan_overlap_frac=1.0) == pytest.approx(1.0)
    assert cs.span_throughput_factor(1.0, 3.0, 0.0, campus_overlap_frac=0.5) == pytest.approx(1 / 3.5)


def test_exposed_comm_and_monotonicity() -> None:
    assert_allclose(cs.exposed_comm_s([1.0, 5.0], 4.0, 0.5), [0.0, 3.0], atol=1e-15)
    bw = np.array([1.0, 10.0, 100.0, 1000.0])
    f = cs.span_throughput_factor(1.0, 0.0, cs.ring_allreduce_s(10e9, 2, bw))
    assert np.all(np.diff(f) > 0) and np.all((f > 0) & (f <= 1))


def test_fibre_latency_is_about_5_us_per_km() -> None:
    assert cs.fibre_latency_s(1000.0, route_factor=1.0) == pytest.approx(5e-3, rel=1e-12)
    # Wisconsin (Mount Pleasant) to Atlanta: ≈ 1,100 km great circle; × 2.1 route at 5 µs/km ≈ 11 ms one way
    d = great_circle_km(42.7, -87.9, 33.75, -84.39)
    assert 1000 < float(d) < 1100
    assert cs.fibre_latency_s(d) == pytest.approx(float(d) * 2.1 * 5e-6, rel=1e-12)
