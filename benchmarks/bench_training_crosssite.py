"""Benchmark: the 100,000-GPU training year of ``bench_training.py`` split over two sites joined by a WAN link.

Target: cost grows with events, not GPUs: a pool over two sites (packing placement, communication factor per
start, a dark hall stopping only its jobs) costs about what the same pool in one site costs (ratio ≲ 1.3),
with the same number of jobs and interruptions to within the randomness of different placements.

Fleet: two sites of 6,250 DGX-class H100 servers each (50,000 GPUs), ``cross_site`` at 100 Tbit/s with DiLoCo
(100 inner steps, int8), the job mix of ``bench_training.py`` (≈ 10,000 jobs of 8-8,192 GPUs, packed into one
site) and two 65,536-GPU pre-training runs that must span both sites; Llama 3 failure rates; one facility
feedback decision for the year (the training engine's cost, not the controller's).

Baseline measured in the same run: the same 100,000 GPUs and jobs as two halls of one site without priced
links (first-fit placement, no communication factor).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from _util import best_of

import gigawatt as gw

N_SERVERS_PER_SITE = 6_250


def _scenario(cross_site: bool) -> gw.Scenario:
    sc = gw.load_scenario("reference")
    d: dict[str, Any] = sc.model_dump(mode="json", exclude_none=True)
    site = d["sites"][0]
    hall = next(h for h in site["halls"] if h["name"] == "h100-hall")
    hall["racks"][0]["count"] = N_SERVERS_PER_SITE // hall["racks"][0]["servers_per_rack"]
    site["grid"]["import_capacity_mw"] = 250
    hall_b = copy.deepcopy(hall)
    hall_b["name"] = "h100-hall-b"
    if cross_site:
        site["halls"] = [hall]
        other = copy.deepcopy(site)
        other["name"] = "site-b"
        other["location"] = {"latitude_deg": 33.75, "longitude_deg": -84.39, "country_code": "US"}
        other["halls"] = [hall_b]
        d["sites"] = [site, other]
        target: dict[str, Any] = {"sites": [site["name"], "site-b"]}
    else:
        site["halls"] = [hall, hall_b]
        target = {"site": site["name"]}
    d["name"] = "bench-training-crosssite"
    big = {"gpus": 65536, "model_params": 4.05e11, "tokens": 7.8e12, "batch_tokens": 6.7e7}
    wl: dict[str, Any] = {
        "kind": "training",
        "name": "fleet",
        "target": target,
        "scheduler": {"policy": "easy_backfill", "spare_nodes": 16},
        "reliability": {"failures": "llama3"},
        "jobs": [{"name": "pretrain-a", **big}, {"name": "pretrain-b", "submit_h": 4380, **big}],
        "mix": {
            "jobs_per_day": 27.4,
            "gpu_counts": [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
            "gpu_count_probs": [0.3, 0.15, 0.12, 0.1, 0.1, 0.08, 0.06, 0.04, 0.03, 0.015, 0.005],
            "median_duration_h": 10.0,
        },
    }
    if cross_site:
        wl["cross_site"] = {
            "bandwidth_gbit_per_s": 100_000,
            "method": "diloco",
            "inner_steps": 100,
            "compression": 4,
        }
    d["workloads"] = [wl]
    return gw.load_scenario(d)


def main() -> None:
    runs = {}
    for name, cross in (("one site, two halls (no links)", False), ("two sites, cross_site", True)):
        sc = _scenario(cross)
        t, res = best_of(lambda sc=sc: gw.simulate(sc, feedback_block_steps=sc.n_steps), repeat=2)
        runs[name] = t
        s = res.summary()
        jobs = res.jobs
        print(
            f"{name}: {t:7.2f} s; jobs {int(s['fleet:jobs_submitted']):,} submitted, "
            f"{int(s['fleet:jobs_finished']):,} finished; interruptions {int(s['fleet:interruptions']):,}; "
            f"spanning sites {int((jobs['span_sites'] > 1).sum())}; comm loss {s['fleet:comm_loss_frac']:.4f}"
        )
    a, b = runs.values()
    print(f"ratio two sites / one site: {b / a:.2f}  (target <= 1.3)")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.1f} s")
