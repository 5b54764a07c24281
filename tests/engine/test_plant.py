"""Engine wiring of the facility physics: plant parameters, site weather, columns, KPIs, energy balance."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.engine.clock import Clock
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.plant import build_plant
from gigawatt.engine.weather import site_weather


def test_plant_from_scenario() -> None:
    sc = gw.load_scenario(small_scenario_dict())
    pi = build_plant(Fleet.from_scenario(sc))
    p = pi.plant
    assert p.n_halls == 2
    assert_allclose(p.cooling.liquid_capture_frac, [0.8, 0.0])
    # design IT = rack nameplate + network + storage
    halls = sc.sites[0].halls
    nameplate = np.array([h.nameplate_it_power_mw() * 1e3 for h in halls])
    assert np.all(p.design_it_kw > nameplate)
    assert np.all(pi.network_kw_hall > 0) and np.all(pi.storage_kw_hall > 0)
    assert np.all(p.server_fan_max_kw > 0)


def test_site_weather_kinds() -> None:
    import pandas as pd

    d = small_scenario_dict()
    clock = Clock(pd.Timestamp("2026-07-01"), 300.0, 288)
    for climate in (
        {"kind": "synthetic", "annual_mean_dry_bulb_c": 14.0},
        {"kind": "constant", "dry_bulb_c": 30.0, "relative_humidity_frac": 0.4},
        {"kind": "named", "name": "greensboro"},
    ):
        d["sites"][0]["climate"] = climate
        w = site_weather(gw.load_scenario(d).sites[0], clock)
        for k in ("dry_bulb_c", "wet_bulb_c", "relative_humidity_frac", "pressure_pa"):
            assert w[k].shape == (288,), (climate, k)
        assert np.all(w["wet_bulb_c"] <= w["dry_bulb_c"] + 1e-9)
    # named climate: Greensboro July day, afternoon warmer than night (clock is UTC; local = UTC-5)
    hours = clock.times.hour.to_numpy()
    assert w["dry_bulb_c"][hours == 20].mean() > w["dry_bulb_c"][hours == 10].mean() + 3
    assert "ghi_w_per_m2" in w


def test_simulation_columns_kpis_and_balance() -> None:
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {"kind": "named", "name": "phoenix"}
    res = gw.simulate(d)
    ts = res.timeseries
    for c in (
        "water_use_m3",
        "wue_l_per_kwh",
        "ambient_wet_bulb_c",
        "site-a/liquid:coolant_supply_c",
        "site-a/air:server_inlet_c",
        "site-a/liquid:cooling_capacity_mw",
    ):
        assert c in ts.columns, c
    parts = ts[["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]].sum(axis=1)
    assert_allclose(ts["facility_power_mw"], parts, rtol=1e-9)
    s = res.summary()
    for k in (
        "pue",
        "wue_l_per_kwh",
        "water_use_m3",
        "peak_facility_power_mw",
        "throttled_h",
        "thermal_overload_energy_mwh",
    ):
        assert k in s.index
    assert 1.03 < s["pue"] < 1.6
    assert s["water_use_m3"] > 0  # towers in both default designs
    assert_allclose(s["wue_l_per_kwh"], s["water_use_m3"] * 1e3 / (s["it_energy_mwh"] * 1e3), rtol=1e-12)


def test_undersized_cooling_throttles_in_the_engine() -> None:
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {"kind": "constant", "dry_bulb_c": 38.0, "relative_humidity_frac": 0.5}
    d["sites"][0]["halls"][1]["cooling"] = {"technology": "air", "capacity_frac": 0.35}
    res = gw.simulate(d)
    ts = res.timeseries
    thr = ts["site-a/air:throughput_frac"]
    assert thr.min() < 1.0  # the air hall cannot reject its peak heat on this hot day
    assert res.summary()["throttled_h"] > 0
    assert ts["site-a/liquid:throughput_frac"].min() == pytest.approx(1.0, abs=1e-9)
