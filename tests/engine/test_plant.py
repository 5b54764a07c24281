"""Engine wiring of the facility physics: plant parameters, site weather, columns, KPIs, energy balance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.conftest import dgx_hall_dict, small_scenario_dict

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


# ------------------------------------------------------------------------- server power by cooling technology
def test_same_servers_it_power_air_rdhx_dlc_immersion_non_increasing() -> None:
    """The same air-cooled servers: a rear door keeps the server fans, cold plates remove most of them,
    immersion all of them; the accelerators draw the same power everywhere."""
    s = {t: gw.simulate(dgx_hall_dict(t)).summary() for t in ("air", "rdhx", "dlc", "immersion")}
    it = [s[t]["it_energy_mwh"] for t in ("air", "rdhx", "dlc", "immersion")]
    assert all(a >= b - 1e-9 * a for a, b in itertools.pairwise(it)), it
    assert it[0] > it[2] > it[3]  # cold plates and immersion save server-fan power
    accel = [s[t]["accelerator_energy_mwh"] for t in s]
    assert_allclose(accel, accel[0], rtol=1e-12)
    fans = {t: s[t]["server_fan_energy_mwh"] for t in s}
    assert_allclose(fans["rdhx"], fans["air"], rtol=1e-9)
    assert_allclose(fans["dlc"], 0.2 * fans["air"], rtol=1e-9)  # 1 − 0.8 capture, same 25 °C inlet
    assert_allclose(fans["immersion"], 0.0, atol=1e-12)


def test_it_power_is_accelerators_host_fans_network_storage() -> None:
    """Hand calculation at constant 0.8 utilisation, 25 °C inlet (fans at base speed 0.6):
    IT = accelerators + n·(P_host − P_fan)(h0 + (1 − h0)·0.8) + kept fans + network + storage."""
    from gigawatt import catalog
    from gigawatt.physics import it_power, power

    h100 = catalog.accelerator("H100-SXM")
    n_srv, n_gpu = 40, 320
    for tech, kept in (("air", 1.0), ("dlc", 0.2)):
        ts = gw.simulate(dgx_hall_dict(tech)).timeseries
        accel_kw = n_gpu * (h100.idle_w + 0.8 * (h100.tdp_w - h100.idle_w)) / 1e3
        host_kw = n_srv * (4600 - 920) * (power.HOST_IDLE_FRAC + (1 - power.HOST_IDLE_FRAC) * 0.8) / 1e3
        fans_kw = n_srv * 920 * kept * it_power.FAN_BASE_SPEED_FRAC**3 / 1e3
        net_kw = n_gpu * (45.0 + 10.0) / 1e3
        assert_allclose(ts["accelerator_power_mw"], accel_kw / 1e3, rtol=1e-9)
        assert_allclose(ts["server_fan_power_mw"], fans_kw / 1e3, rtol=1e-9)
        assert_allclose(ts["it_power_mw"], (accel_kw + host_kw + fans_kw + net_kw) / 1e3, rtol=1e-9)


def test_liquid_cooled_build_and_fan_fields() -> None:
    # a liquid build's figures are taken as stated in a dlc hall (fans 5 % of host by default) ...
    d = dgx_hall_dict("dlc", server={"cooling_variant": "liquid", "host_overhead_w": 4000})
    pi = build_plant(Fleet.from_scenario(gw.load_scenario(d)))
    assert_allclose(pi.fan_max_w_group, [0.05 * 4000], rtol=1e-12)
    assert_allclose(pi.fan_share_group, [0.05], rtol=1e-12)
    # ... removed in immersion; an explicit fan_max_w of an air build scales with the air heat in dlc
    d = dgx_hall_dict("immersion", server={"cooling_variant": "liquid"})
    assert_allclose(build_plant(Fleet.from_scenario(gw.load_scenario(d))).fan_max_w_group, [0.0], atol=1e-12)
    d = dgx_hall_dict("dlc", server={"fan_max_w": 1000})
    d["sites"][0]["halls"][0]["cooling"] = {"technology": "dlc", "liquid_capture_frac": 0.7}
    pi = build_plant(Fleet.from_scenario(gw.load_scenario(d)))
    assert_allclose(pi.fan_max_w_group, [300.0], rtol=1e-12)
    assert_allclose(pi.plant.server_fan_max_kw, [40 * 300.0 / 1e3], rtol=1e-12)
    # bad input: a liquid build in an air hall, fans above the host overhead
    with pytest.raises(gw.ScenarioError, match="cooling_variant: liquid"):
        gw.load_scenario(dgx_hall_dict("air", server={"cooling_variant": "liquid"}))
    with pytest.raises(gw.ScenarioError, match="fan_max_w"):
        gw.load_scenario(dgx_hall_dict("air", server={"fan_max_w": 5000}))


def test_network_and_storage_power_fields() -> None:
    d = dgx_hall_dict(
        "air", fabric={"kind": "infiniband", "power_w_per_gpu": 100.0}, storage_power_w_per_gpu=0.0
    )
    pi = build_plant(Fleet.from_scenario(gw.load_scenario(d)))
    assert_allclose(pi.network_kw_hall, [320 * 100.0 / 1e3], rtol=1e-12)
    assert_allclose(pi.storage_kw_hall, [0.0], atol=1e-12)
    # defaults: InfiniBand 45 W, RoCE 40 W, storage 10 W per GPU
    for kind, w in (("infiniband", 45.0), ("roce", 40.0)):
        d = dgx_hall_dict("air", fabric={"kind": kind})
        pi = build_plant(Fleet.from_scenario(gw.load_scenario(d)))
        assert_allclose(pi.network_kw_hall, [320 * w / 1e3], rtol=1e-12)
        assert_allclose(pi.storage_kw_hall, [320 * 10.0 / 1e3], rtol=1e-12)


def test_it_share_of_location_based_scope2() -> None:
    """No battery or generation: grid import = facility power, so IT's share = IT energy × grid intensity."""
    s = gw.simulate(dgx_hall_dict("air")).summary()
    assert_allclose(s["it_emissions_scope2_location_tco2"], s["it_energy_mwh"] * 0.4, rtol=1e-9)
    assert s["it_emissions_scope2_location_tco2"] < s["emissions_scope2_location_tco2"]
    assert_allclose(
        s["it_emissions_scope2_location_tco2"] / s["emissions_scope2_location_tco2"],
        s["it_energy_mwh"] / s["facility_energy_mwh"],
        rtol=1e-9,
    )
