"""Own vs cloud vs hybrid from a Result: break-even utilisation, all-cloud cost, bursts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt import economics
from gigawatt.economics import cloud
from gigawatt.perf.reliability import expected_goodput_frac


@pytest.fixture(scope="module")
def report(mixed_result: gw.Result) -> economics.CostReport:
    return economics.costs(mixed_result)


def test_break_even_hand_calculation() -> None:
    # F = $20,000 per GPU-year, v = $0.10 per busy GPU-h, p = $2.50: u* = 20000 / (8760 x 2.40) = 0.95129
    assert_allclose(cloud.break_even_utilization(20_000.0, 0.10, 2.50), 0.951294, rtol=1e-5)
    assert math.isinf(float(cloud.break_even_utilization(20_000.0, 3.0, 2.5)))
    u = cloud.break_even_utilization(np.array([10_000.0, 20_000.0]), 0.1, 5.0)
    assert u[0] < u[1]


def test_break_even_table_equalises_costs(mixed_result: gw.Result, report: economics.CostReport) -> None:
    t = cloud.break_even_table(mixed_result, report)
    assert set(t["accelerator"]) == {"GB200", "H100-SXM"}
    od = t[t["pricing"] == "on_demand"]
    assert len(od) > 0 and od["break_even_utilization_frac"].notna().all()
    u = od["break_even_utilization_frac"].to_numpy()
    own = od["fixed_usd_per_gpu_year"] + od["variable_usd_per_busy_gpu_hour"] * u * 8760
    assert_allclose(own, od["cloud_usd_per_gpu_hour"] * u * 8760, rtol=1e-9)
    assert t.loc[t["pricing"].str.startswith("commit"), "break_even_utilization_frac"].isna().all()
    # below break-even renting wins, above it owning wins
    below = od["utilization_frac"] < od["break_even_utilization_frac"]
    assert (od.loc[below, "cheaper"] == "cloud").all() and (od.loc[~below, "cheaper"] == "own").all()


def test_spot_overhead_factor() -> None:
    # 8 GPUs, 0.1 reclaims/h, 1-h checkpoints, 10-min restart: lambda*l = 0.1 x (0.5 + 1/6) -> 1/(1 - 0.0667)
    assert_allclose(cloud.spot_overhead_factor(8, 0.1, 1.0), 1 / (1 - 0.1 * (0.5 + 1 / 6)), rtol=1e-12)
    assert math.isinf(float(cloud.spot_overhead_factor(8 * 1000, 0.1, 1.0)))
    f = cloud.spot_overhead_factor(np.array([8, 64, 512]), 0.02, 0.5)
    assert (np.diff(f) > 0).all() and (f >= 1).all()


def test_all_cloud_cost_uses_simulated_gpu_hours(
    mixed_result: gw.Result, report: economics.CostReport
) -> None:
    od = cloud.cloud_workload_costs(mixed_result, report, provider="aws", pricing="on_demand")
    chat = od.set_index("workload").loc["chat"]
    per_year = 8760.0 / mixed_result.scenario.horizon_h
    svc = mixed_result.services.set_index("service").loc["chat"]  # type: ignore[union-attr]
    assert_allclose(chat["gpu_hours_per_year"], svc["gpu_hours"] * per_year, rtol=1e-12)
    assert_allclose(chat["cloud_cost_usd_per_year"], chat["gpu_hours_per_year"] * 6.88, rtol=1e-12)
    # AWS has no GB200 offer in the catalog: the training row is priced NaN, not silently zero
    assert math.isnan(od.set_index("workload").loc["pre", "cloud_cost_usd_per_year"])
    # the workload rows cover each hall's busy GPU-hours
    for hall, grp in od.groupby("hall"):
        busy = report.halls.set_index("hall").loc[hall, "busy_gpu_hours_per_year"]
        assert grp["gpu_hours_per_year"].sum() >= busy * (1 - 1e-9)
    spot = cloud.cloud_workload_costs(mixed_result, report, provider="aws", pricing="spot")
    assert (spot["cloud_gpu_hours_per_year"] >= spot["gpu_hours_per_year"]).all()
    cw = cloud.cloud_workload_costs(mixed_result, report, provider="coreweave", pricing="commit_3y")
    pre = cw.set_index("workload").loc["pre"]
    assert pre["cloud_gpu_hours_per_year"] >= pre["gpu_hours_per_year"]  # reserved peak, not hourly use
    over = cloud.cloud_workload_costs(mixed_result, report, provider="aws", usd_per_gpu_hour=1.0)
    assert_allclose(over["cloud_cost_usd_per_year"], over["cloud_gpu_hours_per_year"], rtol=1e-12)


def test_hybrid_bursts_what_owned_capacity_could_not_serve(
    mixed_result: gw.Result, report: economics.CostReport
) -> None:
    rows, s = cloud.hybrid(mixed_result, report, provider="lambda", max_queue_wait_h=1e9)
    ts = mixed_result.timeseries
    assert ts["chat:dropped_rps"].sum() > 0  # the fixture's demand exceeds the 160 GPUs at peak
    chat = rows.set_index("workload").loc["chat"]
    assert chat["cloud_gpu_hours_per_year"] > 0
    assert chat["cloud_usd_per_gpu_hour"] == pytest.approx(2.99, rel=1e-12)  # Lambda H100 on demand
    assert 0 < s["cloud_share_frac"] < 1
    assert_allclose(
        s["hybrid_cost_usd_per_year"], s["owned_tco_usd_per_year"] + s["cloud_cost_usd_per_year"], rtol=1e-12
    )
    assert (rows["kind"] != "training").all()  # nobody waited 1e9 h
    _, s2 = cloud.hybrid(mixed_result, report, provider="lambda", max_queue_wait_h=0.0)
    assert s2["cloud_gpu_hours_per_year"] > s["cloud_gpu_hours_per_year"]
    assert s2["owned_gpu_hours_per_year"] < s["owned_gpu_hours_per_year"]


def test_hybrid_respects_cloud_capacity_and_reports_outages(
    mixed_result: gw.Result, report: economics.CostReport
) -> None:
    _, s = cloud.hybrid(mixed_result, report, provider="lambda", max_queue_wait_h=1e9)
    pr = economics.cloud_providers().loc["lambda"]
    a = pr["outage_rate_per_year"] * pr["mean_outage_h"] / 8760
    assert_allclose(
        s["expected_cloud_outage_gpu_hours_per_year"], s["cloud_gpu_hours_per_year"] * a, rtol=1e-12
    )
    assert_allclose(s["unserved_gpu_hours_per_year"], 0.0, atol=1e-9)  # tens of GPUs burst, far below 20,000
    tiny = economics.cloud_providers().assign(capacity_gpus=1.0)
    import unittest.mock as mock

    with mock.patch.object(cloud, "cloud_providers", lambda: tiny):
        _, s1 = cloud.hybrid(mixed_result, report, provider="lambda", max_queue_wait_h=1e9)
    assert s1["unserved_gpu_hours_per_year"] > 0
    assert_allclose(
        s1["cloud_gpu_hours_per_year"] + s1["unserved_gpu_hours_per_year"],
        s["cloud_gpu_hours_per_year"],
        rtol=1e-9,
    )


def test_spot_reclaims_lengthen_training_in_the_cloud(
    mixed_result: gw.Result, report: economics.CostReport
) -> None:
    kw = {"provider": "coreweave", "pricing": "spot", "usd_per_gpu_hour": 3.0}
    calm = cloud.cloud_workload_costs(mixed_result, report, interruption_rate_per_hour=0.0, **kw)
    rough = cloud.cloud_workload_costs(
        mixed_result, report, interruption_rate_per_hour=0.05, spot_method="first_order", **kw
    )
    pre_calm, pre_rough = (t.set_index("workload").loc["pre"] for t in (calm, rough))
    assert_allclose(pre_calm["cloud_gpu_hours_per_year"], pre_calm["gpu_hours_per_year"], rtol=1e-12)
    jobs = mixed_result.jobs
    assert jobs is not None
    per_year = 8760.0 / mixed_result.scenario.horizon_h
    tau_h = jobs["checkpoint_interval_s"].fillna(3600.0).to_numpy() / 3600.0
    expected = per_year * (jobs["gpu_hours"] * cloud.spot_overhead_factor(jobs["n_gpus"], 0.05, tau_h)).sum()
    assert_allclose(pre_rough["cloud_gpu_hours_per_year"], expected, rtol=1e-9)
    assert pre_rough["cloud_cost_usd_per_year"] > pre_calm["cloud_cost_usd_per_year"]


def test_spot_engine_prices_training_from_a_re_simulation(
    mixed_result: gw.Result, report: economics.CostReport
) -> None:
    kw = {
        "provider": "coreweave",
        "pricing": "spot",
        "usd_per_gpu_hour": 3.0,
        "interruption_rate_per_hour": 0.05,
    }
    eng = cloud.cloud_workload_costs(mixed_result, report, **kw).set_index("workload")
    ov = cloud.spot_training_overhead(mixed_result, {"pre": 0.05})
    per_year = 8760.0 / mixed_result.scenario.horizon_h
    assert ov["n_reclaims"].sum() > 0
    assert_allclose(
        eng.loc["pre", "cloud_gpu_hours_per_year"],
        per_year * float((ov["gpu_hours"] * ov["engine_factor"]).sum()),
        rtol=1e-9,
    )
    assert eng.loc["pre", "cloud_gpu_hours_per_year"] > eng.loc["pre", "gpu_hours_per_year"]
    big = ov.set_index("job").loc["big"]
    # the big job finishes in both runs: its spot GPU-hours are the re-run's, with the same useful work
    assert_allclose(big["spot_useful_gpu_hours"], big["useful_gpu_hours"], rtol=1e-9)
    assert_allclose(big["engine_factor"] * big["gpu_hours"], big["spot_gpu_hours"], rtol=1e-9)
    # restarts and lost work from the engine; the interval is re-optimised for reclaims on top of failures
    assert big["spot_checkpoint_interval_s"] < big["checkpoint_interval_s"]
    with pytest.raises(ValueError, match="spot_method"):
        cloud.cloud_workload_costs(mixed_result, report, spot_method="exact", **kw)  # type: ignore[arg-type]


def _one_job(rel: dict, job: dict, horizon_h: float, seed: int) -> gw.Result:
    d = small_scenario_dict(horizon_h=horizon_h, step_s=3600, seed=seed)
    d["workloads"] = [
        {"kind": "training", "name": "t", "target": {"hall": "air"}, "jobs": [job], "reliability": rel}
    ]
    return gw.simulate(d)


def test_spot_engine_agrees_with_first_order_for_small_rates() -> None:
    # cross-tier: 64 GPUs (8 instances) at 0.02 reclaims per instance-hour, fixed 30-min checkpoints, 10-min
    # downtime per reclaim: lambda*l = 0.16 x (0.25 + 1/6) = 0.067, first order 1/(1 - 0.067) = 1.0714.
    # Daly's exact renewal gives e^(lR) (e^(l tau) - 1) / (l tau) = 1.069 (0.2 % lower); over 4 seeds x
    # ~400 reclaims the engine's mean must lie within 1 % of first order.
    job = {
        "name": "j",
        "gpus": 64,
        "duration_h": 2400,
        "checkpoint_interval_s": 1800,
        "checkpoint_write_s": 30,
    }
    rows = [
        cloud.spot_training_overhead(_one_job({"failures": "none"}, job, 2600, seed), 0.02).iloc[0]
        for seed in (1, 2, 3, 4)
    ]
    eng = np.mean([r["engine_factor"] for r in rows])
    first = rows[0]["first_order_factor"]
    assert_allclose(first, 1 / (1 - 0.16 * (0.25 + 1 / 6)), rtol=1e-12)
    assert_allclose(eng, first, rtol=0.01)
    # reclaims: a Poisson count at 0.16/h over the spot run's wall time (4 sigma)
    for r in rows:
        expect = 0.16 * r["spot_gpu_hours"] / 64
        assert abs(r["n_reclaims"] - expect) < 4 * math.sqrt(expect)


def test_spot_engine_re_optimises_checkpoints_below_first_order() -> None:
    # first order keeps the owned run's Daly interval (set for hardware failures alone: 97 min) and prices
    # 0.1 reclaims per instance-hour at lambda*l = 0.8 x (0.81 + 0.17) = 0.78 -> x4.5. The engine re-runs with
    # Daly's interval for failures + reclaims (11.5 min) and pays ~x1.3, as Daly's expected goodput predicts:
    # G(owned) / G(spot) = 1.326 (R: rate-weighted 420 s failures / 600 s reclaims).
    rel = {"rate_scale": 10, "planned_maintenance": False}
    job = {"name": "j", "gpus": 64, "duration_h": 300, "checkpoint_write_s": 60}
    rows = [cloud.spot_training_overhead(_one_job(rel, job, 700, seed), 0.1).iloc[0] for seed in (1, 2)]
    first = rows[0]["first_order_factor"]
    eng = np.mean([r["engine_factor"] for r in rows])
    assert first > 4.0 and eng < first / 3
    lf, ls = 64 * 10 * 419 / (16384 * 54 * 24), 0.1 * 64 / 8
    m_own, m_spot = 3600 / lf, 3600 / (lf + ls)
    r_spot = (ls * 600 + lf * 420) / (lf + ls)
    daly = float(expected_goodput_frac(rows[0]["checkpoint_interval_s"], 60, 420, m_own)) / float(
        expected_goodput_frac(rows[0]["spot_checkpoint_interval_s"], 60, r_spot, m_spot)
    )
    assert_allclose(daly, 1.326, rtol=0.01)
    assert_allclose(eng, daly, rtol=0.05)
