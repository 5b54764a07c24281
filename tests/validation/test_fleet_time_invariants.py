"""A fleet that grows and shrinks during the run: energy and work are conserved (invariants).

These hold by construction when the engine handles a changing fleet correctly; they are bug checks, not
evidence about real campuses. Scenario 1: a liquid hall installed throughout runs training jobs; an air hall
is commissioned mid-run in two rack groups, one of which is retired before the end, under a daily utilisation
profile. Scenario 2: a training pool whose first rack group is retired and whose second is commissioned
mid-run (jobs preempted by the retirement, nodes added by the commissioning). See
``docs/models/fleet_time.md``.
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


@pytest.fixture(scope="module")
def shrinking_pool() -> gw.Result:
    """A training pool over two NVL72 groups: the first retired at 12.5 h, the second commissioned at 10 h;
    eight 72-GPU jobs submitted at once, with hourly checkpoints."""
    d: dict[str, Any] = small_scenario_dict(horizon_h=48)
    liquid = d["sites"][0]["halls"][0]
    first = liquid["racks"][0]
    first["count"] = 2
    first["decommission_date"] = "2026-07-01T12:30:00"
    second = copy.deepcopy(first)
    del second["decommission_date"]
    second.update(name="nvl72-b", commission_date="2026-07-01T10:00:00")
    liquid["racks"].append(second)
    d["workloads"][0] = {
        "kind": "training",
        "name": "pre",
        "target": {"hall": "liquid"},
        "jobs": [
            {
                "name": f"job-{i}",
                "gpus": 72,
                "duration_h": 5,
                "submit_h": 0,
                "checkpoint_interval_s": 3600,
                "checkpoint_write_s": 60,
            }
            for i in range(8)
        ],
        "reliability": {"failures": "none"},
    }
    return gw.simulate(d)


def test_jobs_are_conserved_while_the_pool_grows_and_shrinks(
    shrinking_pool: gw.Result, validation: Any
) -> None:
    jobs = shrinking_pool.jobs
    assert jobs is not None and len(jobs) == 8
    parts = jobs[
        [
            "useful_gpu_hours",
            "lost_work_gpu_hours",
            "checkpoint_gpu_hours",
            "restart_gpu_hours",
            "throttled_gpu_hours",
            "paused_gpu_hours",
        ]
    ].sum(axis=1)
    err = float((jobs["gpu_hours"] - parts).abs().max())
    validation(
        "per job: GPU-hours allocated = useful + lost + checkpoint + restart + throttled + paused, with jobs "
        "preempted by a rack-group decommissioning and nodes added by a commissioning",
        model=err,
        reference=0.0,
        tolerance="1e-6 GPU-hours",
        source="conservation of GPU-time (docs/models/training.md)",
        kind="invariant",
        within=err <= 1e-6,
    )
    assert err <= 1e-6
    ev = shrinking_pool.events
    assert ((ev["kind"] == "preemption") & (ev["cause"] == "decommissioning")).any()
    done = jobs[jobs["state"] == "finished"]
    assert len(done) == 8
    np.testing.assert_allclose(done["useful_gpu_hours"], 5 * 72, rtol=1e-9, atol=1e-9)
    ts = shrinking_pool.timeseries
    active = ts["site-a/liquid:gpu_utilization_frac"].to_numpy() * 288  # the hall's groups hold 288 GPUs
    assert np.all(active <= ts["site-a/liquid:installed_gpus"].to_numpy() + 1e-6)
