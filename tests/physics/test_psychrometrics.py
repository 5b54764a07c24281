"""Tests for gigawatt.physics.psychrometrics."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import psychrometrics as psy


def test_ashrae_fundamentals_example_wet_bulb() -> None:
    # ASHRAE Handbook - Fundamentals 2017, ch. 1, example 3: 40 °C dry bulb, 20 °C thermodynamic wet bulb,
    # 101.325 kPa gives W = 0.0065 kg/kg. Invert: the RH of W = 0.0065 at 40 °C must give a 20 °C wet bulb.
    pw = 0.0065 * psy.STANDARD_PRESSURE_PA / (psy.MOLAR_MASS_RATIO + 0.0065)
    rh = pw / psy.saturation_vapor_pressure_pa(40.0)
    assert_allclose(psy.wet_bulb_c(40.0, rh), 20.0, atol=0.15)


def test_stull_paper_check_value() -> None:
    # Stull (2011): T = 20 °C, RH = 50 % -> Tw = 13.7 °C.
    assert_allclose(psy.wet_bulb_stull_c(20.0, 0.5), 13.7, atol=0.05)
    assert_allclose(psy.wet_bulb_c(20.0, 0.5), 13.7, atol=0.15)


def test_iterative_solution_vs_stull_within_published_accuracy() -> None:
    # Stull (2011) reports errors of about -1 to +0.65 °C against the psychrometric solution over water;
    # our grid (0..50 °C, RH 5..99 %, water on the wick) stays within -1.2 .. +1.2 °C. Below a 0 °C wet bulb
    # the ASHRAE ice form applies and Stull's liquid-water fit is not a reference.
    t = np.linspace(0, 50, 51)[:, None]
    rh = np.linspace(0.05, 0.99, 60)[None, :]
    tw = psy.wet_bulb_c(t, rh)
    d = (psy.wet_bulb_stull_c(t, rh) - tw)[np.broadcast_to(tw >= 0.0, (51, 60))]
    assert d.min() > -1.2
    assert d.max() < 1.2


def test_saturation_gives_wet_bulb_equal_dry_bulb_and_bounds() -> None:
    t = np.array([-10.0, 0.0, 15.0, 30.0, 45.0])
    assert_allclose(psy.wet_bulb_c(t, 1.0), t, atol=1e-3)
    low = psy.wet_bulb_c(t, 0.1)
    assert np.all(low < t)
    assert np.all(np.diff(psy.wet_bulb_c(30.0, np.linspace(0.1, 1, 10))) > 0)


def test_dew_point_round_trip_and_dew_point_input() -> None:
    t = np.array([5.0, 20.0, 35.0])
    rh = np.array([0.3, 0.6, 0.9])
    td = psy.dew_point_c(t, rh)
    assert_allclose(psy.relative_humidity_from_dew_point_frac(t, td), rh, rtol=1e-9)
    assert_allclose(psy.wet_bulb_c(t, dew_point_c=td), psy.wet_bulb_c(t, rh), atol=1e-6)
    with pytest.raises(ValueError, match="relative_humidity_frac or dew_point_c"):
        psy.wet_bulb_c(t)


def test_pressure_lowers_wet_bulb_and_altitude_formula() -> None:
    # At lower pressure the same RH holds more water per kg of air, and the wet bulb is lower.
    assert psy.wet_bulb_c(35.0, 0.2, 80_000.0) < psy.wet_bulb_c(35.0, 0.2, 101_325.0)
    # ASHRAE 2017 ch.1 Table 1: 1500 m -> 84.556 kPa.
    assert_allclose(psy.pressure_at_altitude_pa(1500.0), 84_556.0, rtol=2e-3)


def test_saturation_pressure_against_ashrae_table() -> None:
    # ASHRAE 2017 ch. 1 Table 3: p_ws(20 °C) = 2.3389 kPa, p_ws(40 °C) = 7.3849 kPa.
    assert_allclose(psy.saturation_vapor_pressure_pa([20.0, 40.0]), [2338.9, 7384.9], rtol=4e-3)


def test_saturation_over_ice_below_freezing() -> None:
    # ASHRAE 2017 ch. 1 Table 3 (Hyland-Wexler): p_ws over ice at -10 °C = 0.25990 kPa and at -20 °C =
    # 0.10326 kPa; over supercooled water it would be 0.2865 kPa at -10 °C (WMO 2008, Annex 4.B), ~10 % more.
    assert_allclose(psy.saturation_vapor_pressure_pa([-10.0, -20.0]), [259.90, 103.26], rtol=2e-4)
    over_water = psy.saturation_vapor_pressure_magnus_pa(-10.0)
    assert over_water / psy.saturation_vapor_pressure_pa(-10.0) > 1.09
    # continuous at the triple point (ice and water formulations meet there)
    lo, hi = psy.saturation_vapor_pressure_pa([0.01 - 1e-9, 0.01 + 1e-9])
    assert_allclose(lo, hi, rtol=1e-4)


def test_frost_point_round_trip_below_freezing() -> None:
    t = np.array([-30.0, -10.0, -1.0, 2.0, 25.0])
    rh = np.array([0.5, 0.8, 0.95, 0.6, 0.4])
    td = psy.dew_point_c(t, rh)
    assert np.all(td <= t)
    assert_allclose(psy.relative_humidity_from_dew_point_frac(t, td), rh, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def psychrolib_si():
    psychrolib = pytest.importorskip("psychrolib")
    psychrolib.SetUnitSystem(psychrolib.SI)
    return psychrolib


def test_against_psychrolib_below_freezing(psychrolib_si) -> None:
    # Oracle: PsychroLib 2.5 (Meyer & Thevenard 2019) implements the same ASHRAE 2017 ch. 1 equations
    # (Hyland-Wexler over ice below the triple point, eq. 35 wet bulb over ice). Grid -40..0 °C, RH 10..100 %,
    # sea level and 1500 m.
    pl = psychrolib_si
    temps = np.linspace(-40.0, 0.0, 21)
    rhs = np.linspace(0.1, 1.0, 10)
    for p in (101_325.0, 84_556.0):
        ref_pws = np.array([pl.GetSatVapPres(t) for t in temps])
        assert_allclose(psy.saturation_vapor_pressure_pa(temps), ref_pws, rtol=1e-9)
        tt, rr = np.meshgrid(temps, rhs, indexing="ij")
        ref_wb = np.vectorize(lambda t, r, p=p: pl.GetTWetBulbFromRelHum(t, r, p))(tt, rr)
        ref_dp = np.vectorize(pl.GetTDewPointFromRelHum)(tt, rr)
        ref_w = np.vectorize(lambda t, r, p=p: pl.GetHumRatioFromRelHum(t, r, p))(tt, rr)
        # PsychroLib iterates to 0.001 °C (its PSYCHROLIB_TOLERANCE); we solve to 1e-9 °C.
        assert_allclose(psy.wet_bulb_c(tt, rr, p), ref_wb, rtol=0, atol=2e-3)
        assert_allclose(psy.dew_point_c(tt, rr), ref_dp, rtol=0, atol=2e-3)
        assert_allclose(psy.humidity_ratio(tt, rr, p), ref_w, rtol=1e-9, atol=1e-12)


def test_against_psychrolib_above_freezing(psychrolib_si) -> None:
    pl = psychrolib_si
    tt, rr = np.meshgrid(np.linspace(0.5, 50.0, 12), np.linspace(0.05, 1.0, 8), indexing="ij")
    ref_wb = np.vectorize(lambda t, r: pl.GetTWetBulbFromRelHum(t, r, 101_325.0))(tt, rr)
    assert_allclose(psy.wet_bulb_c(tt, rr), ref_wb, rtol=0, atol=2e-3)


def test_wet_bulb_solves_the_ashrae_balance_on_its_branch() -> None:
    # The solved wet bulb satisfies W(T, T*, p) = W of the air (eq. 33 over water, eq. 35 over ice) to
    # round-off, lies between dew point and dry bulb, and the compiled balance equals the vectorised one.
    rng = np.random.default_rng(3)
    t = rng.uniform(-60.0, 60.0, 5000)
    rh = rng.uniform(0.01, 1.0, 5000)
    p = rng.uniform(70_000.0, 105_000.0, 5000)
    tw = psy.wet_bulb_c(t, rh, p)
    w_air = psy.humidity_ratio(t, rh, p)
    ice = tw < 0.0
    w_model, _ = psy._wet_bulb_balance(t, tw, p, ice)
    assert_allclose(w_model, w_air, rtol=1e-9, atol=1e-12)
    assert np.all(tw <= t + 1e-9)
    assert np.all(tw >= psy.dew_point_c(t, rh) - 1e-6)
    scalar = np.array(
        [
            psy._balance_scalar(a, b, c, d)
            for a, b, c, d in zip(t[:200], tw[:200], p[:200], ice[:200], strict=True)
        ]
    )
    vector = np.stack(psy._wet_bulb_balance(t[:200], tw[:200], p[:200], ice[:200]), axis=1)
    assert_allclose(scalar, vector, rtol=1e-12, atol=1e-15)
