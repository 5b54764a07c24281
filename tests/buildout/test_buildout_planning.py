"""Plan KPIs for solvers and the latest order week for P90 on time."""

from __future__ import annotations

import numpy as np
import pytest
from tests.buildout._plans import tri, two_hall_plan

from gigawatt.buildout import latest_order_weeks, load_buildout, plan_kpis, run_buildout
from gigawatt.solve import search


def _risky_plan() -> dict:
    d = two_hall_plan(draws=4000)
    d["phases"][0]["items"][0]["lead_time"] = tri(80, 95, 130)
    d["phases"][1]["items"][0]["lead_time"] = tri(50, 60, 90)
    d["phases"][1]["items"][1]["lead_time"] = tri(12, 16, 26)
    d["phases"][1]["target_online_week"] = 115
    return d


def test_latest_order_week_is_exact_on_the_draws() -> None:
    plan = load_buildout(_risky_plan())
    r = run_buildout(plan)
    lo = latest_order_weeks(r, prob=0.9)
    row = lo.loc["hall-a/transformer"]
    x = float(row["latest_order_week"])
    assert np.isfinite(x) and row["binding_phase"] == "hall-a"
    k = r.phase_names.index("hall-a")

    def p_on_time(week: float) -> float:
        moved = run_buildout(plan, order_weeks={"hall-a/transformer": week})
        return float(np.mean(moved.online_week[:, k] <= 115))

    assert p_on_time(x) >= 0.9
    assert p_on_time(x + 1e-6) < 0.9
    assert p_on_time(x) == plan_kpis(plan, order_weeks={"hall-a/transformer": x})["hall-a:p_on_time_frac"]
    # the same answer by bisection on the order week (gw.solve.search, most feasible value)
    good, _ = search(
        lambda w: p_on_time(w) >= 0.9,
        (-50.0, 100.0),
        integer=False,
        tolerance=1e-3,
        sense="most",
        max_evaluations=80,
    )
    assert good == pytest.approx(x, abs=2e-3)
    # the grid feeds hall-a through 'after': its latest order week is bound by hall-a too
    assert lo.loc["grid/interconnection", "binding_phase"] == "hall-a"
    assert np.isnan(lo.loc["hall-b/gpus", "latest_order_week"])  # hall-b has no target


def test_latest_order_week_infeasible_is_minus_inf() -> None:
    d = _risky_plan()
    d["phases"][1]["target_online_week"] = 96  # the grid alone is rarely in by then
    r = run_buildout(load_buildout(d))
    lo = latest_order_weeks(r)
    assert np.isneginf(lo.loc["hall-a/transformer", "latest_order_week"])
    assert np.isfinite(lo.loc["grid/interconnection", "latest_order_week"])
    with pytest.raises(ValueError, match="prob"):
        latest_order_weeks(r, prob=0)


def test_plan_kpis_flat_and_responsive() -> None:
    plan = load_buildout(_risky_plan())
    dem = {
        "horizon_weeks": 200,
        "period_weeks": 4,
        "curves": [
            {
                "name": "d",
                "workload": "inference",
                "growth": "exponential",
                "start_value": 800,
                "annual_growth_frac": 0.3,
            }
        ],
    }
    plan = plan.updated({"demand": dem})
    k = plan_kpis(plan, cloud_usd_per_gpu_h=2.0)
    assert all(isinstance(v, float) for v in k.values())
    for key in (
        "p_on_time_frac",
        "hall-a:p_on_time_frac",
        "hall-a:online_p90_week",
        "unmet_gpu_h_mean",
        "cloud_bridge_usd_mean",
    ):
        assert key in k
    assert k["cloud_bridge_usd_mean"] == pytest.approx(2.0 * k["unmet_gpu_h_mean"], rel=1e-12)
    bigger = plan_kpis(plan.updated({"phases[hall-b].gpus": 2000}))
    assert bigger["unmet_gpu_h_mean"] < k["unmet_gpu_h_mean"]
    earlier = plan_kpis(plan.updated({"phases[grid].items[interconnection].order_week": -40}))
    assert earlier["hall-a:p_on_time_frac"] >= k["hall-a:p_on_time_frac"]
    assert earlier["unmet_gpu_h_mean"] <= k["unmet_gpu_h_mean"]


