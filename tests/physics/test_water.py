"""Tests for gigawatt.physics.water."""

import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import water as wa


def test_tower_evaporation_rule_of_thumb() -> None:
    # ASHRAE: evaporation ~ 0.00085 gal per gal of flow per °F of range -> ~1.3 L per kWh of heat rejected.
    r = wa.tower_water_kg_per_s(1000.0)  # 1 MW
    evap_l_per_kwh = float(r["evaporation_kg_per_s"]) * 3600 / 1000
    assert_allclose(evap_l_per_kwh, 1.31, rtol=0.05)
    assert_allclose(r["blowdown_kg_per_s"], r["evaporation_kg_per_s"] / (wa.CYCLES_OF_CONCENTRATION - 1))
    assert float(r["drift_kg_per_s"]) < 2e-3 * float(r["evaporation_kg_per_s"])  # drift ~0.001 % of flow
    assert_allclose(
        r["total_kg_per_s"], r["evaporation_kg_per_s"] + r["blowdown_kg_per_s"] + r["drift_kg_per_s"]
    )


def test_higher_cycles_less_water_and_validation() -> None:
    lo = wa.tower_water_kg_per_s(1000.0, cycles_of_concentration=3.0)["total_kg_per_s"]
    hi = wa.tower_water_kg_per_s(1000.0, cycles_of_concentration=8.0)["total_kg_per_s"]
    assert hi < lo
    with pytest.raises(ValueError, match="cycles_of_concentration"):
        wa.tower_water_kg_per_s(1000.0, cycles_of_concentration=1.0)


def test_wue_and_evaporative_cooler() -> None:
    assert_allclose(wa.wue_l_per_kwh([260.0, 5.0], [1000.0, 0.0]), [0.26, 0.0])
    assert_allclose(wa.evaporative_cooler_water_kg_per_s(3.0, 4.0), 4.0)
    assert wa.tower_water_kg_per_s(0.0)["total_kg_per_s"] == 0.0
