"""Tests for gigawatt.perf.fleet.operating_point (replica operating point and capacity)."""

from __future__ import annotations

import numpy as np

from gigawatt.perf.fleet import (
    replica_capacity_per_s,
    replica_operating_point,
)


def test_operating_point_monotone(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    mu = replica_capacity_per_s(perf, ts)
    T, B = replica_operating_point(np.array([0.0, 0.3, 0.6, 0.9]) * mu, perf, ts)
    assert np.all(np.diff(T) > 0) and np.all(np.diff(B) > 0) and B[0] == 0
    T_over, _ = replica_operating_point([1.2 * mu], perf, ts)
    assert T_over[0] == np.inf
