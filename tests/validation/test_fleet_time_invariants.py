"""A fleet that grows and shrinks during the run: energy and work are conserved (invariants).

These hold by construction when the engine handles a changing fleet correctly; they are bug checks, not
evidence about real campuses. The scenario: a liquid hall installed throughout runs a training job; an air
hall is commissioned mid-run in two rack groups, one of which is retired before the end, under a daily
utilisation profile (``docs/models/fleet_time.md``).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.result import POWER_COLUMNS


@pytest.fixture(scope="module")
def run() -> gw.Result:
    d: dict[str, Any] = small_scenario_dict(horizon_h=48)
    air = d["sites"][0]["halls"][1]
    air["commission_date"] = "2026-07-01T09:00:00"
    first = air["racks"][0]
    first["count"] = 5
    second = copy.deepcopy(first)
    second.update(
        name="dgx-2", commission_date="2026-07-01T20:07:00", decommission_date="2026-07-02T15:31:00"
    )
    air["racks"].append(second)
    d["workloads"][1]["target"] = {"hall": "site-a/air"}
    d["workloads"][0] = {
        "kind": "training",
        "name": "pre",
        "target": {"hall": "liquid"},
        "jobs": [{"name": f"job-{i}", "gpus": 144, "duration_h": 6, "submit_h": 4 * i} for i in range(6)],
        "reliability": {"failures": "none"},
    }
    return gw.simulate(d)


def test_energy_is_conserved_while_the_fleet_changes(run: gw.Result, validation: Any) -> None:
    ts = run.timeseries
    parts = ts[POWER_COLUMNS].sum(axis=1).to_numpy()
    err = float(np.max(np.abs(ts["facility_power_mw"].to_numpy() - parts)))
    validation(
        "facility = IT + cooling + electrical losses + other, every step, while halls and racks come and go",
        model=err,
        reference=0.0,
        tolerance="1e-9 MW",
        source="energy balance (first law)",
        kind="invariant",
        within=err <= 1e-9,
    )
    assert err <= 1e-9
    s = run.summary()
    e_sum = float(ts["facility_power_mw"].sum() * run.step_h)
    assert s["facility_energy_mwh"] == pytest.approx(e_sum, rel=1e-9)
    before = ts.index < "2026-07-01T09:00:00"
    air = ts.loc[before, "site-a/air:facility_power_mw"].to_numpy()
    assert np.abs(air).max() <= 1e-12  # a hall not yet built draws nothing


def test_work_is_conserved_while_the_fleet_changes(run: gw.Result, validation: Any) -> None:
    ts = run.timeseries
    total_gpus = run.n_accelerators
    active = ts["gpu_utilization_frac"].to_numpy() * total_gpus
    over = float(np.max(active - ts["installed_gpus"].to_numpy()))
    validation(
        "active GPUs never exceed installed GPUs (racks that do not exist do no work)",
        model=over,
        reference="<= 0",
        tolerance="1e-6 GPUs",
        source="conservation of GPU-time",
        kind="invariant",
        within=over <= 1e-6,
    )
    assert over <= 1e-6
    jobs = run.jobs
    assert jobs is not None and len(jobs) == 6  # every submitted job is accounted for
    done = jobs[jobs["state"] == "finished"]
    assert len(done) == 6
    # finished jobs did exactly their work (no failures): 6 h × 144 GPUs of useful work each
    np.testing.assert_allclose(done["useful_gpu_hours"], 6 * 144, rtol=1e-6, atol=1e-6)
