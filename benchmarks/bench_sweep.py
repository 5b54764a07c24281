"""Benchmark: sweeps and solvers on one machine (issue "Planning at scale").

Targets (2-core reference machine):

- 1,000 one-month variants of the reference scenario in ≤ 5 min wall on 2 cores. Measured here on ``N``
  variants (grid cap × battery, ``GW_BENCH_SWEEP_N``, default 20) and projected linearly: the projection is
  ``1000 × (wall at 2 workers) / N``.
- Parallel efficiency ≥ 80 % at 2 workers, on local processes and on a ``distributed.LocalCluster``:
  ``efficiency = wall(1 worker) / (2 × wall(2 workers))``, all measured in this run.
- The sweep machinery adds < 5 % to a variant's run time: the same N variants through ``sweep(workers=1)``
  against a plain loop of ``simulate(scenario.updated(...))`` in this process.
- A bisection solve of the reference inference service (least GPUs for its SLO attainment) in ≤ 15
  evaluations.

Run: ``make bench`` (or ``python benchmarks/bench_sweep.py``). Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import os
import time

import gigawatt as gw
from gigawatt.sweep import Derived, sweep

CAP = "sites[ashburn].grid.import_capacity_mw"
BAT = "sites[ashburn].energy.battery"


def month_reference() -> gw.Scenario:
    return gw.load_scenario("reference").updated({"horizon_h": 720})


def axes(n: int) -> dict[str, list[float]]:
    caps = [70.0, 80.0, 90.0, 100.0, 110.0]
    bats = [20.0 + 10.0 * i for i in range(max(1, n // len(caps)))]
    return {CAP: caps, f"{BAT}.energy_mwh": bats}


def main() -> None:
    n = int(os.environ.get("GW_BENCH_SWEEP_N", "20"))
    sc = month_reference()
    ax = axes(n)
    derived = {f"{BAT}.power_mw": Derived(f"{BAT}.energy_mwh", scale=0.25)}
    n_var = len(ax[CAP]) * len(ax[f"{BAT}.energy_mwh"])
    gw.simulate(sc)  # warm this process (imports, numba cache)

    # baseline: a plain loop in this process
    variants = [
        {CAP: c, f"{BAT}.energy_mwh": b, f"{BAT}.power_mw": b / 4}
        for c in ax[CAP]
        for b in ax[f"{BAT}.energy_mwh"]
    ]
    t0 = time.perf_counter()
    for v in variants:
        gw.simulate(sc.updated(v))
    loop_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    one = sweep(sc, ax, derived=derived, workers=1)
    one_s = time.perf_counter() - t0
    assert (one.table["status"] == "ok").all(), one.failed

    t0 = time.perf_counter()
    two = sweep(sc, ax, derived=derived, workers=2)
    two_s = time.perf_counter() - t0
    assert (two.table["status"] == "ok").all(), two.failed

    print(f"{n_var} one-month reference variants (grid cap × battery)")
    print(f"  plain loop of simulate()          {loop_s:7.2f} s  ({loop_s / n_var:.3f} s/variant)")
    print(
        f"  sweep, 1 worker (in process)      {one_s:7.2f} s  machinery overhead {one_s / loop_s - 1:+.1%} (target < 5 %)"
    )
    print(
        f"  sweep, 2 local processes          {two_s:7.2f} s  efficiency {one_s / (2 * two_s):.0%} (target ≥ 80 %)"
    )
    print(f"  projected 1,000 variants on 2 processes: {1000 * two_s / n_var / 60:.1f} min (target ≤ 5 min)")

    try:
        import distributed
    except ImportError:  # pragma: no cover
        print("  distributed not installed: LocalCluster skipped")
    else:
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cl,
            distributed.Client(cl) as client,
        ):
            sweep(sc, {CAP: [80.0, 90.0]}, executor=client)  # warm the workers
            t0 = time.perf_counter()
            d = sweep(sc, ax, derived=derived, executor=client)
            d_s = time.perf_counter() - t0
        assert (d.table["status"] == "ok").all(), d.failed
        print(
            f"  sweep, LocalCluster 2 workers     {d_s:7.2f} s  efficiency {one_s / (2 * d_s):.0%} (target ≥ 80 %)"
        )

    # a bisection solve of the reference inference service, one week of the chat service alone
    week = gw.load_scenario("reference").updated({"horizon_h": 168})
    week = week.updated({"workloads": [w.model_dump() for w in week.workloads if w.name == "chat"]})
    t0 = time.perf_counter()
    res = gw.solve(
        week,
        "workloads[chat].target.gpus",
        (400, 16000),
        ["chat:slo_attainment_frac >= 0.98"],
        tolerance=16,
        workers=2,
    )
    print(
        f"bisection solve, least GPUs of the reference chat service (SLO attainment ≥ 0.98, ±16 GPUs): "
        f"{res.x} GPUs in {res.evaluations} evaluations (target ≤ 15), {time.perf_counter() - t0:.1f} s; "
        f"bracket {res.bracket}, monotone: {not res.monotone_violations}"
    )


if __name__ == "__main__":
    main()
