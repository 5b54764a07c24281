"""Benchmark: sweeps and solvers on one machine (issue "Planning at scale").

Targets (2-core reference machine):

- 1,000 one-month variants of the reference scenario in ≤ 5 min wall on 2 cores. Measured here on ``N``
  variants (grid cap × battery, ``GW_BENCH_SWEEP_N``, default 20) and projected from the measured
  per-variant cost: ``1000 × (simulate + sweep machinery per variant) / (2 × parallel efficiency)``.
- Parallel efficiency ≥ 80 % at 2 workers, on local processes and on a ``distributed.LocalCluster``:
  ``efficiency = wall(1 worker) / (2 × wall(2 workers))``, the serial and parallel sweeps run back to back
  (``GW_BENCH_REPEATS`` rounds, default 1; with more, the min and median are printed: the machine may be
  shared, and a busy neighbour lowers one round, never raises it).
- The sweep machinery adds < 5 % to a variant's run time. Two figures: each piece of it timed on its own
  per variant (scenario update + validation, content key, summary, store write) as a ratio of
  ``simulate`` itself, and, as a cross-check, the same N variants through ``sweep(workers=1)`` against a
  plain loop of ``simulate(scenario.updated(...))`` in this process (wall against wall: noisier).
- A bisection solve of the reference inference service (least GPUs for its SLO attainment) in ≤ 15
  evaluations.

``GW_BENCH_SWEEP_HORIZON_H`` (default 720, one month) shortens the runs for a quick look.
``GW_BENCH_SWEEP_FULL=1`` also runs the 1,000 variants themselves (5 grid caps × 200 battery sizes, 2 local
processes, ~4-5 min) and estimates their parallel efficiency from a seeded serial sample of 100 of them (a
20-variant sweep weighs the pool's start and warm-up against only ~10 s of work; 1,000 variants do not).

Run: ``make bench`` (or ``python benchmarks/bench_sweep.py``). Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import time
from typing import Any

import numpy as np

import gigawatt as gw
from gigawatt.sweep import Derived, _Store, sweep, variant_key

CAP = "sites[ashburn].grid.import_capacity_mw"
BAT = "sites[ashburn].energy.battery"


def month_reference(horizon_h: float = 720.0) -> gw.Scenario:
    return gw.load_scenario("reference").updated({"horizon_h": horizon_h})


def axes(n: int) -> dict[str, list[float]]:
    caps = [70.0, 80.0, 90.0, 100.0, 110.0]
    bats = [20.0 + 10.0 * i for i in range(max(1, n // len(caps)))]
    return {CAP: caps, f"{BAT}.energy_mwh": bats}


def machinery_per_variant(sc: gw.Scenario, variants: list[dict[str, float]]) -> dict[str, float]:
    """Seconds per variant of ``simulate`` and of each piece of the sweep machinery around it, timed in
    this process the way :func:`gigawatt.sweep.run_variants` does them (store: one parquet file per row, the
    most a streaming store writes)."""
    t = {"simulate": 0.0, "update": 0.0, "key": 0.0, "summary": 0.0, "store": 0.0}
    with tempfile.TemporaryDirectory() as d:
        st = _Store(d)
        for v in variants:
            t0 = time.perf_counter()
            scv = sc.updated(v)  # update + validation of the variant
            t1 = time.perf_counter()
            key = variant_key(scv, scv.seed)
            t2 = time.perf_counter()
            res = gw.simulate(scv, seed=scv.seed)
            t3 = time.perf_counter()
            row: dict[str, Any] = {"variant": 0, "seed": scv.seed, "key": key}
            row.update({str(k): float(x) for k, x in res.summary().items()})
            row.update(status="ok", error="", wall_s=t3 - t2, gigawatt_version=gw.__version__)
            t4 = time.perf_counter()
            st.write_rows([row])
            t5 = time.perf_counter()
            for name, dt in (
                ("update", t1 - t0),
                ("key", t2 - t1),
                ("simulate", t3 - t2),
                ("summary", t4 - t3),
                ("store", t5 - t4),
            ):
                t[name] += dt
    return {k: v / len(variants) for k, v in t.items()}


def _stats(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.0%}"
    return f"min {min(values):.0%}, median {statistics.median(values):.0%} of {len(values)}"


def main() -> None:
    n = int(os.environ.get("GW_BENCH_SWEEP_N", "20"))
    horizon_h = float(os.environ.get("GW_BENCH_SWEEP_HORIZON_H", "720"))
    repeats = max(1, int(os.environ.get("GW_BENCH_REPEATS", "1")))
    sc = month_reference(horizon_h)
    ax = axes(n)
    derived = {f"{BAT}.power_mw": Derived(f"{BAT}.energy_mwh", scale=0.25)}
    n_var = len(ax[CAP]) * len(ax[f"{BAT}.energy_mwh"])
    gw.simulate(sc)  # warm this process (imports, numba cache)

    # baseline: a plain loop in this process, and the machinery's pieces timed per variant
    variants = [
        {CAP: c, f"{BAT}.energy_mwh": b, f"{BAT}.power_mw": b / 4}
        for c in ax[CAP]
        for b in ax[f"{BAT}.energy_mwh"]
    ]
    t0 = time.perf_counter()
    for v in variants:
        gw.simulate(sc.updated(v))
    loop_s = time.perf_counter() - t0
    per = machinery_per_variant(sc, variants)
    machinery_s = per["update"] + per["key"] + per["summary"] + per["store"]

    def serial() -> float:
        t0 = time.perf_counter()
        one = sweep(sc, ax, derived=derived, workers=1)
        assert (one.table["status"] == "ok").all(), one.failed
        return time.perf_counter() - t0

    def parallel(**kw: Any) -> float:
        t0 = time.perf_counter()
        two = sweep(sc, ax, derived=derived, **kw)
        assert (two.table["status"] == "ok").all(), two.failed
        return time.perf_counter() - t0

    try:
        import distributed
    except ImportError:  # pragma: no cover
        distributed = None

    # rounds of: serial sweep, 2 local processes, 2-worker LocalCluster, back to back. The serial run has no
    # cluster alive beside it (an idle cluster's event loops would slow it and flatter the efficiency); the
    # cluster's start-up and its workers' warm-up are not timed.
    one_s: list[float] = []
    two_s: list[float] = []
    dask_s: list[float] = []
    for _ in range(repeats):
        one_s.append(serial())
        two_s.append(parallel(workers=2))
        if distributed is not None:
            with (
                distributed.LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cl,
                distributed.Client(cl) as client,
            ):
                sweep(sc, {CAP: [80.0, 90.0]}, executor=client)  # warm the workers
                dask_s.append(parallel(executor=client))
    local_eff = [a / (2 * b) for a, b in zip(one_s, two_s, strict=True)]

    where = f"{horizon_h:g} h" if horizon_h != 720 else "one-month"
    print(f"{n_var} {where} reference variants (grid cap × battery)")
    print(f"  plain loop of simulate()          {loop_s:7.2f} s  ({loop_s / n_var:.3f} s/variant)")
    print(
        f"  sweep machinery per variant       {machinery_s:7.4f} s  = {machinery_s / per['simulate']:.2%} of "
        f"simulate's {per['simulate']:.3f} s (update + validation {per['update'] * 1e3:.1f} ms, key "
        f"{per['key'] * 1e3:.2f} ms, summary {per['summary'] * 1e3:.1f} ms, store write "
        f"{per['store'] * 1e3:.1f} ms; target < 5 %)"
    )
    print(
        f"  sweep, 1 worker (in process)      {min(one_s):7.2f} s  against the plain loop "
        f"{min(one_s) / loop_s - 1:+.1%} (wall against wall, a cross-check of the line above)"
    )
    print(
        f"  sweep, 2 local processes          {min(two_s):7.2f} s  efficiency {_stats(local_eff)} (target ≥ 80 %)"
    )
    if distributed is None:  # pragma: no cover
        print("  distributed not installed: LocalCluster skipped")
    else:
        dask_eff = [a / (2 * b) for a, b in zip(one_s, dask_s, strict=True)]
        print(
            f"  sweep, LocalCluster 2 workers     {min(dask_s):7.2f} s  efficiency {_stats(dask_eff)} "
            "(target ≥ 80 %)"
        )
    eff = statistics.median(local_eff)
    per_variant_s = per["simulate"] + machinery_s
    print(
        f"  projected 1,000 {where} variants on 2 local processes: 1000 × ({per['simulate']:.3f} s simulate + "
        f"{machinery_s:.3f} s machinery) / (2 × {eff:.0%} efficiency) = "
        f"{1000 * per_variant_s / (2 * eff) / 60:.1f} min (target ≤ 5 min)"
    )

    if os.environ.get("GW_BENCH_SWEEP_FULL") == "1":
        full_sweep(horizon_h)

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


def full_sweep(horizon_h: float) -> None:
    """The 1,000 variants on 2 local processes, wall time measured, and their parallel efficiency against a
    plain serial loop over a seeded sample of 100 of them (``1000 × mean serial s / (2 × wall)``)."""
    sc = month_reference(horizon_h)
    ax = axes(1000)
    combos = list(itertools.product(*ax.values()))
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        res = sweep(sc, ax, workers=2, store=f"{d}/store")
        wall_s = time.perf_counter() - t0
    ok = int((res.table["status"] == "ok").sum())
    pick = np.random.default_rng(0).choice(len(combos), 100, replace=False)
    gw.simulate(sc)  # warm, like the pool's workers
    t0 = time.perf_counter()
    for i in pick:
        gw.simulate(sc.updated(dict(zip(ax, combos[i], strict=True))))
    serial_s = (time.perf_counter() - t0) / 100
    print(
        f"  {len(combos)} variants, 2 local processes: {wall_s:.0f} s wall ({wall_s / 60:.2f} min, {ok} ok; "
        f"target ≤ 5 min); serial sample {serial_s:.3f} s/variant → efficiency "
        f"{len(combos) * serial_s / (2 * wall_s):.0%} (target ≥ 80 %)"
    )


if __name__ == "__main__":
    main()
