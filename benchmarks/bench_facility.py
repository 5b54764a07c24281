"""Benchmark: facility physics over one simulated year of the reference campus at 5-minute steps.

Target (issue 3): ``simulate`` of the reference campus with its utilisation workloads only (scenario already
loaded, weather cached after the first run) under 3 s on the 2-core reference machine.

Also reported, measured in the same run:

* the facility physics alone (:func:`gigawatt.physics.facility.facility_flows`, thermal solve included) over
  the whole horizon and every hall, in one vectorised call;
* a baseline: the same physics called once per feedback block (12 steps, i.e. the controller without its
  look-ahead window), measured on 30 days and scaled to the year; the ratio shows what the window buys.

Campus scale (issue "campus scale"): the full reference scenario over one month, warm (second call in the
process), wall and CPU time:

* ``reference`` with ``horizon_h: 720``: target ≤ 0.6 s on the 2-core reference machine (was ≈ 1.8 s);
* the same in July with the grid import capped at 60 MW, so that power capping binds (root finding on the
  facility power every capped block): was ≈ 4.3 s, target "much faster".

Also reported: the compiled facility power (:mod:`gigawatt.physics.facility_kernel`) against its numpy form on
small arrays (what the capping root finding evaluates), per call.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

import gigawatt as gw
from gigawatt.physics import facility


def reference_utilization_only() -> gw.Scenario:
    sc = gw.load_scenario("reference")
    return sc.updated({"workloads": [w.model_dump() for w in sc.workloads if w.kind == "utilization"]})


def main() -> None:
    sc = reference_utilization_only()
    gw.simulate(sc)  # warm caches (weather file parsing, imports)
    t_sim, res = best_of(lambda: gw.simulate(sc), repeat=3)
    n_steps = sc.n_steps
    # physics inputs of the same run (hall arrays over the horizon)
    rng = np.random.default_rng(0)
    n_halls = sum(len(s.halls) for s in sc.sites)
    ts = res.timeseries
    db = np.repeat(ts["ambient_dry_bulb_c"].to_numpy()[:, None], n_halls, axis=1)
    wb = np.repeat(ts["ambient_wet_bulb_c"].to_numpy()[:, None], n_halls, axis=1)
    plant = facility.build_facility_plant(
        cooling_presets=["dlc", "air"], design_it_kw=[65_000.0, 35_000.0], redundancy=["N+1", "2N"]
    )
    fixed = rng.uniform(10_000, 20_000, (n_steps, n_halls))
    dyn = rng.uniform(10_000, 40_000, (n_steps, n_halls))
    t_phys, _ = best_of(lambda: facility.facility_flows(plant, fixed, dyn, db, wb), repeat=3)
    block, days = 12, 30
    n_sub = days * 288

    def per_block() -> None:
        for k in range(0, n_sub, block):
            s = slice(k, k + block)
            facility.facility_flows(plant, fixed[s], dyn[s], db[s], wb[s])

    t_blocks, _ = best_of(per_block, repeat=1)
    t_blocks_year = t_blocks * n_steps / n_sub
    s = res.summary()
    print(f"reference (utilisation workloads), 1 year @ {sc.step_s:g} s = {n_steps:,} steps, {n_halls} halls")
    print(f"  simulate():                       {t_sim:8.3f} s   (target < 3 s)")
    print(f"  facility physics, one call:       {t_phys:8.3f} s   ({t_phys / n_steps * 1e6:.1f} µs per step)")
    print(
        f"  per-block calls (12 steps), year: {t_blocks_year:8.3f} s   -> one vectorised call is "
        f"{t_blocks_year / t_phys:,.0f}x faster"
    )
    print(
        f"  PUE {s['pue']:.3f}, WUE {s['wue_l_per_kwh']:.2f} L/kWh, water {s['water_use_m3']:,.0f} m3, "
        f"peak {s['peak_facility_power_mw']:.1f} MW, throttled {s['throttled_h']:.1f} h"
    )


def month(capped: bool) -> gw.Scenario:
    upd: dict[str, object] = {"horizon_h": 720}
    if capped:
        upd |= {"start": "2026-07-01T00:00:00", "sites[0].grid.import_capacity_mw": 60}
    return gw.load_scenario("reference").updated(upd)


def campus_month() -> None:
    for capped, target in ((False, "target <= 0.6 s, was ~1.8 s"), (True, "was ~4.3 s")):
        gw.simulate(month(capped))  # warm: imports, compiled kernels, weather
        walls, cpus = [], []
        for _ in range(3):
            sc = month(capped)
            c0, t0 = time.process_time(), time.perf_counter()
            gw.simulate(sc)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        label = "reference month, grid cap binds" if capped else "reference month"
        print(f"  {label + ':':34s}{min(walls):8.3f} s wall, {min(cpus):.3f} s CPU   ({target})")
    plant = facility.build_facility_plant(
        cooling_presets=["dlc", "air"], design_it_kw=[65_000.0, 35_000.0], redundancy=["N+1", "2N"]
    )
    rng = np.random.default_rng(1)
    it = rng.uniform(0.0, 70_000.0, (12, 2))
    db, wb = rng.uniform(15.0, 35.0, (12, 2)), rng.uniform(10.0, 25.0, (12, 2))
    facility.facility_power_kw(plant, it, db, wb)
    n = 200
    t_k, _ = best_of(lambda: [facility.facility_power_kw(plant, it, db, wb) for _ in range(n)], repeat=3)
    t_np, _ = best_of(
        lambda: [facility.facility_power_kw_numpy(plant, it, db, wb) for _ in range(n)], repeat=3
    )
    print(
        f"  facility power, 12 steps x 2 halls: {t_k / n * 1e6:8.1f} µs compiled vs {t_np / n * 1e6:.1f} µs numpy "
        f"({t_np / t_k:.1f}x)"
    )


if __name__ == "__main__":
    main()
    campus_month()
