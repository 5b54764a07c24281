import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import gigawatt
from gigawatt.engine.clock import Clock
from gigawatt.engine.energy import SiteSupply
from gigawatt.engine.weather import site_weather
from gigawatt.physics.carbon import annual_grid_intensity_gco2_per_kwh
from gigawatt.scenario.site import Site

CLOCK = Clock(pd.Timestamp("2026-07-06"), 300.0, 288 * 7)  # a Monday, one week


def _site(grid=None, energy=None):
    d = gigawatt.load_scenario("reference").sites[0].model_dump(mode="json")
    d["grid"].update(grid or {})
    if energy is not None:
        d["energy"] = energy
    return Site.model_validate(d)


def _build(site, seed=0):
    return SiteSupply.build(site, CLOCK, site_weather(site, CLOCK), np.random.default_rng(seed))


def test_tou_price_in_local_time_and_flat_default():
    flat = _build(_site())
    assert_allclose(flat.price_usd_per_mwh, 65.0)
    tou = _build(
        _site(
            {
                "tariff": {
                    "kind": "time_of_use",
                    "base_price_usd_per_mwh": 40,
                    "periods": [
                        {
                            "price_usd_per_mwh": 150,
                            "start_hour": 14,
                            "end_hour": 19,
                            "weekdays": [0, 1, 2, 3, 4],
                        }
                    ],
                }
            }
        )
    )
    p = pd.Series(tou.price_usd_per_mwh, index=CLOCK.times)
    # Ashburn: longitude -77.5 -> UTC-5 solar zone; 14:00 local = 19:00 UTC
    assert p["2026-07-06 19:00"] == 150.0 and p["2026-07-06 18:55"] == 40.0
    assert p["2026-07-11 19:00"] == 40.0  # Saturday


def test_grid_cap_energisation_and_events():
    s = _build(
        _site(
            {
                "import_capacity_mw": 100,
                "energisation_date": "2026-07-07T00:00:00",
                "curtailment_windows": [
                    {"start": "2026-07-08T12:00:00", "end": "2026-07-08T18:00:00", "cap_frac": 0.5}
                ],
            }
        )
    )
    assert np.all(s.grid_cap_mw[:288] == 0.0)
    cap = pd.Series(s.grid_cap_mw, index=CLOCK.times)
    assert cap["2026-07-08 12:00"] == 50.0 and cap["2026-07-08 18:00"] == 100.0
    assert len(s.events) == 1 and s.events["cap_frac"].iloc[0] == 0.5


def test_stochastic_events_deterministic_per_seed():
    site = _site(
        {"import_capacity_mw": 100, "stochastic_curtailment": {"rate_per_year": 200, "mean_duration_h": 2}}
    )
    a, b, c = _build(site, 1), _build(site, 1), _build(site, 2)
    assert np.array_equal(a.grid_cap_mw, b.grid_cap_mw)
    assert not np.array_equal(a.grid_cap_mw, c.grid_cap_mw)
    assert len(a.events) > 0


def test_carbon_profile_from_region():
    s = _build(_site({"carbon": {"region_code": "ERCT", "seasonal_amplitude_frac": 0.0}}))
    # one week of a profile whose daily mean equals the annual figure when the seasonal term is off
    assert_allclose(s.carbon_gco2_per_kwh.mean(), annual_grid_intensity_gco2_per_kwh("ERCT"), rtol=1e-3)
    assert s.carbon_gco2_per_kwh.std() > 10
    with pytest.raises(KeyError, match="did you mean"):
        _build(_site({"carbon": {"region_code": "ERCO"}}))


