"""Tests for gigawatt.physics.cooling."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import cooling as co


def _plant(preset: str, design_kw: float = 1000.0) -> co.CoolingPlant:
    return co.build_cooling_plant([preset], [design_kw])


def test_chiller_cop_against_typical_ratings() -> None:
    # Water-cooled centrifugal chiller at AHRI-like conditions (6.7 °C leaving chilled water, ~35 °C
    # condensing): COP ~ 5.5-7; air-cooled at 35 °C ambient (~50 °C condensing): COP ~ 2.8-3.5.
    assert 5.0 < co.chiller_cop(5.2, 35.0, 0.55, 12.0) < 7.0
    assert 2.5 < co.chiller_cop(5.2, 50.0, 0.45, 12.0) < 3.5
    # COP falls with lift and is capped
    cops = co.chiller_cop(15.0, np.array([20.0, 25.0, 30.0, 40.0]), 0.55, 12.0)
    assert np.all(np.diff(cops) <= 0)
    assert cops[0] == 12.0


def test_economizer_fraction_by_wet_bulb() -> None:
    p = _plant("air")
    q = np.full((4, 1), 700.0)
    wb = np.array([[0.0], [10.0], [15.0], [25.0]])
    out = co.loop_performance(p.air_loop, q, wb + 5, wb)
    # cold: full free cooling, no chiller energy; hot: all mechanical
    assert out["free_frac"][0, 0] == 1.0 and out["chiller_kw"][0, 0] == 0.0
    assert out["free_frac"][-1, 0] == 0.0 and out["chiller_kw"][-1, 0] > 0
    assert np.all(np.diff(out["free_frac"][:, 0]) <= 0)


def test_cooling_power_rises_with_wet_bulb_for_every_preset() -> None:
    wb = np.linspace(-5, 28, 34)[:, None]
    db = wb + 6.0
    for name in co.preset_names():
        p = _plant(name)
        out = co.cooling_performance(p, np.full_like(wb, 700.0), db, wb)
        diffs = np.diff(out["cooling_power_kw"][:, 0])
        assert np.all(diffs >= -1e-9), name


def test_affinity_law_fans_and_pumps() -> None:
    p = _plant("air")
    wb = np.zeros((3, 1))
    out = co.cooling_performance(p, np.array([[300.0], [600.0], [1000.0]]), wb, wb)
    fan = out["air_fan_kw"][:, 0]
    assert_allclose(fan[2] / fan[1], (1000 / 600) ** 3, rtol=1e-9)
    legacy = co.cooling_performance(
        _plant("air_legacy"), np.array([[300.0], [1000.0]]), wb[:2] + 20, wb[:2] + 15
    )
    assert_allclose(legacy["air_fan_kw"][0], legacy["air_fan_kw"][1])  # constant-speed CRAC fans


def test_capacity_derates_with_ambient() -> None:
    wb = np.linspace(10, 30, 5)[:, None]
    for name in ("dlc_dry", "air", "dlc"):
        p = _plant(name)
        cap = co.cooling_performance(p, np.full_like(wb, 500.0), wb + 8, wb)["capacity_kw"][:, 0]
        assert np.all(np.diff(cap) <= 1e-9), name
        assert cap[0] >= 1000.0 * 0.99, name
    # dry coolers without chillers: capacity hits zero when ambient reaches the maximum supply temperature
    p = _plant("dlc_dry")
    hot = co.cooling_performance(p, np.array([[500.0]]), np.array([[46.0]]), np.array([[25.0]]))
    assert hot["capacity_kw"][0, 0] < 200.0  # only the air side remains, liquid side cannot cool


def test_liquid_capture_split_and_dry_coolers_use_no_water() -> None:
    p = _plant("dlc_dry")
    out = co.cooling_performance(p, np.array([[800.0]]), np.array([[30.0]]), np.array([[22.0]]))
    assert out["heat_to_tower_kw"][0, 0] == 0.0
    p = _plant("dlc")
    out = co.cooling_performance(p, np.array([[800.0]]), np.array([[30.0]]), np.array([[22.0]]))
    assert out["heat_to_tower_kw"][0, 0] >= 800.0  # all heat (plus compressor work) leaves through towers
    assert out["coolant_supply_c"][0, 0] == pytest.approx(32.0)


def test_evaporative_air_side() -> None:
    p = _plant("air_evaporative")
    db = np.array([[10.0], [30.0], [38.0]])
    wb = np.array([[5.0], [18.0], [20.0]])
    out = co.cooling_performance(p, np.full((3, 1), 700.0), db, wb)
    assert out["evaporative_air_kg_per_s"][0, 0] == 0.0  # cold outside air: no evaporation
    assert out["evaporative_air_kg_per_s"][2, 0] > out["evaporative_air_kg_per_s"][1, 0] > 0
    # wet bulb + approach below the 24 °C set point: no trim (38 °C/20 °C: 20 + 0.15·18 + 0.7 = 23.4 °C)
    assert_allclose(out["chiller_kw"], 0.0, rtol=0, atol=1e-12)
    assert out["inlet_c"][0, 0] == pytest.approx(24.0)


def test_evaporative_trim_meets_the_remainder_above_wet_bulb_plus_approach() -> None:
    # T_ach = T_wb + (1 − ε)(T_db − T_wb) + a Q/Q_d; above the set point T_s the DX trim takes (1 − φ)Q with
    # φ = (T_s + ΔT − T_ach)/ΔT, at COP = η (T_s − Δ_evap + 273.15)/(T_cond − T_evap), T_cond = T_db + a_c Q/Q_d + 7.
    p = _plant("air_evaporative")
    lp = p.air_loop
    wb = np.linspace(16.0, 30.0, 29)[:, None]
    db = wb + 5.0
    q = np.full_like(wb, 600.0)
    out = co.loop_performance(lp, q, db, wb)
    qf = 600.0 / lp.design_kw[0]
    t_ach = wb + 0.15 * (db - wb) + lp.approach_c[0] * qf
    phi = np.clip((24.0 + 12.0 - t_ach) / 12.0, 0.0, 1.0)
    t_cond = db + lp.condenser_approach_c[0] * qf + lp.condenser_rise_c[0]
    cop = np.minimum(0.45 * (24.0 - 10.0 + 273.15) / (t_cond - 14.0), 8.0)
    assert_allclose(out["free_frac"], phi, rtol=1e-9, atol=1e-12)
    assert_allclose(out["chiller_kw"], (1 - phi) * 600.0 / cop, rtol=1e-9, atol=1e-9)
    below = (t_ach <= 24.0)[:, 0]
    assert below.any() and (~below).any()
    assert_allclose(out["chiller_kw"][below], 0.0, rtol=0, atol=1e-12)
    assert np.all(out["chiller_kw"][~below] > 0)
    assert_allclose(out["supply_c"], 24.0, rtol=0, atol=1e-12)  # the trim holds the set point
    # DX COP at 35 °C outdoor, design load: 3-4 (ASHRAE 90.1-2019 minimum ≈ 2.9; current units 3.2-3.5)
    hot = co.loop_performance(lp, np.array([[lp.design_kw[0]]]), np.array([[35.0]]), np.array([[26.0]]))
    assert 3.0 < hot["cop"][0, 0] < 4.0


def test_chillerless_designs_have_no_mechanical_cooling_and_throttle() -> None:
    wb = np.linspace(10.0, 32.0, 23)[:, None]
    db = wb + 4.0
    for name in ("air_chillerless", "dlc_chillerless"):
        p = _plant(name)
        out = co.cooling_performance(p, np.full_like(wb, 800.0), db, wb)
        assert_allclose(out["chiller_kw"], 0.0, rtol=0, atol=1e-12)
        cap = out["capacity_kw"][:, 0]
        assert np.all(np.diff(cap) <= 1e-9), name
        assert cap[0] >= 1000.0 and cap[-1] < 800.0, name  # hot humid: capacity below the load → throttle
    # the supply floats above the set point instead of calling for a trim
    p = _plant("air_chillerless")
    out = co.cooling_performance(p, np.full_like(wb, 800.0), db, wb)
    assert out["inlet_c"][0, 0] == pytest.approx(24.0)
    assert out["inlet_c"][-1, 0] > 28.0


def test_evaporative_pue_rises_with_design_wet_bulb_across_named_climates() -> None:
    # Annual PUE of the evaporative + DX-trim design at design load over every bundled typical year, against
    # the climate's design wet bulb (0.4 % annual exceedance, the ASHRAE design-condition convention).
    from gigawatt.physics import facility as fm
    from gigawatt.physics import weather as w

    plant = fm.build_facility_plant(cooling_presets=["air_evaporative"], design_it_kw=[10_000.0])
    design_wb, pue = {}, {}
    for name in w.climate_names():
        df, _ = w.load_climate(name)
        db = df["dry_bulb_c"].to_numpy()[:, None]
        wbh = df["wet_bulb_c"].to_numpy()[:, None]
        out = fm.facility_flows(plant, np.full_like(db, 3000.0), np.full_like(db, 7000.0), db, wbh)
        design_wb[name] = float(np.percentile(wbh, 99.6))
        pue[name] = float(out["facility_power_kw"].sum() / out["it_power_kw"].sum())
    names = sorted(pue, key=design_wb.__getitem__)
    # PUE never falls as the design wet bulb rises by more than 1 K (Phoenix, hot and dry, has a larger
    # wet-bulb depression and hence a warmer evaporative approach than Greensboro at a similar wet bulb)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if design_wb[b] - design_wb[a] > 1.0:
                assert pue[b] >= pue[a] - 1e-3, (a, b, pue[a], pue[b])
    # hot humid sites need the trim: Singapore and Miami rank highest, well above the cold sites
    assert set(sorted(pue, key=pue.__getitem__)[-2:]) == {"singapore", "miami"}
    assert pue["singapore"] - pue["stockholm"] > 0.03
    assert pue["miami"] - pue["stockholm"] > 0.005


def test_presets_validation() -> None:
    with pytest.raises(KeyError, match="did you mean 'dlc'"):
        co.build_cooling_plant(["dcl"], [1000.0])
    with pytest.raises(ValueError, match="one entry per hall"):
        co.build_cooling_plant(["dlc", "air"], [1000.0])
    p = co.build_cooling_plant(["dlc"], [1000.0], [{"liquid_loop": {"supply_c": 40.0}}])
    assert p.liquid_loop.supply_c[0] == 40.0
    assert p.liquid_loop.design_kw[0] == pytest.approx(800.0)
    p2 = co.with_design(p, [2000.0])
    assert p2.liquid_loop.design_kw[0] == pytest.approx(1600.0)


def test_active_rear_door_fans() -> None:
    """Door fans of the rdhx preset: affinity law on the door heat, their heat goes to the door water, and
    passive doors (``door_fan_kw_per_kw: 0``) have none; other presets have no doors."""
    active = _plant("rdhx")
    passive = co.build_cooling_plant(["rdhx"], [1000.0], [{"air": {"door_fan_kw_per_kw": 0.0}}])
    wb = np.full((2, 1), 5.0)
    q = np.array([[500.0], [1000.0]])
    a = co.cooling_performance(active, q, wb + 5, wb)
    p = co.cooling_performance(passive, q, wb + 5, wb)
    door = co.rear_door_fan_kw(active, 0.9 * q)  # inlet at its set point: airflow factor 1
    assert_allclose(door[:, 0], 0.01 * 900.0 * np.array([0.5, 1.0]) ** 3, rtol=1e-9)
    assert_allclose(a["air_fan_kw"] - p["air_fan_kw"], door, rtol=1e-9)
    assert np.all(a["cooling_power_kw"] > p["cooling_power_kw"] + door - 1e-9)  # door heat is pumped too
    for name in ("air", "dlc", "immersion"):
        assert_allclose(co.rear_door_fan_kw(_plant(name), q), 0.0, atol=1e-12)