def test_solve_plan_least_size_and_latest_order() -> None:
    from gigawatt.buildout import solve_plan

    d = _risky_plan()
    d["demand"] = {
        "horizon_weeks": 260,
        "period_weeks": 4,
        "curves": [{"name": "d", "workload": "inference", "growth": "constant", "start_value": 2500}],
    }
    plan = load_buildout(d)
    res = solve_plan(
        plan, "phases[hall-b].gpus", (0, 5000), ["gap_gpus_peak_p90 <= 0"], draws=2000, gap_from_week=200
    )
    assert res.feasible and res.x == pytest.approx(1500, abs=1)  # 1000 (hall-a) + x must cover 2500 GPUs
    assert res.binding == ["gap_gpus_peak_p90 <= 0"]
    assert res.kpis["gap_gpus_peak_p90"] == pytest.approx(0.0, abs=1e-9)
    # the latest transformer order for hall-a at P90 on time, by search, against the exact order statistic
    got = solve_plan(
        plan,
        "phases[hall-a].items[transformer].order_week",
        (-50.0, 100.0),
        ["hall-a:p_on_time_frac >= 0.9"],
        sense="most",
        tolerance=1e-3,
        max_evaluations=80,
    )
    exact = latest_order_weeks(run_buildout(plan), 0.9).loc["hall-a/transformer", "latest_order_week"]
    assert got.x == pytest.approx(exact, abs=2e-3)
    none = solve_plan(
        plan, "phases[hall-b].gpus", (0, 100), ["gap_gpus_peak_p90 <= 0"], draws=500, gap_from_week=200
    )
    assert not none.feasible and none.x is None


def test_cloud_price_per_period_and_kpi_window() -> None:
    from gigawatt.buildout import capacity_gap

    d = _risky_plan()
    d["demand"] = {
        "horizon_weeks": 200,
        "period_weeks": 10,
        "curves": [{"name": "d", "workload": "training", "growth": "constant", "start_value": 1200}],
    }
    r = run_buildout(load_buildout(d))
    flat = capacity_gap(r, cloud_usd_per_gpu_h=2.0)
    declining = capacity_gap(r, cloud_usd_per_gpu_h=lambda w: 2.0 * np.exp(-w / 100))
    per = flat.unmet_gpu_h * (2.0 * np.exp(-flat.edges_week[:-1] / 100))[None, :]
    np.testing.assert_allclose(declining.cloud_cost_usd(), per.sum(axis=1), rtol=1e-12, atol=1e-6)
    assert declining.kpis()["cloud_bridge_usd_mean"] < flat.kpis()["cloud_bridge_usd_mean"]
    late = flat.kpis(from_week=150)
    keep = flat.edges_week[:-1] >= 150
    assert late["unmet_gpu_h_mean"] == pytest.approx(flat.unmet_gpu_h[:, keep].sum(axis=1).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="cloud_usd_per_gpu_h"):
        capacity_gap(r, cloud_usd_per_gpu_h=lambda w: -w)


def test_optimize_plan_how_much_and_when() -> None:
    from gigawatt.buildout import optimize_plan

    d = _risky_plan()
    d["demand"] = {
        "horizon_weeks": 260,
        "period_weeks": 4,
        "curves": [{"name": "d", "workload": "inference", "growth": "constant", "start_value": 2500}],
    }
    plan = load_buildout(d)
    res = optimize_plan(
        plan,
        {"phases[hall-b].gpus": (0, 3000), "phases[hall-b].items[gpus].order_week": (0.0, 150.0)},
        "gpus_total",
        ["gap_gpus_peak_p90 <= 0", "hall-a:p_on_time_frac >= 0.5"],
        draws=200,
        gap_from_week=200,
        maxiter=8,
        popsize=6,
    )
    assert res.feasible and res.x is not None
    assert 1500 <= res.x["phases[hall-b].gpus"] <= 1800  # the least that covers 2500 GPUs is 1500
    assert res.objective == pytest.approx(1000 + res.x["phases[hall-b].gpus"], abs=1e-9)
    assert res.evaluations == len(res.history) > 10
    feas = res.history[res.history["feasible"]]
    assert (feas["phases[hall-b].gpus"] >= 1500).all()  # every feasible point covers the demand