def test_accounts_balance_costs_and_emissions():
    site = _site(
        {
            "import_capacity_mw": 90,
            "demand_charge_usd_per_kw_month": 10,
            "export_capacity_mw": 5,
            "ppas": [{"name": "block", "kind": "baseload", "strike_usd_per_mwh": 50, "block_mw": 30}],
        },
        {
            "generation": [
                {"kind": "solar", "name": "pv", "capacity_dc_mw": 40},
                {"kind": "gas", "name": "gt", "capacity_mw": 30, "start_time_s": 600},
            ],
            "battery": {"energy_mwh": 100, "power_mw": 25},
        },
    )
    s = _build(site)
    assert (
        15 < s.must_run_mw["pv"].max() < 40 / 1.2
    )  # clear-sky estimate (synthetic climate has no irradiance)
    demand = 100 + 10 * np.sin(np.arange(CLOCK.n_steps) * 2 * np.pi / 288)
    r = s.dispatch(demand)
    cols, k = s.accounts(r, demand)
    step_h = CLOCK.step_h
    supply = (
        cols["grid_import_mw"]
        + cols["generation_pv_mw"]
        + cols["generation_gt_mw"]
        + cols["battery_discharge_mw"]
    )
    uses = (
        demand
        - cols["unserved_mw"]
        + cols["battery_charge_mw"]
        + cols["grid_export_mw"]
        + cols["curtailed_mw"]
    )
    assert_allclose(supply, uses, atol=1e-9 * demand.max())
    assert k["generation_gt_energy_mwh"] > 0 and k["battery_cycles"] > 0
    grid = ((cols["grid_import_mw"] - cols["grid_export_mw"]) * s.price_usd_per_mwh).sum() * step_h
    assert_allclose(k["grid_energy_cost_usd"], grid)
    assert_allclose(k["ppa_settlement_usd"], 30 * (50 - 65) * CLOCK.n_steps * step_h)
    assert_allclose(k["demand_charges_usd"], cols["grid_import_mw"].max() * 1000 * 10)  # one month
    assert_allclose(k["energy_cost_usd"], cols["energy_cost_usd"].sum())
    assert_allclose(
        cols["emissions_kgco2"].sum() / 1e3, k["emissions_scope2_location_tco2"] + k["emissions_scope1_tco2"]
    )
    # 53.06 kg/MMBtu x 9.1 MMBtu/MWh (EPA factor, default heat rate)
    assert_allclose(k["emissions_scope1_tco2"], k["generation_gt_energy_mwh"] * 9.1 * 53.06 / 1e3)
    # the 30 MW PPA covers part of the import: market-based below location-based
    assert k["emissions_scope2_market_tco2"] < k["emissions_scope2_location_tco2"]


def test_block_dispatch_carries_state():
    site = _site({"import_capacity_mw": 80}, {"battery": {"energy_mwh": 50, "power_mw": 20}})
    s = _build(site)
    demand = np.full(CLOCK.n_steps, 85.0)
    whole = s.dispatch(demand)
    socs = np.concatenate(
        [s.dispatch(demand[i : i + 12], i, carry=True).battery_soc_frac for i in range(0, CLOCK.n_steps, 12)]
    )
    assert_allclose(socs, whole.battery_soc_frac, atol=1e-12)


def test_wind_needs_wind_speed():
    site = _site(energy={"generation": [{"kind": "wind", "name": "w", "n_turbines": 3}]})
    weather = dict(site_weather(site, CLOCK))
    weather.pop("wind_speed_m_per_s", None)
    with pytest.raises(ValueError, match="wind speed"):
        SiteSupply.build(site, CLOCK, weather, np.random.default_rng(0))
    weather["wind_speed_m_per_s"] = np.full(CLOCK.n_steps, 8.0)
    s = SiteSupply.build(site, CLOCK, weather, np.random.default_rng(0))
    assert s.must_run_mw["w"].max() > 0


def test_plan_power_cap_two_halls_consistent_power_and_progress():
    from gigawatt.engine.energy import plan_power_cap

    n, k = 48, 2.5
    rng = np.random.default_rng(4)
    base = np.column_stack([np.full(n, 20e3), np.full(n, 10e3)])  # kW
    dyn = np.zeros((n, 2, 3))
    dyn[:, 0, 1] = rng.uniform(40e3, 60e3, n)  # training in hall 0
    dyn[:, 1, 2] = 30e3  # inference in hall 1
    pue = 1.2

    def site_fac(it_kw, idx, site):
        return pue * it_kw.sum(axis=1)

    full = pue * (base.sum(axis=1) + dyn.sum(axis=(1, 2)))
    avail = np.column_stack([np.where(np.arange(n) % 2 == 0, full, 0.6 * full)])
    dec = plan_power_cap(
        base,
        dyn,
        avail,
        np.array([0, 0]),
        site_fac,
        [["dvfs", "pause_training"]],
        0.3**k,
        lambda p: np.asarray(p) ** (1 / k),
    )
    it_after = base + dyn.sum(axis=2) * dec.dyn_power_scale
    fac = pue * it_after.sum(axis=1)
    assert np.all(fac <= avail[:, 0] * (1 + 1e-9))
    even, odd = slice(0, None, 2), slice(1, None, 2)
    assert_allclose(dec.progress_frac[even], 1.0) and not dec.capped[even].any()
    assert dec.capped[odd].all()
    # power scale = DVFS power fraction x running fraction; progress = DVFS throughput x running fraction
    assert_allclose(dec.dyn_power_scale, dec.dvfs_throughput_frac**k * dec.running_frac, rtol=1e-9)
    assert_allclose(dec.progress_frac, dec.dvfs_throughput_frac * dec.running_frac, rtol=1e-9)
    assert_allclose(fac[odd], avail[odd, 0], rtol=1e-9)  # binding: exactly at the supply
