import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics.storage import Battery, equivalent_full_cycles, soc_trajectory_frac


def test_efficiency_split_and_validation():
    b = Battery(400.0, 100.0, round_trip_efficiency_frac=0.81)
    assert_allclose(b.eta_charge, 0.9) and assert_allclose(b.eta_discharge, 0.9)
    assert b.duration_h == 4.0
    assert_allclose(b.usable_energy_mwh, 360.0)
    b2 = Battery(400.0, 100.0, round_trip_efficiency_frac=0.85, charge_efficiency_frac=0.95)
    assert_allclose(b2.eta_charge * b2.eta_discharge, 0.85)
    with pytest.raises(ValueError, match="initial_soc_frac"):
        Battery(10.0, 1.0, initial_soc_frac=0.99)
    with pytest.raises(ValueError, match="energy_mwh"):
        Battery(0.0, 1.0)


def test_soc_trajectory_and_cycles():
    b = Battery(100.0, 50.0, round_trip_efficiency_frac=0.81, initial_soc_frac=0.5)
    ch = np.array([50.0, 0.0, 0.0])
    dis = np.array([0.0, 0.0, 45.0])
    soc = soc_trajectory_frac(b, ch, dis, 1.0)
    assert_allclose(soc, [0.5 + 0.45, 0.95, 0.95 - 0.5])
    assert_allclose(equivalent_full_cycles(dis, 1.0, b), 50.0 / 90.0)
