"""Tests for gigawatt.perf.fleet.operating_point (replica operating point and capacity)."""

from __future__ import annotations

import numpy as np
import pytest

from gigawatt.perf.fleet import (
    TokenStats,
    replica_capacity_per_s,
    replica_curve,
    replica_operating_point,
)


def test_operating_point_monotone(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    mu = replica_capacity_per_s(perf, ts)
    T, B = replica_operating_point(np.array([0.0, 0.3, 0.6, 0.9]) * mu, perf, ts)
    assert np.all(np.diff(T) > 0) and np.all(np.diff(B) > 0) and B[0] == 0
    T_over, _ = replica_operating_point([1.2 * mu], perf, ts)
    assert T_over[0] == np.inf


def test_replica_curve_tabulated_once_per_content(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    a = replica_curve(perf, ts)
    # equal inputs (a new but equal TokenStats) give the same shared curve, whose arrays are read-only
    ts_copy = TokenStats(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(ts).items()})
    assert replica_curve(perf, ts_copy) is a
    with pytest.raises(ValueError, match="read-only"):
        a.lam[0] = 1.0
    # other inputs: another curve
    other = TokenStats(**{**vars(ts), "mean_output_tokens": ts.mean_output_tokens + 1.0})
    b = replica_curve(perf, other)
    assert b is not a
    assert replica_curve(perf, ts, n_grid=129) is not a
