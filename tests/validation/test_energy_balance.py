"""Year-long supply dispatch with every source on: exact energy balance and SoC bookkeeping (issue 6).

Invariants: these hold by construction if the dispatch code is right; they are bug checks, not evidence about
real grids. The year's weather, demand, prices and outages are synthetic (seeded sinusoids and noise).
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pvlib import clearsky, irradiance, solarposition

from gigawatt.physics import dispatch as dp
from gigawatt.physics import generation as gen
from gigawatt.physics.storage import Battery

STEP_H = 5 / 60


@pytest.fixture(scope="module")
def year():
    t = pd.date_range("2026-01-01", "2026-12-31 23:55", freq="5min", tz="UTC")
    n = t.size
    hours = np.arange(n) * STEP_H
    rng = np.random.default_rng(2026)
    lat, lon = 53.3, -6.3
    sp = solarposition.get_solarposition(t, lat, lon, method="nrel_numpy")
    zen = np.asarray(sp["apparent_zenith"])
    ghi_clear = np.asarray(clearsky.haurwitz(sp["apparent_zenith"])["ghi"])
    cloud = np.clip(0.35 + 0.65 * rng.beta(2, 2, n // 288 + 1).repeat(288)[:n], 0, 1)
    ghi = ghi_clear * cloud
    doy = np.asarray(t.day_of_year, dtype=float)
    parts = irradiance.erbs(ghi, zen, doy)
    temp = 10 + 8 * np.sin(2 * np.pi * (doy - 110) / 365) + 4 * np.sin(2 * np.pi * (hours - 9) / 24)
    wind10 = np.clip(6 + 3 * np.sin(2 * np.pi * doy / 365) + rng.normal(0, 2, n), 0, None)
    demand = 120 + 10 * np.sin(2 * np.pi * (hours - 9) / 24) + 0.5 * np.clip(temp - 15, 0, None)
    solar = gen.pv_power_mw(
        t,
        lat,
        lon,
        ghi,
        np.asarray(parts["dni"]),
        np.asarray(parts["dhi"]),
        temp,
        np.full(n, 2.0),
        capacity_dc_mw=60.0,
    )
    wind = gen.wind_power_mw(gen.hub_height_wind_speed_m_per_s(wind10, 10, 90), 8, losses_frac=0.1)
    smr = gen.baseload_power_mw(n, 30.0, 0.92, STEP_H, rng, mean_outage_h=300.0)
    cap = dp.grid_import_cap_mw(t, 110.0, "2026-01-20")
    events = dp.poisson_curtailment_events(t, 6.0, 4.0, rng)
    cap = cap * dp.curtailment_cap_frac(t, events)
    price = 70 + 40 * np.sin(2 * np.pi * (hours - 13) / 24) + rng.normal(0, 10, n)
    carbon = 300 - 100 * np.clip(np.sin(2 * np.pi * (hours - 6) / 24), 0, None)
    return dict(demand=demand, solar=solar, wind=wind, smr=smr, cap=cap, price=price, carbon=carbon)


@pytest.mark.slow
@pytest.mark.parametrize("policy", dp.POLICIES)
def test_year_energy_balance_and_soc_exact(year, policy, validation):
    b = Battery(400.0, 100.0, round_trip_efficiency_frac=0.85, reserve_soc_frac=0.4)
    gas = [
        gen.GasUnit("recip", 40.0, 0.2, 300.0, 8300.0, 6.0),
        gen.GasUnit("aero", 50.0, 0.4, 600.0, 9100.0, 6.0),
    ]
    r = dp.dispatch(
        year["demand"],
        dp.DispatchInputs(
            STEP_H,
            year["cap"],
            20.0,
            {"solar": year["solar"], "wind": year["wind"], "smr": year["smr"]},
            gas,
            b,
            policy,
            price_usd_per_mwh=year["price"],
            carbon_gco2_per_kwh=year["carbon"],
        ),
    )
    # every source contributed
    for name in ("solar", "wind", "smr", "recip", "aero"):
        assert r.generation_mw[name].sum() > 0, name
    assert r.battery_discharge_mw.sum() > 0 and r.battery_charge_mw.sum() > 0
    # exact balance each step: grid + generation + discharge = served + charge + export + curtailed
    scale = float(r.demand_mw.max())
    delta = (r.battery_charge_mw * b.eta_charge - r.battery_discharge_mw / b.eta_discharge) * STEP_H
    soc_err = np.abs(r.battery_soc_frac - (b.initial_soc_frac + np.cumsum(delta) / b.energy_mwh)).max()
    src = "energy conservation (exact invariant of the dispatch)"
    validation(
        f"policy {policy}: largest per-step energy-balance residual over a year of 5-min steps "
        "[fraction of peak demand]",
        model=float(np.abs(r.balance_residual_mw()).max() / scale),
        reference=0.0,
        tolerance="≤ 1e-9",
        source=src + ": grid + generation + discharge = served + charge + export + curtailed",
        kind="invariant",
    )
    validation(
        f"policy {policy}: largest battery SoC deviation from cumulative charge/discharge bookkeeping "
        "[fraction of capacity]",
        model=float(soc_err),
        reference=0.0,
        tolerance="≤ 1e-9 absolute",
        source=src + ": SoC = SoC0 + Σ(η_c charge − discharge/η_d) Δt / E",
        kind="invariant",
    )
    assert np.abs(r.balance_residual_mw()).max() <= 1e-9 * scale
    # SoC bookkeeping exact over the year
    assert_allclose(r.battery_soc_frac, b.initial_soc_frac + np.cumsum(delta) / b.energy_mwh, atol=1e-9)
    assert_allclose(
        (r.battery_soc_frac[-1] - b.initial_soc_frac) * b.energy_mwh, delta.sum(), rtol=1e-9, atol=1e-9
    )
    assert np.all(r.grid_import_mw <= year["cap"] * (1 + 1e-12))
    assert np.all(r.grid_import_mw[: 19 * 288] == 0.0)  # before energisation on 20 January
