"""Solvers: monotone bisection and scan on predicates and on simulations, chance constraints, optimize,
Pareto fronts, tornado and Sobol' sensitivity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gigawatt as gw
from gigawatt.perf.queueing import mmc_wait_mean_s
from gigawatt.solve import Constraint, optimize, search, sobol_indices, solve, tornado
from gigawatt.sweep import Range
from tests.conftest import small_scenario_dict

PRICE = "sites[site-a].grid.energy_price_usd_per_mwh"
RACKS = "sites[0].halls[air].racks[0].count"


def _base() -> dict[str, Any]:
    d = small_scenario_dict()
    d["horizon_h"] = 6
    d["workloads"][1]["target"] = {"hall": "air"}  # the whole hall, however many racks
    return d


def test_constraint_parsing_and_tolerances() -> None:
    c = Constraint.parse("chat:slo_attainment_frac >= 0.99")
    assert (c.kpi, c.op) == ("chat:slo_attainment_frac", ">=") and c.value == pytest.approx(0.99, abs=1e-12)
    assert c.holds(0.99) and c.holds(0.995) and not c.holds(0.98) and not c.holds(float("nan"))
    e = Constraint.parse("unserved_energy_mwh == 0", atol=1e-3)
    assert e.holds(5e-4) and not e.holds(2e-3)
    assert Constraint.parse("site/a:x <= -1e3").value == pytest.approx(-1000.0, abs=1e-9)
    with pytest.raises(ValueError, match="cannot read the constraint"):
        Constraint.parse("pue is small")


@pytest.mark.parametrize("method", ["bisect", "scan"])
def test_search_finds_least_and_most_on_a_step_function(method: str) -> None:
    calls: list[float] = []

    def least(x: float) -> bool:
        calls.append(x)
        return x >= 37

    good, bad = search(least, (0, 1000), integer=True, tolerance=1, method=method, scan_points=8)
    assert (good, bad) == (37, 36)
    assert len(set(calls)) <= 20
    good, bad = search(lambda x: x <= 612, (0, 1000), integer=True, tolerance=1, sense="most", method=method)
    assert (good, bad) == (612, 613)
    # continuous: within the tolerance
    good, bad = search(lambda x: x >= np.pi, (0.0, 10.0), integer=False, tolerance=1e-4, method=method)
    assert good is not None and bad is not None and bad < np.pi <= good and good - bad <= 1e-4 + 1e-12
    # infeasible everywhere / feasible at the bound
    assert search(lambda x: False, (0, 10), integer=True, tolerance=1)[0] is None
    assert search(lambda x: True, (3, 10), integer=True, tolerance=1) == (3, None)


def test_scan_finds_a_non_monotone_least() -> None:
    """Feasible only in [40, 60] and from 90 on: bisection between the ends would find 90; scan finds 40."""

    def f(x: float) -> bool:
        return 40 <= x <= 60 or x >= 90

    good, _ = search(f, (0, 100), integer=True, tolerance=1, method="scan", scan_points=11)
    assert good == 40


def test_search_matches_erlang_c_least_servers() -> None:
    lam, mu = 37.0, 1.3
    for target_s in (0.05, 0.5, 5.0):
        good, _ = search(
            lambda c, t=target_s: bool(mmc_wait_mean_s(c, lam, mu) <= t), (1, 400), integer=True, tolerance=1
        )
        brute = next(c for c in range(1, 401) if mmc_wait_mean_s(c, lam, mu) <= target_s)
        assert good == brute


def test_solve_least_racks_for_a_demand_on_the_simulation() -> None:
    """Least racks in the air hall whose IT energy reaches a target: monotone, integer, bisection."""
    d = _base()
    sc = gw.load_scenario(d)
    e1, e10 = (gw.simulate(sc.updated({RACKS: n})).summary()["it_energy_mwh"] for n in (1, 10))
    target = e1 + 0.55 * (e10 - e1)  # IT energy is affine in the rack count: the answer is 6
    res = solve(d, RACKS, (1, 40), [f"it_energy_mwh >= {target}"], workers=1)
    assert res.feasible and isinstance(res.x, int) and res.bracket == (res.x - 1, res.x)
    it = res.history.set_index(RACKS)
    assert it.loc[res.x, "it_energy_mwh: mean"] >= target - 1e-9
    assert it.loc[res.x - 1, "it_energy_mwh: mean"] < target
    assert res.binding == [f"it_energy_mwh >= {target:g}"]
    assert res.x == 6 and res.evaluations <= 8 and not res.monotone_violations
    assert "feasible" in repr(res)


def test_solve_reports_infeasible_and_non_monotone() -> None:
    d = _base()
    res = solve(d, RACKS, (1, 4), ["it_energy_mwh >= 1e9"], workers=1)
    assert not res.feasible and res.x is None and res.binding == ["it_energy_mwh >= 1e+09"]
    # a decision value that makes the scenario invalid is infeasible, and the reason is reported
    d2 = small_scenario_dict()  # its diurnal workload claims 160 GPUs of the air hall: 5 racks at least
    res = solve(d2, RACKS, (1, 20), ["it_energy_mwh >= 0"], workers=1)
    assert res.x == 5 and any("run not completed" in b and "160" in b for b in res.binding)
    with pytest.raises(KeyError, match="no KPI named"):
        solve(d, RACKS, (1, 4), ["no_such_kpi >= 1"], workers=1)


def test_chance_constraint_counts_seeds() -> None:
    d = _base()
    d["workloads"] = [
        {
            "kind": "training",
            "name": "t",
            "target": {"hall": "air"},
            "scheduler": {"spare_nodes": 0},
            "jobs": [{"name": "j", "gpus": 64, "duration_h": 5}],
        }
    ]
    res = solve(d, RACKS, (2, 20), ["it_energy_mwh >= 0"], seeds=3, chance=2 / 3, workers=1)
    assert res.seeds == [7, 8, 9] and res.feasible
    frac_cols = [c for c in res.history.columns if c.endswith("met_frac")]
    assert frac_cols and (res.history[frac_cols[0]] >= 2 / 3 - 1e-12).any()


def test_optimize_minimises_a_kpi_with_a_constraint() -> None:
    d = _base()
    sc = gw.load_scenario(d)
    e1, e10 = (gw.simulate(sc.updated({RACKS: n})).summary()["it_energy_mwh"] for n in (1, 10))
    out = optimize(
        d,
        {RACKS: Range(1, 12, integer=True), PRICE: Range(40.0, 60.0)},
        "energy_cost_usd",
        [f"it_energy_mwh >= {e1 + 0.55 * (e10 - e1)}"],
        maxiter=8,
        popsize=5,
        workers=1,
    )
    # cost grows with racks and price: the optimum is the fewest racks that meet the energy target (6),
    # at a price near the cheapest
    assert out.feasible and out.x is not None and out.x[RACKS] == 6
    assert out.x[PRICE] < 45.0
    assert out.evaluations <= 100


def test_tornado_and_sobol() -> None:
    d = _base()
    tor = tornado(d, {PRICE: (25.0, 100.0), RACKS: (5, 15)}, "energy_cost_usd", workers=1)
    assert tor["input"].iloc[0] == PRICE  # price moves cost 4×; 5 → 15 racks much less
    assert tor["swing"].iloc[0] > tor["swing"].iloc[1] > 0
    # cost = price × energy; price spans 4×, the air racks move energy by a few %: price explains nearly all
    s = sobol_indices(d, {PRICE: (25.0, 100.0), RACKS: (9, 11)}, "energy_cost_usd", n=16, workers=1)
    s = s.set_index("input")
    assert s.loc[PRICE, "first_order"] > 0.9 and s.loc[PRICE, "total_order"] > 0.9
    assert s.loc[RACKS, "total_order"] < 0.1
    with pytest.raises(ValueError, match="at least two"):
        sobol_indices(d, {PRICE: (25.0, 100.0)}, "energy_cost_usd", n=8, workers=1)
