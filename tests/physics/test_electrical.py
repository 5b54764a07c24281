"""Tests for gigawatt.physics.electrical."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import electrical as el


def _eff(kind: str, x: float) -> float:
    c = el.LOSS_PRESETS[kind]
    return float(el.stage_efficiency(x, c.no_load_frac, c.proportional_frac, c.quadratic_frac))


def test_transformer_meets_doe_efficiency_at_half_load() -> None:
    # DOE 10 CFR 431.196 (2016): 2500 kVA medium-voltage liquid-immersed >= 99.53 % at 50 % load.
    assert_allclose(_eff("transformer", 0.5), 0.995, atol=0.0005)


def test_double_conversion_ups_curve_matches_lbnl() -> None:
    # Ton & Fortenbery 2005 (LBNL): double conversion ~ 90-93 % at 25 % load, ~ 94-96 % above 50 %.
    assert 0.90 <= _eff("ups_double_conversion", 0.25) <= 0.93
    assert 0.94 <= _eff("ups_double_conversion", 0.5) <= 0.96
    assert 0.95 <= _eff("ups_double_conversion", 1.0) <= 0.965
    # ENERGY STAR UPS v2.0 multi-mode ~ 99 %
    assert _eff("ups_eco", 0.5) > 0.985


def test_redundancy_lowers_per_unit_load_and_raises_no_load_losses() -> None:
    assert el.redundancy_capacity_factor("N") == 1.0
    assert el.redundancy_capacity_factor("N+1", 4) == 1.25
    assert el.redundancy_capacity_factor("2N") == 2.0
    with pytest.raises(ValueError, match="unknown redundancy"):
        el.redundancy_capacity_factor("3N")
    c = el.LOSS_PRESETS["ups_double_conversion"]
    load = 5000.0
    losses = [
        float(el.stage_loss_kw(load, 10_000.0 * r, c.no_load_frac, c.proportional_frac, c.quadratic_frac))
        for r in (1.0, 1.25, 2.0)
    ]
    assert losses[0] < losses[1] < losses[2]  # at half load, no-load losses dominate


def test_stage_loss_formula_and_zero_capacity() -> None:
    loss = el.stage_loss_kw([0.0, 500.0, 1000.0], 1000.0, 0.01, 0.02, 0.03)
    assert_allclose(loss, [10.0, 10.0 + 10.0 + 7.5, 60.0])
    assert el.stage_loss_kw(500.0, 0.0, 0.01, 0.02, 0.03) == 0.0


def test_chain_order() -> None:
    pdu_c = (np.array([0.0]), np.array([0.01]), np.array([0.0]))
    ups_c = (np.array([0.0]), np.array([0.10]), np.array([0.0]))
    pdu, ups = el.it_path_losses_kw(np.array([1000.0]), np.array([1000.0]), pdu_c, np.array([1000.0]), ups_c)
    assert_allclose(pdu, [10.0])
    assert_allclose(ups, [101.0])  # UPS sees IT + PDU loss
