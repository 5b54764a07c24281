"""The load ledger's exact time weighting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import LoadLedger
from gigawatt.physics.phases import N_PHASES, Phase


def _clock(n: int = 10, step_s: float = 100.0) -> Clock:
    return Clock(pd.Timestamp("2026-01-01"), step_s, n)


def test_change_inside_step_is_time_weighted() -> None:
    led = LoadLedger(_clock(), 2)
    led.change(250.0, 1, Phase.TRAIN_COMPUTE, 8)  # half of step 2
    led.change(730.0, 1, Phase.TRAIN_COMPUTE, -8)  # 30 % of step 7
    occ = led.occupancy()
    assert occ.shape == (10, 2, N_PHASES)
    expected = np.array([0, 0, 4, 8, 8, 8, 8, 0.3 * 8, 0, 0])
    assert_allclose(occ[:, 1, Phase.TRAIN_COMPUTE], expected, atol=1e-12)
    assert_allclose(occ[:, 0].sum(), 0.0, atol=1e-9)
    # GPU-seconds are exact: 8 GPUs x 480 s
    assert occ[:, 1, Phase.TRAIN_COMPUTE].sum() * 100.0 == pytest.approx(8 * 480.0)


def test_boundaries_and_after_horizon() -> None:
    led = LoadLedger(_clock(), 1)
    led.change(0.0, 0, Phase.DECODE, 3)
    led.change(500.0, 0, Phase.DECODE, 2)
    led.change(5000.0, 0, Phase.DECODE, -5)  # after the horizon: no effect
    occ = led.occupancy()[:, 0, Phase.DECODE]
    assert_allclose(occ, [3, 3, 3, 3, 3, 5, 5, 5, 5, 5])


def test_profiles_add_and_predict_uses_current_level() -> None:
    led = LoadLedger(_clock(), 2)
    prof = np.linspace(0, 9, 10)
    led.add_profile(0, Phase.UTIL, prof)
    led.change(120.0, 0, Phase.UTIL, 1)
    assert_allclose(led.predict(3, 6)[:, 0, Phase.UTIL], prof[3:6] + 1)
    assert_allclose(led.occupancy()[:, 0, Phase.UTIL], prof + np.r_[0, 0.8, np.ones(8)])
    with pytest.raises(ValueError, match="shape"):
        led.add_profile(0, Phase.UTIL, np.ones(3))


def test_negative_occupancy_is_a_bug() -> None:
    led = LoadLedger(_clock(), 1)
    with pytest.raises(RuntimeError, match="negative"):
        led.change(10.0, 0, Phase.PREFILL, -1)
