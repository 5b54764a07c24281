"""Tests for the facility model (energy balance, throttling, water, PUE outputs)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import facility as fm
from gigawatt.physics.cooling_designs import cooling_designs
from gigawatt.physics.it_power import dvfs_dynamic_power_frac


def _plant(presets: list[str], **kw: object) -> fm.FacilityPlant:
    return fm.build_facility_plant(
        cooling_presets=presets, design_it_kw=np.full(len(presets), 10_000.0), **kw
    )


PRESETS = list(cooling_designs())  # every design, in catalog order


def _weather(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    db = rng.uniform(-15, 42, (n, 1))
    wb = db - rng.uniform(0, 15, (n, 1))
    return db, wb


def test_exact_energy_balance_every_step_and_hall() -> None:
    rng = np.random.default_rng(1)
    plant = _plant(PRESETS, server_fan_max_kw=200.0)
    db, wb = _weather(500, rng)
    fixed = rng.uniform(0, 4000, (500, len(PRESETS)))
    dyn = rng.uniform(0, 8000, (500, len(PRESETS)))
    out = fm.facility_flows(plant, fixed, dyn, db, wb)
    parts = out["it_power_kw"] + out["cooling_power_kw"] + out["electrical_loss_kw"] + out["other_power_kw"]
    assert_allclose(out["facility_power_kw"], parts, rtol=1e-12)
    comps = (
        out["chiller_power_kw"]
        + out["rejection_fan_power_kw"]
        + out["pump_power_kw"]
        + out["air_fan_power_kw"]
    )
    assert_allclose(out["cooling_power_kw"], comps, rtol=1e-12)
    losses = out["pdu_loss_kw"] + out["ups_loss_kw"] + out["transformer_loss_kw"]
    assert_allclose(out["electrical_loss_kw"], losses, rtol=1e-12)
    assert np.all(out["pue"] > 1.0)
    assert np.all((out["throughput_frac"] > 0) & (out["throughput_frac"] <= 1))


def test_throttling_keeps_heat_within_capacity() -> None:
    # an under-sized plant (a failed chiller: 60 % of design capacity) in hot weather
    plant = _plant(["air"], cooling_capacity_frac=0.6)
    db, wb = np.full((3, 1), 35.0), np.array([[24.0], [26.0], [28.0]])
    out = fm.facility_flows(plant, np.full((3, 1), 3000.0), np.full((3, 1), 7000.0), db, wb)
    x = out["throughput_frac"][:, 0]
    assert np.all(x < 1.0)
    assert np.all(np.diff(x) <= 0)
    fits = out["thermal_overload_kw"][:, 0] < 1e-6 * out["heat_load_kw"][:, 0]
    floored = x <= plant.min_throughput_frac + 1e-12
    assert np.all(fits | floored)
    # IT power follows the DVFS curve
    it = 3000.0 + out["server_fan_power_kw"][:, 0] + 7000.0 * dvfs_dynamic_power_frac(x)
    assert_allclose(out["it_power_kw"][:, 0], it, rtol=1e-12)


def test_given_throughput_is_used_and_overload_reported() -> None:
    plant = _plant(["dlc_dry"])
    out = fm.facility_flows(
        plant,
        np.full((1, 1), 3000.0),
        np.full((1, 1), 7000.0),
        np.array([[47.0]]),
        np.array([[22.0]]),
        throughput_frac=np.ones((1, 1)),
    )
    assert out["throughput_frac"][0, 0] == 1.0
    assert out["thermal_throughput_frac"][0, 0] < 1.0
    assert out["thermal_overload_kw"][0, 0] > 0


def test_pue_falls_with_load_and_partial_pues() -> None:
    plant = _plant(["air"])
    load = np.linspace(0.1, 1.0, 10)[:, None] * 10_000.0
    out = fm.evaluate_it_power(plant, load, np.full_like(load, 20.0), np.full_like(load, 14.0))
    pue = out["pue"][:, 0]
    assert np.all(np.diff(pue[:6]) < 0)  # steep fall at low load (fixed losses spread over more IT)
    assert_allclose(
        pue - 1,
        (out["cooling_ppue"][:, 0] - 1)
        + (out["electrical_ppue"][:, 0] - 1)
        + out["other_power_kw"][:, 0] / out["it_power_kw"][:, 0],
        rtol=1e-12,
    )


def test_water_only_with_evaporation() -> None:
    plant = _plant(["dlc", "dlc_dry", "immersion", "air_evaporative"])
    it = np.full((1, 4), 7000.0)
    out = fm.evaluate_it_power(plant, it, np.array([[33.0]]), np.array([[22.0]]), step_s=3600)
    w = out["water_l"][0]
    assert w[0] > 0 and w[1] == 0 and w[2] == 0 and w[3] > 0
    # tower: ~1.3 L/kWh evaporation x (1 + 1/(CoC-1)) of the heat rejected
    assert_allclose(w[0] / out["heat_to_tower_kw"][0, 0], 1.31 * 1.25, rtol=0.05)


def test_max_it_power_under_limit() -> None:
    plant = _plant(["dlc", "air"])
    db, wb = np.full((2, 2), 25.0), np.full((2, 2), 18.0)
    lim = np.array([[8000.0, 8000.0], [500.0, 5.0]])
    p = fm.max_it_power_under_limit_kw(plant, lim, db, wb)
    f = fm.facility_power_kw(plant, p, db, wb)
    assert np.all(f[0] <= lim[0] + 1e-9) and f[1, 0] <= lim[1, 0] + 1e-9
    assert_allclose(f[0], lim[0], rtol=1e-6)
    assert p[1, 1] == 0.0  # fixed loads alone exceed 5 kW


def test_bad_inputs() -> None:
    with pytest.raises(KeyError, match="unknown electrical stage kind"):
        fm.build_facility_plant(cooling_presets=["air"], design_it_kw=[1.0], ups_kind=["flywheel"])


def test_thermal_may_bind_screen_is_conservative() -> None:
    # wherever the screen says "cannot bind", the full solve at design load gives throughput 1
    rng = np.random.default_rng(3)
    plant = _plant(PRESETS, server_fan_max_kw=200.0)
    db, wb = _weather(400, rng)
    may = fm.thermal_may_bind(plant, db, wb)
    fixed = np.full((400, len(PRESETS)), 3_000.0)
    dyn = np.full((400, len(PRESETS)), 7_000.0 - 200.0)  # design IT incl. fans at full speed
    x = fm.facility_flows(plant, fixed, dyn, db, wb)["throughput_frac"]
    assert np.all(x[~may] == 1.0)
    assert may.any() and (~may).any()
