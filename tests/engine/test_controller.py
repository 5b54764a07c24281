"""Facility controller: the bound behind skipping re-decisions, and that skipping keeps the guarantees."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw
import gigawatt.engine.controller as controller_mod
from gigawatt.engine.controller import MARGINAL_FACILITY_PER_IT_BOUND
from gigawatt.physics import facility, weather
from gigawatt.physics.cooling import COOLING_PRESETS


@pytest.mark.parametrize("design", sorted(COOLING_PRESETS))
def test_marginal_facility_power_per_it_is_bounded(design: str) -> None:
    """dP_facility/dP_IT <= MARGINAL_FACILITY_PER_IT_BOUND over the whole load range and hot and cold years."""
    design_kw = 10_000.0
    plant = facility.build_facility_plant(cooling_presets=[design], design_it_kw=[design_kw])
    worst = 0.0
    for climate in ("phoenix", "singapore", "stockholm", "miami"):
        w, _ = weather.load_climate(climate)
        db = w["dry_bulb_c"].to_numpy()[:, None]
        wb = w["wet_bulb_c"].to_numpy()[:, None]
        for frac in np.linspace(0.0, 1.15, 24):
            it0 = np.full_like(db, frac * design_kw)
            d_it = 0.02 * design_kw
            f0 = facility.facility_power_kw(plant, it0, db, wb)
            f1 = facility.facility_power_kw(plant, it0 + d_it, db, wb)
            worst = max(worst, float(np.max((f1 - f0) / d_it)))
    assert 1.0 < worst <= MARGINAL_FACILITY_PER_IT_BOUND, worst


def _capped_training_scenario() -> dict:
    d = small_scenario_dict(horizon_h=96)
    d["start"] = "2026-07-10T00:00:00"
    d["workloads"] = [
        {
            "kind": "training",
            "name": "mix",
            "target": {"hall": "liquid"},
            "jobs": [
                {"name": f"j{i}", "gpus": 64, "duration_h": 5.0, "submit_h": 3.0 * i} for i in range(30)
            ],
        },
        d["workloads"][1],
    ]
    return d


def test_skipping_harmless_changes_keeps_cap_and_energy_balance(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a grid cap that binds, results with and without the skip both respect the cap and balance."""
    d = _capped_training_scenario()
    free = gw.simulate(d)
    cap_mw = 0.93 * float(free.timeseries["facility_power_mw"].max())
    d["sites"][0]["grid"]["import_capacity_mw"] = cap_mw
    with_skip = gw.simulate(d)
    monkeypatch.setattr(controller_mod.FacilityController, "change_is_harmless", lambda self, *a: False)
    without_skip = gw.simulate(d)
    for res in (with_skip, without_skip):
        ts = res.timeseries
        assert (ts["grid_import_mw"] <= cap_mw * (1 + 1e-9)).all()
        parts = ts[["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]].sum(axis=1)
        np.testing.assert_allclose(ts["facility_power_mw"], parts, rtol=1e-12)
    # the decisions that matter (capped steps) are made exactly in both runs: same capped energy within 1 %
    a, b = with_skip.summary(), without_skip.summary()
    assert a["facility_energy_mwh"] == pytest.approx(b["facility_energy_mwh"], rel=1e-2)
    assert a["hours_capped_h"] == pytest.approx(b["hours_capped_h"], rel=0.05, abs=0.5)


def test_decisions_grow_with_relevant_events_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Far from the grid cap and thermal limits, busy job churn does not force hourly re-decisions."""
    d = _capped_training_scenario()
    d["sites"][0]["grid"]["import_capacity_mw"] = 1000.0
    calls: list[int] = []
    orig = controller_mod.FacilityController.decide_block

    def counting(self, step0: int, step1: int):
        calls.append(step1 - step0)
        return orig(self, step0, step1)

    monkeypatch.setattr(controller_mod.FacilityController, "decide_block", counting)
    res = gw.simulate(d)
    assert res.jobs is not None and len(res.jobs) == 30
    n_blocks = d["horizon_h"]  # hourly blocks
    assert len(calls) < n_blocks / 4, len(calls)
