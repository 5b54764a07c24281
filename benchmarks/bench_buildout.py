"""Benchmark: build-out Monte Carlo, 10,000 draws of a 10-phase plan.

Target (build-out issue): under 1 s on the 2-core reference machine for ``run_buildout`` (plan already
loaded). Also timed: the same with market-correlated lead times, the capacity gap against two demand curves over 8 years in 4-week periods, the flat
KPIs a solver calls (``plan_kpis``), and the latest order week for P90 on time of every item.

Baseline measured in the same run: the same Monte Carlo done draw by draw in Python (a loop over draws with
the network resolved per draw), timed over 500 draws and scaled to 10,000. Reported as a ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

from gigawatt.buildout import capacity_gap, latest_order_weeks, load_buildout, plan_kpis, run_buildout
from gigawatt.buildout.montecarlo import compile_plan

DRAWS = 10_000


def ten_phase_plan() -> dict:
    """A grid connection, on-site turbines and 8 halls with 7 items each (68 items, 10 phases)."""
    phases: list[dict] = [
        {
            "name": "grid",
            "items": [{"name": "interconnection", "lead_time": "grid-interconnection", "order_week": -52}],
        },
        {"name": "turbines", "items": [{"name": "turbines", "lead_time": "gas-turbine-large"}]},
    ]
    for h in range(8):
        o = 26 * h
        phases.append(
            {
                "name": f"hall-{h + 1}",
                "gpus": 65_000,
                "it_power_mw": 125,
                "after": ["turbines" if h < 2 else "grid"] + ([f"hall-{h}"] if h else []),
                "target_online_week": 300 + 20 * h,
                "items": [
                    {"name": "construction", "lead_time": "construction-shell", "order_week": o},
                    {"name": "slip", "lead_time": "construction-slip", "after": ["construction"]},
                    {"name": "transformer", "lead_time": "utility-transformer", "order_week": o},
                    {"name": "switchgear", "lead_time": "mv-switchgear", "order_week": o + 20},
                    {"name": "generators", "lead_time": "standby-generator", "order_week": o},
                    {"name": "gpus", "lead_time": "gpu-servers", "order_week": o + 80},
                    {
                        "name": "commissioning",
                        "lead_time": "commissioning",
                        "after": ["slip", "transformer", "switchgear", "generators", "gpus"],
                    },
                ],
            }
        )
    demand = {
        "horizon_weeks": 416,
        "period_weeks": 4,
        "curves": [
            {
                "name": "training",
                "workload": "training",
                "growth": "logistic",
                "start_value": 30000,
                "annual_growth_frac": 0.4,
                "saturation_value": 260000,
            },
            {
                "name": "inference",
                "workload": "inference",
                "growth": "exponential",
                "start_value": 10000,
                "annual_growth_frac": 1.0,
            },
        ],
    }
    return {"start_date": "2026-01-05", "seed": 1, "draws": DRAWS, "phases": phases, "demand": demand}


def per_draw_baseline(plan, lead_weeks: np.ndarray) -> np.ndarray:
    """The naive design: resolve the network in Python for one draw at a time."""
    net = compile_plan(plan)
    lead = lead_weeks.T
    n = lead.shape[1]
    lead_full = np.zeros((len(net.nodes), n))
    lead_full[net.item_nodes] = lead
    out = np.empty((n, len(net.phase_nodes)))
    for d in range(n):
        fin = [0.0] * len(net.nodes)
        for k, pr in enumerate(net.preds):
            start = max([net.base_week[k], *(fin[j] for j in pr)])
            fin[k] = start + lead_full[k, d]
        out[d] = [fin[j] for j in net.phase_nodes]
    return out


def main() -> None:
    plan = load_buildout(ten_phase_plan())
    n_items = sum(len(p.items) for p in plan.phases)
    t_mc, res = best_of(lambda: run_buildout(plan))
    print(
        f"run_buildout: {DRAWS:,} draws x {len(plan.phases)} phases ({n_items} items): {t_mc:.3f} s (target < 1 s)"
    )
    correlated = plan.updated({"lead_time_correlation": 0.5})
    t_cor, _ = best_of(lambda: run_buildout(correlated))
    print(f"run_buildout with market-correlated lead times (copula, inverse CDFs): {t_cor:.3f} s")
    t_gap, gap = best_of(lambda: capacity_gap(res))
    print(f"capacity_gap: {gap.unmet_gpu_h.shape[1]} periods: {t_gap:.3f} s")
    t_kpi, _ = best_of(lambda: plan_kpis(plan))
    print(f"plan_kpis (Monte Carlo + gap): {t_kpi:.3f} s")
    t_lo, _ = best_of(lambda: latest_order_weeks(res), repeat=1)
    print(f"latest_order_weeks ({n_items} items): {t_lo:.3f} s")
    n_base = 500
    t_base, base = best_of(lambda: per_draw_baseline(plan, res.lead_weeks[:n_base]), repeat=1)
    scaled = t_base * DRAWS / n_base
    assert np.allclose(base, res.online_week[:n_base])  # same answer as the vectorised pass
    print(
        f"baseline (per-draw Python loop), scaled to {DRAWS:,} draws: {scaled:.2f} s -> speed-up x{scaled / t_mc:.0f}"
    )


if __name__ == "__main__":
    main()
