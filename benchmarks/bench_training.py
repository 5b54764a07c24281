"""Benchmark: one simulated year of a 100,000-GPU training fleet with ~10,000 jobs, Llama 3 failure rates.

Target (issue 4): ``simulate`` in at most 10 s on the 2-core reference machine, facility physics on
(the controller's cooling/PUE stages run over the whole year at 5-minute steps).

Fleet: one air-cooled hall of 12,500 DGX-class H100 servers (100,000 GPUs) on RoCE, one training pool with
a job mix of 27.4 jobs/day ≈ 10,000 jobs/year of 8-8,192 GPUs (median 10 h for one server, growing with
size; chosen so that the fleet is busy, about two thirds allocated) plus two 16,384-GPU pre-training jobs, EASY backfill, 16 hot-spare servers, failures and planned maintenance at the Llama 3
Table 5 rates.

Also measured: the same run with one facility feedback decision for the whole year instead of one per hour
(facility physics still evaluated exactly afterwards), which separates the training engine from the cost of
the controller's hourly thermal decisions.

Baselines measured in the same run:

* the same scenario with a ``utilization`` workload in place of training (facility physics alone), to show
  what the training engine adds;
* the naive failure design the engine avoids: one simpy process per server drawing its own failure times
  over the year (cost grows with servers, not with events) -- failure sampling only, no scheduling.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

import gigawatt as gw
from gigawatt.perf.reliability import llama3_failure_model

N_SERVERS = 12_500


def fleet_scenario(training: bool = True) -> gw.Scenario:
    sc = gw.load_scenario("reference")
    d: dict[str, Any] = sc.model_dump(mode="json", exclude_none=True)
    site = d["sites"][0]
    hall = next(h for h in site["halls"] if h["name"] == "h100-hall")
    hall["racks"][0]["count"] = N_SERVERS // hall["racks"][0]["servers_per_rack"]
    site["halls"] = [hall]
    site["grid"]["import_capacity_mw"] = 250
    d["name"] = "bench-training-100k"
    if training:
        d["workloads"] = [
            {
                "kind": "training",
                "name": "fleet",
                "target": {"hall": "h100-hall"},
                "scheduler": {"policy": "easy_backfill", "spare_nodes": 16},
                "reliability": {"failures": "llama3"},
                "jobs": [
                    {"name": "pretrain-a", "gpus": 16384, "model_params": 4.05e11, "tokens": 7.8e12},
                    {
                        "name": "pretrain-b",
                        "gpus": 16384,
                        "model_params": 4.05e11,
                        "tokens": 7.8e12,
                        "submit_h": 4380,
                    },
                ],
                "mix": {
                    "jobs_per_day": 27.4,
                    "gpu_counts": [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
                    "gpu_count_probs": [0.3, 0.15, 0.12, 0.1, 0.1, 0.08, 0.06, 0.04, 0.03, 0.015, 0.005],
                    "median_duration_h": 10.0,
                },
            }
        ]
    else:
        d["workloads"] = [
            {
                "kind": "utilization",
                "name": "fleet",
                "target": {"hall": "h100-hall"},
                "profile": {"kind": "constant", "utilization_frac": 0.7},
            }
        ]
    return gw.load_scenario(d)


def per_server_failure_baseline(horizon_s: float, seed: int = 0) -> int:
    """Failures sampled by one simpy process per server (the design the engine avoids)."""
    fm = llama3_failure_model()
    lam_server_s = (fm.total_rate_per_gpu_h + fm.planned_rate_per_gpu_h) * 8 / 3600.0
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    count = [0]

    def server():
        while True:
            yield env.timeout(rng.exponential(1.0 / lam_server_s))
            count[0] += 1

    for _ in range(N_SERVERS):
        env.process(server())
    env.run(until=horizon_s)
    return count[0]


def main() -> None:
    sc = fleet_scenario()
    t_sim, res = best_of(lambda: gw.simulate(sc), repeat=3)
    t_nofb, _ = best_of(lambda: gw.simulate(sc, feedback_block_steps=sc.n_steps), repeat=1)
    t_util, _ = best_of(lambda: gw.simulate(fleet_scenario(training=False)), repeat=1)
    t_base, n_base = best_of(lambda: per_server_failure_baseline(sc.horizon_h * 3600.0), repeat=1)
    jobs, ev = res.jobs, res.events
    s = res.summary()
    print(f"{sc.name}: {sc.horizon_h:g} h @ {sc.step_s:g} s, {sc.n_accelerators:,} GPUs")
    print(
        f"  jobs submitted {int(s['fleet:jobs_submitted']):,}, finished {int(s['fleet:jobs_finished']):,}; "
        f"interruptions {int(s['fleet:interruptions']):,}; events {len(ev):,}; "
        f"goodput {s['fleet:goodput_frac']:.3f}; mean allocation {s['fleet:mean_allocation_frac']:.3f}"
    )
    print(f"  simulate() with training:             {t_sim:8.3f} s   (target <= 10 s)")
    print(
        f"  same, one facility feedback decision for the year instead of hourly: {t_nofb:8.3f} s "
        f"(hourly thermal feedback costs {t_sim - t_nofb:.3f} s)"
    )
    print(f"  same fleet, utilisation workload only: {t_util:8.3f} s   (facility physics alone)")
    print(
        f"  per-server failure processes (failure sampling only, {n_base:,} failures): {t_base:8.3f} s "
        f"-> {t_base / t_sim:.2f}x the whole training simulation"
    )
    print(f"  largest job: {jobs.n_gpus.max():,} GPUs; peak IT power {s['peak_it_power_mw']:.1f} MW")


if __name__ == "__main__":
    main()
