"""Grid disconnections without enough backup: halls go dark and their work stops (energy model §7).

Texas SB 6 (89th Legislature, 2025) lets ERCOT disconnect new large loads (≥ 75 MW) during firm load shed.
Here Poisson disconnections (cap 0) hit a two-hall site with no battery or generation over 30 days; the
checks are invariants of the model: the energy balance stays exact with dark halls, a dark hall draws
nothing, and no work is done in it (training holds no GPUs, inference serves nothing).
"""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict

import gigawatt

SRC = "Texas SB 6 (2025) large-load disconnection, as Poisson import-cap-0 events; model invariant"


def _run() -> gigawatt.Result:
    d = small_scenario_dict(horizon_h=24 * 30, start="2026-06-01T00:00:00")
    d["workloads"] = [
        {
            "kind": "training",
            "name": "pre",
            "target": {"hall": "liquid"},
            "scheduler": {"spare_nodes": 0},
            "reliability": {"failures": "llama3"},
            "mix": {"jobs_per_day": 12},
        },
        {
            "kind": "inference",
            "name": "chat",
            "target": {"hall": "air", "gpus": 160},
            "model": "Llama-3-70B",
            "serving": {"tensor_parallel": 4},
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "demand": {"kind": "profile", "peak_rps": 25.0},
        },
    ]
    d["sites"][0]["grid"].update(
        import_capacity_mw=2.0,
        stochastic_curtailment={"rate_per_year": 60, "mean_duration_h": 3.0, "cap_frac": 0.0},
    )
    return gigawatt.simulate(d)


def test_disconnections_without_backup_stop_work_and_keep_the_balance(validation):
    r = _run()
    ts = r.timeseries
    peak = float(ts["facility_demand_mw"].max())
    dark = ts["dark_halls"].to_numpy() > 0
    assert 10 < dark.sum() < 0.5 * dark.size  # several outages, most of the month powered
    supply = ts["grid_import_mw"] + ts["battery_discharge_mw"]
    uses = ts["facility_power_mw"] - ts["overdraw_mw"] + ts["battery_charge_mw"] + ts["grid_export_mw"]
    resid = float(np.abs(supply - uses - ts["curtailed_mw"]).max())
    validation(
        "30 days, Poisson SB 6 disconnections, no backup: energy balance residual with dark halls [MW]",
        model=resid,
        reference=0.0,
        tolerance="≤ 1e-9 × peak demand",
        source=SRC,
        kind="invariant",
    )
    assert resid <= 1e-9 * peak
    assert_allclose(
        ts["unserved_mw"], ts["facility_demand_mw"] - (ts["facility_power_mw"] - ts["overdraw_mw"]), atol=1e-9
    )
    # a dark hall draws nothing; the campus draws nothing when both are dark (no supply at all)
    for hall in ("liquid", "air"):
        fac = ts[f"site-a/{hall}:facility_power_mw"].to_numpy()
        thr = ts[f"site-a/{hall}:throughput_frac"].to_numpy()
        assert_allclose(fac[thr == 0], 0.0, atol=1e-12)
    both = ts["dark_halls"].to_numpy() == 2
    assert both.any()
    assert_allclose(ts["facility_power_mw"].to_numpy()[both], 0.0, atol=1e-12)
    # no work while dark: training holds no GPUs and inference serves nothing in dark steps
    liquid_dark = ts["site-a/liquid:throughput_frac"].to_numpy() == 0
    air_dark = ts["site-a/air:throughput_frac"].to_numpy() == 0
    work_in_dark = float(ts["pre:allocated_gpus"].to_numpy()[liquid_dark].sum()) + float(
        ts["chat:served_rps"].to_numpy()[air_dark].sum()
    )
    validation(
        "Same month: training GPUs allocated + requests served in dark steps",
        model=work_in_dark,
        reference=0.0,
        tolerance="≤ 1e-9",
        source=SRC,
        kind="invariant",
    )
    assert work_in_dark <= 1e-9
    # every job running at a dark onset is interrupted (class power), its lost work logged
    ev = r.events
    loss = ev[(ev["kind"] == "power_loss") & (ev["job"].fillna("") != "")]
    assert r.jobs["n_interruptions_power"].sum() == len(loss) > 0
    assert (loss["lost_gpu_hours"] >= 0).all() and loss["lost_gpu_hours"].sum() > 0
    # the jobs' lost work is exactly what their failure, preemption and power-loss events logged
    logged = ev.loc[ev["kind"].isin(["failure", "preemption", "power_loss"]), "lost_gpu_hours"].sum()
    assert_allclose(r.jobs["lost_work_gpu_hours"].sum(), logged, rtol=1e-9)
