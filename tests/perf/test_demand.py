"""Tests for gigawatt.perf.demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gigawatt.perf.demand import (
    arrivals_from_rate_s,
    daily_profile_frac,
    growth_factor,
    launch_spike_rate_per_s,
    lognormal_tokens,
    mmpp_multiplier,
    poisson_arrivals_s,
    replay_trace,
    weekly_profile_frac,
)


def test_poisson_count_and_determinism() -> None:
    a = poisson_arrivals_s(100.0, 1000.0, np.random.default_rng(1))
    b = poisson_arrivals_s(100.0, 1000.0, np.random.default_rng(1))
    assert_array_equal(a, b)
    assert abs(a.size - 100_000) < 5 * np.sqrt(100_000)
    assert np.all(np.diff(a) >= 0) and a[0] >= 0 and a[-1] < 1000


def test_arrivals_follow_piecewise_rate() -> None:
    rng = np.random.default_rng(2)
    rate = np.array([10.0, 0.0, 100.0])
    t = arrivals_from_rate_s(rate, 100.0, rng)
    counts = np.histogram(t, bins=[0, 100, 200, 300])[0]
    assert counts[1] == 0
    assert abs(counts[0] - 1000) < 5 * np.sqrt(1000) and abs(counts[2] - 10000) < 5 * 100
    with pytest.raises(ValueError, match="rate_per_s"):
        arrivals_from_rate_s([-1.0], 1.0, rng)


def test_profiles() -> None:
    h = np.arange(24) * 3600.0
    d = daily_profile_frac(h, peak_hour=14, trough_frac=0.3)
    assert d.argmax() == 14 and d.argmin() == 2
    assert_allclose([d.max(), d.min()], [1.0, 0.3])
    w = weekly_profile_frac(np.arange(7) * 86400.0 + 1.0, weekend_frac=0.6, start_weekday=0)
    assert_allclose(w, [1, 1, 1, 1, 1, 0.6, 0.6])
    assert_allclose(growth_factor(365.25 * 86400.0, 1.0), 2.0)


def test_launch_spike_100_to_10000() -> None:
    t = np.array([-1.0, 0.0, 1800.0, 3600.0, 3600.0 + 6 * 3600.0, 1e7])
    r = launch_spike_rate_per_s(t, 0.0, 100.0, 10_000.0, ramp_s=3600.0, decay_s=6 * 3600.0)
    assert_allclose(r[:4], [100, 100, 5050, 10_000])
    assert_allclose(r[4], 100 + 9900 / np.e)
    assert_allclose(r[5], 100.0)


def test_mmpp_multiplier_stationary_mean() -> None:
    rng = np.random.default_rng(3)
    m = mmpp_multiplier(200_000, 60.0, rng, burst_factor=3.0, mean_normal_s=3600.0, mean_burst_s=600.0)
    p_burst = 600 / 4200
    assert_allclose(m.mean(), 1 + 2 * p_burst, rtol=0.05)
    assert m.min() >= 1.0 - 1e-12 and m.max() <= 3.0 + 1e-12


def test_lognormal_tokens_median() -> None:
    x = lognormal_tokens(100_000, 1000.0, 1.0, np.random.default_rng(4))
    assert_allclose(np.median(x), 1000, rtol=0.03)
    assert x.dtype == np.int64 and x.min() >= 1


def _trace() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "arrival_s": np.sort(rng.random(1000) * 100.0),
            "prompt_tokens": rng.integers(1, 5000, 1000),
            "output_tokens": rng.integers(1, 500, 1000),
        }
    )


def test_replay_identity_and_scaling() -> None:
    tr = _trace()
    tr["arrival_s"] -= tr["arrival_s"].iloc[0]
    same = replay_trace(tr)
    pd.testing.assert_frame_equal(same, tr)
    fast = replay_trace(tr, time_scale=0.5)
    assert_allclose(fast["arrival_s"], tr["arrival_s"] * 0.5)
    dbl = replay_trace(tr, rate_scale=2.0, rng=np.random.default_rng(0))
    assert len(dbl) == 2000
    assert_array_equal(np.sort(dbl["prompt_tokens"]), np.sort(np.tile(tr["prompt_tokens"], 2)))
    assert dbl["arrival_s"].is_monotonic_increasing
    half = replay_trace(tr, rate_scale=0.5, rng=np.random.default_rng(0))
    assert abs(len(half) - 500) < 5 * np.sqrt(250)
    tiled = replay_trace(tr, duration_s=350.0)
    assert tiled["arrival_s"].max() < 350.0 and len(tiled) > 3000
    with pytest.raises(ValueError, match="rng"):
        replay_trace(tr, rate_scale=2.0)


def test_weekly_transition_is_smooth() -> None:
    """A 6 h raised-cosine ramp replaces the Monday 00:00 step; away from the boundaries nothing changes."""
    t = np.arange(0.0, 14 * 86400.0, 300.0)
    step = weekly_profile_frac(t, 0.8, start_weekday=0)
    smooth = weekly_profile_frac(t, 0.8, start_weekday=0, transition_h=6.0)
    assert_allclose(np.abs(np.diff(step)).max(), 0.2, rtol=1e-12)  # one step jump of 25 % (0.8 -> 1)
    # largest change per 5-minute step: peak slope of the cosine, 0.2 * pi / 2 / 72 steps
    assert_allclose(np.abs(np.diff(smooth)).max(), 0.2 * np.pi / 2 / 72, rtol=0.01)
    far = np.abs(((t / 3600.0 + 84.0) % 168.0) - 84.0)  # hours from Monday 00:00 ...
    far_sat = np.abs((((t / 3600.0 - 120.0) + 84.0) % 168.0) - 84.0)  # ... and from Saturday 00:00
    away = (far > 3.0) & (far_sat > 3.0)
    assert_allclose(smooth[away], step[away], rtol=0, atol=1e-12)
    # symmetric about the boundary: the midpoint sits at midnight
    assert_allclose(weekly_profile_frac(np.array([7 * 86400.0, 5 * 86400.0]), 0.8, 0, 6.0), [0.9, 0.9])
    # the weekly mean is unchanged (the ramps are antisymmetric about the boundaries)
    assert_allclose(smooth[:2016].mean(), step[:2016].mean(), rtol=1e-3)
    assert_array_equal(weekly_profile_frac(t, 0.8, 0, 0.0), step)
    with pytest.raises(ValueError, match="transition_h"):
        weekly_profile_frac(t, 0.8, 0, -1.0)
