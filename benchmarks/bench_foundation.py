"""Benchmark: one simulated year of the reference campus at 5-minute steps, utilisation workloads only.

Target (issue 2): under 2 s on the 2-core reference machine for ``simulate`` (scenario already loaded).

Baseline measured in the same run: the same physics evaluated step by step by a simpy process that wakes
at every control step (the naive design the vectorised controller replaces), timed over the first 30 days
and scaled to the year. Reported as a ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

import gigawatt as gw
from gigawatt.engine.clock import Clock
from gigawatt.engine.context import SimContext, ThroughputBoard
from gigawatt.engine.controller import FacilityController
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import LoadLedger
from gigawatt.engine.workloads import HANDLERS


def reference_utilization_only() -> gw.Scenario:
    sc = gw.load_scenario("reference")
    return sc.updated({"workloads": [w.model_dump() for w in sc.workloads if w.kind == "utilization"]})


BASELINE_STEPS = 30 * 288  # 30 days of 5-minute steps


def per_step_baseline(sc: gw.Scenario) -> float:
    """Energy [MWh] of the first BASELINE_STEPS steps from a simpy process evaluating the controller's stages
    one step at a time."""
    import pandas as pd

    clock = Clock(pd.Timestamp(sc.start), sc.step_s, sc.n_steps)
    fleet = Fleet.from_scenario(sc)
    env = simpy.Environment()
    ctx = SimContext(
        sc, sc.seed, clock, fleet, LoadLedger(clock, fleet.n_groups), env, ThroughputBoard(fleet.n_halls)
    )
    for i, w in enumerate(sc.workloads):
        HANDLERS[w.kind](w, ctx, i).start()
    ctrl = FacilityController(ctx)
    occ = ctx.ledger.occupancy()
    ones = np.ones((1, fleet.n_halls))
    total = [0.0]

    def proc():
        for k in range(min(BASELINE_STEPS, clock.n_steps)):
            flows = ctrl.evaluate(occ[k : k + 1], ones, k)
            total[0] += float(flows["facility_power_kw"].sum()) * clock.step_h / 1e3
            yield env.timeout(clock.step_s)

    env.process(proc())
    env.run()
    return total[0]


def main() -> None:
    sc = reference_utilization_only()
    t_sim, res = best_of(lambda: gw.simulate(sc), repeat=3)
    t_slice, e_base = best_of(lambda: per_step_baseline(sc), repeat=1)
    t_base = t_slice * sc.n_steps / min(BASELINE_STEPS, sc.n_steps)
    e_sim = float(res.timeseries["facility_power_mw"].iloc[:BASELINE_STEPS].sum() * sc.step_s / 3600.0)
    assert abs(e_sim - e_base) <= 1e-6 * e_sim, (e_sim, e_base)
    print(f"reference, 1 year @ {sc.step_s:g} s = {sc.n_steps:,} steps, {sc.n_accelerators:,} accelerators")
    print(f"  simulate():              {t_sim:8.3f} s   (target < 2 s)")
    print(f"  per-step simpy baseline: {t_base:8.3f} s   (30 days timed, scaled to the year)")
    print(f"  -> vectorised controller is {t_base / t_sim:,.0f}x faster than the per-step baseline")
    print(f"  energies agree over the first 30 days: {e_sim:,.1f} MWh")


if __name__ == "__main__":
    main()
