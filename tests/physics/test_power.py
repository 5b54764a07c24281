"""Power per active accelerator by phase: one column per :class:`~gigawatt.physics.phases.Phase`, by name."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from gigawatt.physics import power
from gigawatt.physics.phases import N_PHASES, Phase


def test_phase_power_columns_are_indexed_by_phase() -> None:
    idle_w = np.array([60.0, 100.0])
    tdp_w = np.array([700.0, 150.0])
    frac = np.array([0.85, 0.9])
    pw = power.phase_power_w(idle_w, tdp_w, frac)
    assert pw.shape == (2, N_PHASES)
    assert_allclose(pw[:, Phase.UTIL], tdp_w, rtol=1e-12, atol=1e-9)
    assert_allclose(pw[:, Phase.TRAIN_COMPUTE], frac * tdp_w, rtol=1e-12, atol=1e-9)
    assert_allclose(
        pw[:, Phase.TRAIN_STALL], idle_w + power.STALL_DYNAMIC_FRAC * (tdp_w - idle_w), rtol=1e-12, atol=1e-9
    )
    assert_allclose(pw[:, Phase.PREFILL], tdp_w, rtol=1e-12, atol=1e-9)
    # decode: 0.543 TDP on the H100-like part, never below idle (the second part idles above 0.543 TDP)
    assert_allclose(
        pw[:, Phase.DECODE], [power.DECODE_POWER_FRAC_OF_TDP * 700.0, 100.0], rtol=1e-12, atol=1e-9
    )
