"""Losing power has consequences: dark halls draw nothing and their work stops (docs/models/energy.md §7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict

import gigawatt
from gigawatt.checks.load import load_scenario
from gigawatt.engine.controller import hall_blackout_order
from gigawatt.engine.workloads.inference import dark_replicas
from gigawatt.errors import ScenarioError

WINDOW = ("2026-07-01T10:00:00", "2026-07-01T12:00:00")
T_WINDOW_S = 10 * 3600.0
WINDOW_S = 2 * 3600.0
CKPT_S = 3600.0


def _scenario(window: bool, energy: dict[str, Any] | None = None, **grid: Any) -> dict[str, Any]:
    """Training (one 144-GPU job, no failures) in the liquid hall, a chat service in the air hall."""
    d = small_scenario_dict(horizon_h=24)
    d["workloads"] = [
        {
            "kind": "training",
            "name": "pre",
            "target": {"hall": "liquid"},
            "jobs": [
                {
                    "name": "job",
                    "gpus": 144,
                    "duration_h": 16,
                    "submit_h": 0,
                    "checkpoint_interval_s": CKPT_S,
                    "checkpoint_write_s": 60,
                }
            ],
            "scheduler": {"spare_nodes": 0},
            "reliability": {"failures": "none"},
        },
        {
            "kind": "inference",
            "name": "chat",
            "target": {"hall": "air", "gpus": 160},
            "model": "Llama-3-70B",
            "serving": {"tensor_parallel": 4},
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "autoscaling": {"scale_up_delay_s": 300},
            "demand": {"kind": "profile", "peak_rps": 25.0, "daily_trough_frac": 0.3},
        },
    ]
    g = d["sites"][0]["grid"]
    g.update(grid)
    if window:
        g["curtailment_windows"] = [
            {
                "start": WINDOW[0],
                "end": WINDOW[1],
                "cap_frac": g.pop("window_cap_frac", 0.0),
                "reason": "SB 6",
            }
        ]
    if energy is not None:
        d["sites"][0]["energy"] = energy
    return d


@pytest.fixture(scope="module")
def runs() -> dict[str, gigawatt.Result]:
    return {
        "free": gigawatt.simulate(_scenario(False)),
        "sb6": gigawatt.simulate(_scenario(True)),
        "backed": gigawatt.simulate(
            _scenario(
                True,
                {
                    "battery": {"energy_mwh": 4.0, "power_mw": 2.0, "policy": "backup_only"},
                    "generation": [{"kind": "gas", "name": "gt", "capacity_mw": 3.0, "start_time_s": 600}],
                },
            )
        ),
    }


def test_sb6_window_without_backup_interrupts_training_by_what_the_window_implies(runs) -> None:
    free, sb6 = runs["free"], runs["sb6"]
    base, job = free.jobs.iloc[0], sb6.jobs.iloc[0]
    assert base["n_interruptions"] == 0 and base["state"] == "finished"
    # one power interruption, counted with the others
    assert job["n_interruptions_power"] == 1 and job["n_interruptions"] == 1
    assert sb6.summary()["pre:power_interruptions"] == 1
    # lost work = compute since the last completed checkpoint before the window (at most one interval)
    ev = free.events
    ck = ev.loc[(ev["kind"] == "checkpoint") & (ev["time_s"] <= T_WINDOW_S), "time_s"]
    since_s = min(T_WINDOW_S - float(ck.max()), CKPT_S)
    assert_allclose(job["lost_work_gpu_hours"], since_s * 144 / 3600.0, rtol=1e-9)
    assert base["lost_work_gpu_hours"] == pytest.approx(0.0, abs=1e-12)
    loss = sb6.events[(sb6.events["kind"] == "power_loss") & (sb6.events["job"] == "job")]
    assert len(loss) == 1 and float(loss["time_s"].iloc[0]) == pytest.approx(T_WINDOW_S, abs=1e-6)
    assert_allclose(loss["lost_gpu_hours"].sum(), job["lost_work_gpu_hours"], rtol=1e-12)
    # it restarts when power returns and finishes later by the window + the lost work + one start-up
    starts = sb6.events[(sb6.events["kind"] == "start") & (sb6.events["job"] == "job")]["time_s"]
    assert float(starts.iloc[-1]) == pytest.approx(T_WINDOW_S + WINDOW_S, abs=1e-6)
    startup_s = float(ck.min()) - CKPT_S - 60  # the first checkpoint completes after start-up + τ + write
    delay = job["end_s"] - base["end_s"]
    assert delay == pytest.approx(WINDOW_S + since_s + startup_s, abs=61)  # ± one checkpoint write
    # the dark time is queue wait, not GPU-hours of the job; the GPU-hour identity holds
    assert job["queue_wait_s"] == pytest.approx(WINDOW_S, abs=1e-6)
    kinds = ("useful", "lost_work", "checkpoint", "restart", "throttled", "paused")
    assert_allclose(sum(job[f"{k}_gpu_hours"] for k in kinds), job["gpu_hours"], rtol=1e-9)


def test_sb6_window_without_backup_darkens_both_halls_and_drops_requests(runs) -> None:
    free, sb6 = runs["free"], runs["sb6"]
    ts, ts0 = sb6.timeseries, free.timeseries
    win = (ts.index >= WINDOW[0]) & (ts.index < WINDOW[1])
    assert (ts.loc[win, "dark_halls"] == 2).all() and (ts.loc[~win, "dark_halls"] == 0).all()
    assert_allclose(ts.loc[win, "facility_power_mw"], 0.0, atol=1e-12)
    assert_allclose(ts.loc[win, "it_power_mw"], 0.0, atol=1e-12)
    assert ts.loc[win, "pue"].isna().all()
    assert_allclose(ts.loc[win, "throughput_frac"], 0.0, atol=1e-12)
    # the blackout is the dark halls' demand; nothing was drawn beyond supply
    assert_allclose(ts.loc[win, "blackout_mw"], ts.loc[win, "facility_demand_mw"], rtol=1e-12)
    assert_allclose(ts["overdraw_mw"], 0.0, atol=1e-12)
    s = sb6.summary()
    assert s["blackout_energy_mwh"] == pytest.approx(ts.loc[win, "facility_demand_mw"].sum() * sb6.step_h)
    assert s["blackout_hall_hours_h"] == pytest.approx(2 * 2.0)
    # inference serves nothing while dark, and its replicas cold-start after power returns (300 s = 1 step)
    assert_allclose(ts.loc[win, "chat:served_rps"], 0.0, atol=1e-12)
    after = np.flatnonzero(win)[-1] + 1
    assert ts["chat:served_rps"].iloc[after] == pytest.approx(0.0, abs=1e-12)
    lost_req = float((ts0["chat:served_rps"] - ts["chat:served_rps"]).sum() * 300)
    window_req = float(ts0.loc[win, "chat:served_rps"].sum() * 300)
    assert lost_req >= window_req > 0
    svc, svc0 = sb6.services.iloc[0], free.services.iloc[0]
    assert svc["served_requests"] == pytest.approx(svc0["served_requests"] - lost_req, rel=1e-9)
    assert svc["slo_attainment_frac"] < svc0["slo_attainment_frac"]
    # one event per hall and dark stretch, next to the grid event
    ev = sb6.events
    halls = ev.loc[ev["kind"] == "blackout", "hall"]
    assert sorted(halls) == ["air", "liquid"]
    assert (ev["kind"] == "grid_curtailment").sum() == 1


def test_enough_battery_and_gas_change_nothing(runs) -> None:
    free, backed = runs["free"], runs["backed"]
    ts = backed.timeseries
    assert (ts["dark_halls"] == 0).all()
    assert backed.summary()["blackout_energy_mwh"] == pytest.approx(0.0, abs=1e-12)
    assert backed.summary()["generation_gt_energy_mwh"] > 0
    cols = ["n_interruptions", "lost_work_gpu_hours", "useful_gpu_hours", "end_s"]
    assert_allclose(backed.jobs[cols].to_numpy(float), free.jobs[cols].to_numpy(float), rtol=1e-12)
    assert_allclose(ts["chat:served_rps"], free.timeseries["chat:served_rps"], rtol=1e-12)
    assert_allclose(ts["facility_power_mw"], free.timeseries["facility_power_mw"], rtol=1e-9)


@pytest.mark.parametrize(
    "grid",
    [
        {"energisation_date": "2027-01-01T00:00:00"},
        {"curtailment_windows": [{"start": "2026-06-30T00:00:00", "end": "2026-07-03T00:00:00"}]},
    ],
    ids=["never-energised", "disconnected-throughout"],
)
def test_site_without_supply_serves_no_energy_and_reports_no_pue(grid: dict[str, Any]) -> None:
    d = _scenario(False, **grid)
    r = gigawatt.simulate(d)
    s, ts = r.summary(), r.timeseries
    assert s["facility_energy_mwh"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(s["pue"])
    assert (ts["dark_halls"] == 2).all()
    assert_allclose(ts["blackout_mw"], ts["facility_demand_mw"], rtol=1e-12)
    assert ts["facility_demand_mw"].min() > 0
    assert r.jobs.iloc[0]["useful_gpu_hours"] == pytest.approx(0.0, abs=1e-12)
    assert r.services.iloc[0]["served_requests"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("order", "dark", "lit"), [([], "air", "liquid"), (["liquid"], "liquid", "air")])
def test_blackout_order_picks_the_halls_that_go_dark(order: list[str], dark: str, lit: str) -> None:
    # 0.2 MW during the window: below both halls' idle load (~0.3 MW) but above either hall's after capping
    d = _scenario(True, import_capacity_mw=1.0, window_cap_frac=0.2)
    d["sites"][0]["power_capping"] = {"blackout_order": order}
    r = gigawatt.simulate(d)
    ts = r.timeseries
    win = (ts.index >= WINDOW[0]) & (ts.index < WINDOW[1])
    assert (ts.loc[win, "dark_halls"] == 1).all()
    assert_allclose(ts.loc[win, f"site-a/{dark}:facility_power_mw"], 0.0, atol=1e-12)
    assert (ts.loc[win, f"site-a/{lit}:facility_power_mw"] > 0).all()
    assert (ts.loc[win, "grid_import_mw"] <= 0.2 * (1 + 1e-9)).all()
    assert_allclose(ts[f"site-a/{dark}:throughput_frac"][win], 0.0, atol=1e-12)
    # only the dark hall's work stops
    jobs = r.jobs.iloc[0]
    assert jobs["n_interruptions_power"] == (1 if dark == "liquid" else 0)


def test_blackout_order_default_and_named() -> None:
    assert hall_blackout_order(["a", "b", "c"], []) == [2, 1, 0]
    assert hall_blackout_order(["a", "b", "c"], ["a"]) == [0, 2, 1]
    assert hall_blackout_order(["a", "b", "c"], ["b", "a"]) == [1, 0, 2]


def test_blackout_order_names_unknown_halls() -> None:
    d = small_scenario_dict()
    d["sites"][0]["power_capping"] = {"blackout_order": ["liquid", "nope"]}
    with pytest.raises(ScenarioError, match="blackout_order"):
        load_scenario(d)


def test_dark_replicas_cold_start_after_power_returns() -> None:
    ready = np.array([4, 4, 4, 4, 4, 4])
    starting = np.array([0, 1, 0, 0, 0, 0])
    dark = np.array([False, True, True, False, False, False])
    r, s = dark_replicas(ready, starting, dark, restart_s=600.0, step_s=300.0)
    np.testing.assert_array_equal(r, [4, 0, 0, 0, 0, 4])
    np.testing.assert_array_equal(s, [0, 0, 0, 4, 4, 0])


def test_a_dark_hall_is_not_relit_into_a_supply_its_restarting_jobs_would_trip() -> None:
    # training cannot be paused (order: dvfs only) and the supply in a 4-h window lies just above the idle
    # campus: the liquid hall goes dark, and stays dark, instead of relighting once its jobs have stopped
    idle = small_scenario_dict(horizon_h=24)
    idle["workloads"] = []
    ts0 = gigawatt.simulate(idle).timeseries
    end = "2026-07-01T14:00:00"
    win0 = (ts0.index >= WINDOW[0]) & (ts0.index < end)
    cap = 1.02 * float(ts0.loc[win0, "facility_power_mw"].max())
    d = _scenario(True, import_capacity_mw=1.0, window_cap_frac=round(cap, 4))
    d["sites"][0]["grid"]["curtailment_windows"][0]["end"] = end
    d["sites"][0]["power_capping"] = {"order": ["dvfs"], "blackout_order": ["liquid"]}
    r = gigawatt.simulate(d)
    ts = r.timeseries
    win = (ts.index >= WINDOW[0]) & (ts.index < end)
    assert (ts.loc[win, "site-a/liquid:throughput_frac"] == 0).all()
    assert (ts.loc[~win, "site-a/liquid:throughput_frac"] > 0).all()
    assert r.jobs.iloc[0]["n_interruptions_power"] == 1
