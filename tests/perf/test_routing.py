"""Routing math (gigawatt.perf.routing): distances, round trips, capacity-aware routing, failover shares."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf import routing as rt


def test_great_circle_is_symmetric_zero_on_the_diagonal_and_a_quarter_meridian_long() -> None:
    assert_allclose(rt.great_circle_km(0.0, 0.0, 90.0, 0.0), np.pi / 2 * rt.EARTH_RADIUS_KM, rtol=1e-12)
    assert_allclose(rt.great_circle_km(10.0, 20.0, 10.0, 20.0), 0.0, atol=1e-9)
    a = rt.great_circle_km(40.71, -74.01, 51.51, -0.13)
    b = rt.great_circle_km(51.51, -0.13, 40.71, -74.01)
    assert_allclose(a, b, rtol=1e-12)
    # antipodes: half the circumference
    assert_allclose(rt.great_circle_km(0.0, 0.0, 0.0, 180.0), np.pi * rt.EARTH_RADIUS_KM, rtol=1e-12)


def test_rtt_is_twice_the_inflated_path_over_the_fibre_speed_plus_overhead() -> None:
    assert_allclose(rt.network_rtt_s(1000.0), 2 * 1000 * 2.1 / 2.0e5, rtol=1e-12)
    assert_allclose(rt.network_rtt_s(1000.0, 1.5, 2.0e5, 0.01), 0.015 + 0.01, rtol=1e-12)
    assert_allclose(rt.network_rtt_s(0.0, overhead_s=0.005), 0.005, rtol=1e-12)


def test_each_user_goes_to_its_first_choice_when_capacity_allows() -> None:
    D = np.array([10.0, 20.0])
    r = rt.route_demand(D, [0.5, 0.3, 0.2], [[0, 1, 2], [1, 0, 2], [2, 1, 0]], np.full(3, np.inf))
    assert_allclose(r.placement_rps, np.outer(D, [0.5, 0.3, 0.2]), rtol=1e-12)
    assert_allclose(r.unrouted_rps, 0.0, atol=1e-12)


def test_a_full_placement_spills_to_the_next_choice_and_overflow_stays_with_the_first_available() -> None:
    D = np.array([10.0, 10.0, 10.0])
    cap = np.array([[6.0, 100.0], [3.0, 3.0], [0.0, 5.0]])
    avail = np.array([[True, True], [True, True], [False, True]])
    r = rt.route_demand(D, [1.0], [0, 1], cap, avail)
    assert_allclose(r.placement_rps[0], [6.0, 4.0], rtol=1e-12)  # spill-over
    assert_allclose(r.placement_rps[1], [7.0, 3.0], rtol=1e-12)  # both full: overflow to the first choice
    assert_allclose(r.overflow_rps[1], 4.0, rtol=1e-12)
    assert_allclose(r.placement_rps[2], [0.0, 10.0], atol=1e-12)  # placement 0 unavailable: nothing there
    none = rt.route_demand(D, [1.0], [0, 1], cap, np.zeros(2, dtype=bool))
    assert_allclose(none.unrouted_rps, D, rtol=1e-12)


def test_users_competing_for_one_placement_share_it_pro_rata() -> None:
    r = rt.route_demand(np.array([10.0]), [0.6, 0.4], [[0, 1], [0, 1]], [[5.0, 100.0]])
    assert_allclose(r.assigned_rps[0, :, 0], [3.0, 2.0], rtol=1e-12)
    assert_allclose(r.assigned_rps[0, :, 1], [3.0, 2.0], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_routing_conserves_demand_for_any_capacity_and_ranking(seed: int) -> None:
    rng = np.random.default_rng(seed)
    T, U, P = 50, 4, 3
    D = rng.uniform(0, 100, T)
    share = rng.dirichlet(np.ones(U))
    rank = np.argsort(rng.random((T, U, P)), axis=-1)
    cap = rng.uniform(0, 40, (T, P))
    avail = rng.random((T, P)) > 0.3
    r = rt.route_demand(D, share, rank, cap, avail)
    assert_allclose(r.assigned_rps.sum(axis=(1, 2)) + r.unrouted_rps, D, rtol=1e-12, atol=1e-9)
    assert np.all(r.assigned_rps >= 0)
    assert_allclose(np.where(avail, 0.0, r.placement_rps), 0.0, atol=1e-12)  # never to an unavailable one
    within = r.placement_rps <= cap + 1e-9
    assert np.all(within | (r.overflow_rps[:, None] > 0))  # beyond capacity only when everything is full


def test_failover_fraction_starts_after_the_delay_and_ends_after_recovery() -> None:
    down = np.array([0, 1, 1, 1, 0, 0, 0], dtype=bool)
    f = rt.failover_fraction(down, 300.0, 60.0, 400.0)
    assert_allclose(f, [0, 0.8, 1, 1, 1, 1 / 3, 0], rtol=1e-12, atol=1e-12)
    short = rt.failover_fraction(np.array([0, 1, 0], dtype=bool), 300.0, 600.0)  # shorter than the delay
    assert_allclose(short, 0.0, atol=1e-12)
    two = rt.failover_fraction(np.stack([down, np.roll(down, 2)], axis=1), 300.0, 0.0)
    assert_allclose(two[:, 1], [0, 0, 0, 1, 1, 1, 0], atol=1e-12)
    assert rt.outage_stretches(down) == [(1, 4)]
