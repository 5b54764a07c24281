"""A fleet that changes over time: commissioning and decommissioning of halls and rack groups, GPU refreshes,
part-built halls, and the checks of their dates."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.conftest import dgx_hall_dict

import gigawatt as gw
from gigawatt.engine.fleet import online_frac
from gigawatt.errors import ScenarioError
from gigawatt.result import POWER_COLUMNS


def _hall(d: dict[str, Any]) -> dict[str, Any]:
    hall: dict[str, Any] = d["sites"][0]["halls"][0]
    return hall


def _four_groups(n_installed: int) -> dict[str, Any]:
    """One air hall of four 10-rack DGX H100 groups; the last ``4 − n_installed`` are commissioned after the
    horizon (they exist in the design, so the plant is sized for all four)."""
    d = dgx_hall_dict("air", util=0.7)
    base = _hall(d)["racks"][0]
    racks = []
    for i in range(4):
        rg = copy.deepcopy(base)
        rg["name"] = f"dgx-{i}"
        if i >= n_installed:
            rg["commission_date"] = "2027-01-01T00:00:00"
        racks.append(rg)
    _hall(d)["racks"] = racks
    return d


def test_online_frac_is_fractional_on_the_commissioning_step() -> None:
    starts = np.arange(4) * 100.0
    on = np.array([[150.0, 325.0], [-np.inf, np.inf], [500.0, np.inf]])
    got = online_frac(on, starts, 100.0)
    want = np.array([[0, 1, 0], [0.5, 1, 0], [1, 1, 0], [0.25, 1, 0]], dtype=float)
    assert_allclose(got, want, rtol=0, atol=1e-12)


def test_a_hall_that_does_not_exist_yet_draws_nothing() -> None:
    d = dgx_hall_dict("air")
    _hall(d)["commission_date"] = "2026-01-15T06:00:00"
    ts = gw.simulate(d).timeseries
    before = ts.index < "2026-01-15T06:00:00"
    assert_allclose(ts.loc[before, "facility_power_mw"], 0.0, rtol=0, atol=1e-12)
    assert_allclose(ts.loc[before, "it_power_mw"], 0.0, rtol=0, atol=1e-12)
    assert (ts.loc[~before, "facility_power_mw"] > 0.1).all()
    # the same hall undated draws the same once it is in service (constant climate, constant load)
    ref = gw.simulate(dgx_hall_dict("air")).timeseries
    assert_allclose(ts.loc[~before, "facility_power_mw"], ref.loc[~before, "facility_power_mw"], rtol=1e-9)


def test_racks_commissioned_and_retired_inside_a_step_count_pro_rata() -> None:
    d = dgx_hall_dict("air")
    _hall(d)["racks"][0]["commission_date"] = "2026-01-15T06:05:00"  # 1/3 into a 15-min step
    _hall(d)["racks"][0]["decommission_date"] = "2026-01-15T18:10:00"  # 2/3 into a step
    r = gw.simulate(d)
    ref = gw.simulate(dgx_hall_dict("air"))
    it, it_ref = r.timeseries["it_power_mw"].to_numpy(), ref.timeseries["it_power_mw"].to_numpy()
    k_on, k_off = 24, 72  # the steps holding the dates
    assert_allclose(it[k_on + 1 : k_off], it_ref[k_on + 1 : k_off], rtol=1e-9)
    # IT power is linear in the installed share (constant climate keeps the fans' inlet term out of it
    # only approximately, hence the tolerance)
    assert_allclose(it[k_on], 2 / 3 * it_ref[k_on], rtol=0.02)
    assert_allclose(it[k_off], 2 / 3 * it_ref[k_off], rtol=0.02)
    assert_allclose(it[k_off + 1 :], 0.0, rtol=0, atol=1e-12)
    # the hall's plant keeps running (at no IT load) after its racks are gone: cooling/losses/house load
    assert (r.timeseries["facility_power_mw"].to_numpy()[k_off + 1 :] > 0).all()


def test_pue_at_quarter_build_out_is_higher_than_at_full() -> None:
    quarter = gw.simulate(_four_groups(1))
    full = gw.simulate(_four_groups(4))
    q, f = quarter.timeseries, full.timeseries
    # same load per installed GPU: a quarter of the IT power
    assert_allclose(q["it_power_mw"], f["it_power_mw"] / 4, rtol=0.02)
    assert (q["pue"] > f["pue"] + 0.005).all()
    for res in (quarter, full):
        ts = res.timeseries
        assert_allclose(ts["facility_power_mw"], ts[POWER_COLUMNS].sum(axis=1), rtol=1e-12)


def test_a_refresh_swaps_accelerator_power_at_the_date() -> None:
    d = dgx_hall_dict("dlc", util=0.8)
    old = _hall(d)["racks"][0]
    old["decommission_date"] = "2026-01-15T12:00:00"
    new = copy.deepcopy(old)
    del new["decommission_date"]
    new.update(name="b300", commission_date="2026-01-15T12:00:00", servers_per_rack=2)
    new["server"] = {"accelerator": "B300", "host_overhead_w": 4600}
    _hall(d)["racks"] = [old, new]
    r = gw.simulate(d)
    ts = r.timeseries
    only_old = dgx_hall_dict("dlc", util=0.8)
    only_new = dgx_hall_dict("dlc", util=0.8)
    _hall(only_new)["racks"] = [{k: v for k, v in new.items() if k != "commission_date"}]
    a, b = gw.simulate(only_old).timeseries, gw.simulate(only_new).timeseries
    first = ts.index < "2026-01-15T12:00:00"
    assert_allclose(ts.loc[first, "it_power_mw"], a.loc[first, "it_power_mw"], rtol=1e-9)
    assert_allclose(ts.loc[~first, "it_power_mw"], b.loc[~first, "it_power_mw"], rtol=1e-9)
    # the B300 racks draw more per GPU than the H100 racks
    assert b["it_power_mw"].iloc[0] / 160 > a["it_power_mw"].iloc[0] / 320


def test_installed_columns_and_kpis() -> None:
    d = _four_groups(4)
    _hall(d)["racks"][1]["commission_date"] = "2026-01-15T12:00:00"
    r = gw.simulate(d)
    ts = r.timeseries
    gpus = ts["installed_gpus"].to_numpy()
    assert_allclose(gpus[:48], 960.0, rtol=0, atol=1e-9)
    assert_allclose(gpus[48:], 1280.0, rtol=0, atol=1e-9)
    cap = ts["installed_it_capacity_mw"].to_numpy()
    assert cap[48] > cap[0] > 0
    s = r.summary()
    assert s["installed_gpu_hours_h"] == pytest.approx(960 * 12 + 1280 * 12, rel=1e-9)
    assert s["peak_installed_gpus"] == pytest.approx(1280, rel=1e-12)


# ------------------------------------------------------------------------------------------------ checks
def _problems(d: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ScenarioError) as exc:
        gw.load_scenario(d)
    return dict(exc.value.problems)


def test_decommission_before_commission_is_an_error_with_its_path() -> None:
    d = dgx_hall_dict("air")
    _hall(d)["racks"][0].update(commission_date="2026-02-01", decommission_date="2026-01-20")
    probs = _problems(d)
    assert "must be after commission_date" in probs["sites[0].halls[0].racks[0]"]
    d = dgx_hall_dict("air")
    _hall(d).update(commission_date="2026-02-01", decommission_date="2026-01-01")
    assert "must be after commission_date" in _problems(d)["sites[0].halls[0]"]


def test_rack_group_before_its_hall_and_after_its_hall() -> None:
    d = dgx_hall_dict("air")
    _hall(d).update(commission_date="2026-01-15T06:00:00", decommission_date="2026-01-15T20:00:00")
    _hall(d)["racks"][0].update(commission_date="2026-01-15T01:00:00", decommission_date="2026-01-16")
    probs = _problems(d)
    assert "before its hall" in probs["sites[0].halls[0].racks[0].commission_date"]
    assert "after its hall" in probs["sites[0].halls[0].racks[0].decommission_date"]


def test_refresh_onto_an_unknown_accelerator() -> None:
    d = dgx_hall_dict("air")
    old = _hall(d)["racks"][0]
    old["decommission_date"] = "2026-01-15T12:00:00"
    new = copy.deepcopy(old)
    del new["decommission_date"]
    new.update(name="new", commission_date="2026-01-15T12:00:00")
    new["server"]["accelerator"] = "B301"
    _hall(d)["racks"].append(new)
    probs = _problems(d)
    assert "B300" in probs["sites[0].halls[0].racks[1].server.accelerator"]  # a suggestion


def test_a_target_never_online_is_an_error() -> None:
    d = dgx_hall_dict("air")
    _hall(d)["commission_date"] = "2027-01-01"
    probs = _problems(d)
    assert "never installed" in probs["workloads[0].target"]


def _inference(d: dict[str, Any], **extra: Any) -> dict[str, Any]:
    d["workloads"] = [
        {
            "kind": "inference",
            "name": "chat",
            "target": {"hall": "h"},
            "model": "Llama-3-70B",
            "serving": {"tensor_parallel": 4},
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "demand": {"kind": "profile", "peak_rps": 100.0, "daily_trough_frac": 0.7},
            **extra,
        }
    ]
    return d


def test_inference_serves_only_on_installed_gpus() -> None:
    d = dgx_hall_dict("air")
    a = _hall(d)["racks"][0]
    a["count"] = 1  # 32 GPUs = 8 replicas from the start ...
    b = copy.deepcopy(a)
    b.update(name="late", count=9, commission_date="2026-01-15T06:00:00")  # ... + 288 GPUs at 06:00
    _hall(d)["racks"] = [a, b]
    r = gw.simulate(_inference(d))
    ts = r.timeseries
    early = ts.index < "2026-01-15T06:00:00"
    assert (ts.loc[early, "chat:replicas"] <= 8).all()
    assert ts.loc[~early, "chat:replicas"].max() > 8
    assert (ts.loc[early, "chat:pool_shortfall_replicas"] > 0).any()  # the autoscaler wanted more
    assert_allclose(ts.loc[~early, "chat:pool_shortfall_replicas"], 0.0, rtol=0, atol=1e-12)
    assert ts.loc[early, "chat:dropped_rps"].sum() > ts.loc[~early, "chat:dropped_rps"].sum()
    active = ts["gpu_utilization_frac"].to_numpy() * r.n_accelerators
    assert np.all(active <= ts["installed_gpus"].to_numpy() + 1e-6)


def test_disaggregated_inference_on_dated_groups_is_an_error() -> None:
    d = dgx_hall_dict("air")
    _hall(d)["racks"][0]["commission_date"] = "2026-01-15T06:00:00"
    d = _inference(d)
    d["workloads"][0]["serving"]["disaggregation"] = {"prefill_target": {"hall": "h", "gpus": 64}}
    d["workloads"][0]["target"]["gpus"] = 128
    probs = _problems(d)
    assert any("disaggregat" in m for m in probs.values()), probs


def test_inference_sharing_a_dated_training_pool_is_an_error() -> None:
    d = _two_group_training({"gpus": 64, "duration_h": 4}, b={"commission_date": "2026-01-15T06:00:00"})
    d["workloads"].append(
        _inference(dgx_hall_dict("air"), shared_with_training="pre")["workloads"][0] | {"name": "chat"}
    )
    probs = _problems(d)
    assert "sharing is only modelled" in probs["workloads[1].shared_with_training"]


def test_dates_in_yaml_errors_carry_a_line(tmp_path: Any) -> None:
    import yaml

    d = dgx_hall_dict("air")
    _hall(d)["commission_date"] = "2026-01-15T06:00:00"
    _hall(d)["racks"][0]["commission_date"] = "2026-01-15T01:00:00"
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        gw.load_scenario(f)
    assert "line" in str(exc.value) and "racks[0].commission_date" in str(exc.value)


# ---------------------------------------------------------------------------------------------- training
def _two_group_training(job: dict[str, Any], **dates: dict[str, str]) -> dict[str, Any]:
    """One air hall of two 10-rack DGX H100 groups (40 nodes of 8 GPUs each), one training job."""
    d = dgx_hall_dict("air")
    d["horizon_h"] = 48
    a = _hall(d)["racks"][0]
    b = copy.deepcopy(a)
    b["name"] = "dgx-b"
    a.update(dates.get("a", {}))
    b.update(dates.get("b", {}))
    _hall(d)["racks"] = [a, b]
    d["workloads"] = [
        {
            "kind": "training",
            "name": "pre",
            "target": {"hall": "h"},
            "jobs": [{"name": "job", "submit_h": 0, **job}],
            "scheduler": {"spare_nodes": 0},
            "reliability": {"failures": "none"},
        }
    ]
    return d


def test_a_training_job_waits_for_the_racks_it_needs() -> None:
    d = _two_group_training({"gpus": 640, "duration_h": 4}, b={"commission_date": "2026-01-15T06:00:00"})
    r = gw.simulate(d)
    job = r.jobs.iloc[0]
    assert job["state"] == "finished"
    assert job["start_s"] == pytest.approx(6 * 3600, abs=1e-6)
    ev = r.events
    assert ((ev["kind"] == "nodes_commissioned") & (ev["cause"] == "commissioning")).sum() == 1


def test_decommissioning_preempts_the_jobs_on_the_retired_racks() -> None:
    job = {"gpus": 320, "duration_h": 10, "checkpoint_interval_s": 3600, "checkpoint_write_s": 60}
    d = _two_group_training(job, a={"decommission_date": "2026-01-15T05:30:00"})
    r = gw.simulate(d)
    j = r.jobs.iloc[0]
    assert j["state"] == "finished"
    assert j["n_preemptions"] == 1
    # the work since the last hourly checkpoint (less than one interval × 320 GPUs) is lost, then the job
    # resumes on the other group
    assert 0 < j["lost_work_gpu_hours"] <= 320 + 1e-6
    assert j["useful_gpu_hours"] == pytest.approx(10 * 320, rel=1e-6)
    ev = r.events
    pre = ev[(ev["kind"] == "preemption") & (ev["cause"] == "decommissioning")]
    assert len(pre) == 1
    ts = r.timeseries
    active = ts["gpu_utilization_frac"].to_numpy() * r.n_accelerators
    assert np.all(active <= ts["installed_gpus"].to_numpy() + 1e-6)
    after = ts.index >= "2026-01-15T06:00:00"
    assert_allclose(ts.loc[after, "installed_gpus"], 320.0, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------ on-site plant
def test_on_site_plant_produces_only_while_installed() -> None:
    d = dgx_hall_dict("air")
    d["horizon_h"] = 24
    site = d["sites"][0]
    site["grid"].update(import_capacity_mw=0.2)  # short: gas covers the rest once it is installed
    site["energy"] = {
        "generation": [
            {
                "kind": "gas",
                "name": "gt",
                "capacity_mw": 1.0,
                "start_time_s": 0,
                "commission_date": "2026-01-15T06:00:00",
                "decommission_date": "2026-01-15T18:00:00",
            },
            {
                "kind": "baseload",
                "name": "smr",
                "capacity_mw": 0.05,
                "commission_date": "2026-01-15T12:00:00",
            },
        ]
    }
    ts = gw.simulate(d).timeseries
    gas = ts["generation_gt_mw"]
    on = (ts.index >= "2026-01-15T06:00:00") & (ts.index < "2026-01-15T18:00:00")
    assert_allclose(gas[~on], 0.0, rtol=0, atol=1e-12)
    assert (gas[on] > 0.05).all()
    smr = ts["generation_smr_mw"]
    late = ts.index >= "2026-01-15T12:00:00"
    assert_allclose(smr[~late], 0.0, rtol=0, atol=1e-12)
    assert_allclose(smr[late], 0.05 * 0.92, rtol=1e-9)
    # outside the gas unit's life the site is short: capping/blackout, never gas
    assert (ts.loc[~on, "unserved_mw"] > 0).any()


def test_a_battery_charges_and_discharges_only_while_installed() -> None:
    d = dgx_hall_dict("air")
    site = d["sites"][0]
    site["grid"].update(import_capacity_mw=0.3)  # short: the battery covers the gap while it lasts
    site["energy"] = {
        "battery": {
            "energy_mwh": 1.0,
            "power_mw": 0.5,
            "commission_date": "2026-01-15T08:00:00",
            "decommission_date": "2026-01-15T20:00:00",
        }
    }
    ts = gw.simulate(d).timeseries
    on = (ts.index >= "2026-01-15T08:00:00") & (ts.index < "2026-01-15T20:00:00")
    moved = ts["battery_charge_mw"] + ts["battery_discharge_mw"]
    assert_allclose(moved[~on], 0.0, rtol=0, atol=1e-12)
    assert moved[on].sum() > 0


def test_plant_dates_out_of_order_are_an_error() -> None:
    d = dgx_hall_dict("air")
    d["sites"][0]["energy"] = {
        "generation": [
            {
                "kind": "gas",
                "name": "gt",
                "capacity_mw": 1.0,
                "commission_date": "2026-02-01",
                "decommission_date": "2026-01-01",
            }
        ]
    }
    assert "must be after commission_date" in _problems(d)["sites[0].energy.generation[0]"]


def test_installed_utilization_counts_only_installed_gpus() -> None:
    d = _four_groups(4)
    _hall(d)["racks"][1]["commission_date"] = "2026-01-15T12:00:00"
    r = gw.simulate(d)
    ts = r.timeseries
    # a constant 70 % profile applies to the installed GPUs: 70 % of them, before and after the date
    assert_allclose(ts["installed_gpu_utilization_frac"], 0.7, rtol=1e-9)
    assert (ts["gpu_utilization_frac"].iloc[:48] < 0.7 * 0.8).all()  # of the whole (future) fleet
    assert r.summary()["mean_installed_gpu_utilization_frac"] == pytest.approx(0.7, rel=1e-9)


def test_a_training_job_larger_than_the_installed_pool_is_a_warning() -> None:
    from gigawatt.checks.feasibility import scenario_warnings

    d = _two_group_training(
        {"gpus": 640, "duration_h": 4},
        a={"decommission_date": "2026-01-15T06:00:00"},
        b={"commission_date": "2026-01-15T06:00:00"},
    )
    warns = dict(scenario_warnings(gw.load_scenario(d)))
    assert "at most 320" in warns["workloads[0].jobs[0].gpus"]


def test_example_campus_counts_a_refresh_once_in_the_hall_design() -> None:
    from gigawatt.checks.feasibility import scenario_warnings

    sc = gw.load_scenario("examples/scenarios/fleet_over_time.yaml")
    assert scenario_warnings(sc) == []
    hall = sc.sites[0].halls[0]
    h100, b300 = (rg.count * rg.rack_power_kw() / 1e3 for rg in hall.racks)
    # the H100 group and its B300 replacement are never installed together
    assert hall.nameplate_it_power_mw() == pytest.approx(max(h100, b300), rel=1e-12)
    assert hall.nameplate_it_power_mw() < h100 + b300 - 1.0
