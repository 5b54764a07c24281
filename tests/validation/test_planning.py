"""Planning layer (sweeps and solvers) against analytic answers.

The solvers are checked where the answer is known without them: the least number of servers of an M/M/c
queue for a mean-wait target (Erlang C), and the least battery that rides through a known grid outage
(hand-computed from the facility's energy in the window, the battery's discharge efficiency and its usable
state-of-charge window). A sweep's rows must equal individual ``simulate`` calls, and the confidence intervals
a sweep reports over seeds must cover a known mean at their stated rate.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.perf.queueing import erlang_c, mmc_wait_mean_s
from gigawatt.solve import search, solve
from gigawatt.sweep import SweepResult, sweep

BATTERY = "sites[site-a].energy.battery.energy_mwh"


def test_least_servers_equals_erlang_c(validation) -> None:
    """Least c with mean M/M/c wait ≤ target, by bisection, against a scan of the Erlang C formula."""
    worst = 0
    for lam, mu, target_s in [(37.0, 1.3, 0.05), (500.0, 0.2, 0.01), (3.0, 1.0, 1.0), (900.0, 2.5, 0.001)]:
        got, _ = search(
            lambda c, a=lam, m=mu, t=target_s: bool(mmc_wait_mean_s(c, a, m) <= t),
            (1, 5000),
            integer=True,
            tolerance=1,
        )
        c = int(np.ceil(lam / mu))  # the least stable count, then up until the Erlang C wait meets the target
        while erlang_c(c, lam / mu) / (c * mu - lam) > target_s if c * mu > lam else True:
            c += 1
        worst = max(worst, abs(int(got or 0) - c))
    validation(
        "least M/M/c servers for a mean-wait target, 4 cases (bisection vs Erlang C scan)",
        model=worst,
        reference=0,
        tolerance="exact (integer)",
        source="Erlang C formula, e.g. Kleinrock, Queueing Systems Vol. 1 (1975), §3.5",
        kind="theory",
        within=worst == 0,
    )
    assert worst == 0


def _outage_scenario() -> dict[str, Any]:
    d = small_scenario_dict()
    d["horizon_h"] = 24
    d["sites"][0]["climate"] = {"kind": "constant", "dry_bulb_c": 20.0, "relative_humidity_frac": 0.5}
    d["workloads"] = [
        {
            "kind": "utilization",
            "name": "flat",
            "target": {"hall": "liquid"},
            "profile": {"kind": "constant", "utilization_frac": 0.8},
        }
    ]
    d["sites"][0]["grid"]["import_capacity_mw"] = 50
    d["sites"][0]["grid"]["curtailment_windows"] = [
        {"start": "2026-07-01T10:00:00", "end": "2026-07-01T12:30:00", "cap_frac": 0.0}
    ]
    d["sites"][0]["energy"] = {"battery": {"energy_mwh": 1.0, "power_mw": 20.0, "policy": "backup_only"}}
    return d


def test_least_battery_for_a_known_outage(validation) -> None:
    d = _outage_scenario()
    # the facility's energy in the window, from the same site without the outage
    calm = copy.deepcopy(d)
    del calm["sites"][0]["energy"]
    calm["sites"][0]["grid"]["curtailment_windows"] = []
    r = gw.simulate(calm)
    ts = r.timeseries
    window = (ts.index >= "2026-07-01 10:00") & (ts.index < "2026-07-01 12:30")
    energy_mwh = float(ts.loc[window, "facility_power_mw"].sum() * r.step_h)
    b = gw.load_scenario(d).sites[0].energy.battery
    assert b is not None
    eta_d = np.sqrt(b.round_trip_efficiency_frac)  # symmetric split of the round trip (physics/storage.py)
    hand_mwh = energy_mwh / eta_d / (b.initial_soc_frac - b.soc_min_frac)
    res = solve(d, BATTERY, (0.1, 10.0), ["unserved_energy_mwh <= 0"], workers=1, tolerance=1e-4)
    assert res.feasible and res.x is not None
    rel = abs(res.x - hand_mwh) / hand_mwh
    validation(
        "least battery energy that rides through a 2.5 h disconnection (bisection on the simulation)",
        model=res.x,
        reference=hand_mwh,
        tolerance="rel 1e-3 (solver tolerance 1e-4 MWh)",
        source="hand calculation: E = ∫P dt / η_d / (SoC_0 − SoC_min), η_d = √η_rt",
        kind="theory",
        within=rel < 1e-3,
    )
    assert rel < 1e-3
    assert res.binding == ["unserved_energy_mwh <= 0"] and not res.monotone_violations


def test_sweep_rows_equal_individual_runs(validation) -> None:
    d = small_scenario_dict()
    d["horizon_h"] = 12
    price = "sites[site-a].grid.energy_price_usd_per_mwh"
    res = sweep(d, {price: [30.0, 90.0]}, seeds=2, workers=2)
    worst = 0.0
    kpis = ["facility_energy_mwh", "energy_cost_usd", "pue", "emissions_tco2", "peak_facility_power_mw"]
    for _, row in res.table.iterrows():
        direct = gw.simulate(
            gw.load_scenario(d).updated({price: row[price]}), seed=int(row["seed"])
        ).summary()
        for k in kpis:
            worst = max(worst, abs(float(row[k]) - float(direct[k])) / max(abs(float(direct[k])), 1e-300))
    validation(
        "sweep on 2 worker processes vs simulate() in this process, 4 rows × 5 KPIs (max relative difference)",
        model=worst,
        reference=0,
        tolerance="≤ 1e-12 (measured: bit for bit when 0)",
        source="determinism: same scenario and seed ⇒ same numbers",
        kind="invariant",
        within=worst <= 1e-12,
    )
    assert worst <= 1e-12


def test_confidence_intervals_cover_a_known_mean(validation) -> None:
    """400 variants × 5 seeds of draws with a known mean: the 95 % intervals must cover it ~95 % of the time."""
    rng = np.random.default_rng(2026)
    n_var, n_seed, mu = 400, 5, 3.0
    table = pd.DataFrame(
        {
            "variant": np.repeat(np.arange(n_var), n_seed),
            "seed": np.tile(np.arange(n_seed), n_var),
            "status": "ok",
            "error": "",
            "x_mwh": rng.normal(mu, 2.0, n_var * n_seed),
        }
    )
    s = SweepResult(table, axes=[]).summary(["x_mwh"], confidence=0.95)
    covered = int(((s[("x_mwh", "ci_low")] <= mu) & (s[("x_mwh", "ci_high")] >= mu)).sum())
    lo, hi = 400 * 0.95 - 3 * np.sqrt(400 * 0.95 * 0.05), 400 * 0.95 + 3 * np.sqrt(400 * 0.95 * 0.05)
    validation(
        "Student-t 95 % intervals over 5 seeds covering a known mean, 400 variants",
        model=covered,
        reference=380,
        tolerance=f"binomial ±3σ [{lo:.0f}, {hi:.0f}]",
        source="coverage of the t interval for normal samples (Student 1908)",
        kind="theory",
        within=bool(lo <= covered <= hi),
    )
    assert lo <= covered <= hi
