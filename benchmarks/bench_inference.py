"""Benchmark: request-level inference simulator (numba kernel) vs one simpy process per request.

Target (issue 5): >= 1,000,000 simulated requests per wall-second on the 2-core reference machine, against
the baseline of one simpy process per request with the same serving model (``inference_simpy_baseline.py``,
identical per-request results, held by ``tests/engine/test_inference_sim.py``) measured in the same run.

Workload: Llama-3-8B on one H100 per replica, 16 replicas behind a least-loaded router, chunked prefill,
Poisson arrivals at ~70 % of capacity, log-normal prompt (median 1,000) and output (median 100) lengths
(Azure conversation trace-like, Patel et al. 2024). Also reported: fleet mode for a year at 5-minute steps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of
from inference_simpy_baseline import SimpySim

from gigawatt import catalog
from gigawatt.engine.inference_sim import simulate_requests
from gigawatt.perf.demand import daily_profile_frac, lognormal_tokens
from gigawatt.perf.fleet import ReplicaPerf, TokenStats, replica_capacity_per_s, simulate_fleet
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    kv_cache_capacity_tokens,
    model_preset,
)


def workload(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple, int, float]:
    acc = AcceleratorPerf.from_mapping(catalog.accelerator("H100-SXM"))
    m = model_preset("Llama-3-8B")
    cfg = ServingConfig(tp=1)
    coeffs = iteration_coeffs(m, acc, cfg)
    cap = kv_cache_capacity_tokens(m, acc, cfg)
    rng = np.random.default_rng(seed)
    P = lognormal_tokens(n, 1000, 1.0, rng, max_tokens=8000)
    O = lognormal_tokens(n, 100, 1.0, rng, max_tokens=2000)
    ts = TokenStats.from_samples(P[:20000], O[:20000])
    mu = replica_capacity_per_s(ReplicaPerf(coeffs, cap, 8192, 256, 1), ts)
    lam = 0.7 * 16 * mu
    arr = np.cumsum(rng.exponential(1 / lam, n))
    return arr, P, O, coeffs, cap, lam


def main() -> None:
    n_kernel, n_simpy = 1_000_000, 30_000
    arr, P, O, coeffs, cap, lam = workload(n_kernel)
    simulate_requests(arr[:100], P[:100], O[:100], 16, coeffs, cap)  # compile / load the numba cache
    t_kernel, res = best_of(lambda: simulate_requests(arr, P, O, 16, coeffs, cap, router="least_loaded"))
    t0 = time.perf_counter()
    base = SimpySim(arr[:n_simpy], P[:n_simpy], O[:n_simpy], 16, coeffs, cap, router="least_loaded").run()
    t_simpy = time.perf_counter() - t0
    same = simulate_requests(arr[:n_simpy], P[:n_simpy], O[:n_simpy], 16, coeffs, cap, router="least_loaded")
    identical = all(
        np.array_equal(getattr(same, f), getattr(base, f), equal_nan=True)
        for f in ("replica", "start_s", "first_token_s", "finish_s")
    )
    k_rate, s_rate = n_kernel / t_kernel, n_simpy / t_simpy
    print(
        f"workload: {lam:.0f} req/s offered to 16 replicas, {n_kernel:,} requests "
        f"({arr[-1] / 3600:.2f} h simulated), p99 TTFT {np.nanquantile(res.ttft_s, 0.99):.3f} s"
    )
    print(f"numba kernel : {k_rate:12,.0f} requests/s  ({t_kernel:.3f} s)   target >= 1,000,000")
    print(f"simpy/request: {s_rate:12,.0f} requests/s  ({t_simpy:.3f} s for {n_simpy:,})")
    print(f"speed-up     : {k_rate / s_rate:12.1f}x   identical results on the common prefix: {identical}")
    # fleet mode: one year at 5-minute steps
    step = 300.0
    t = np.arange(int(365 * 86400 / step)) * step
    demand = lam * daily_profile_frac(t)
    ts = TokenStats.from_samples(P[:20000], O[:20000])
    perf = ReplicaPerf(coeffs, cap, 8192, 256, 1)
    t_fleet, _ = best_of(lambda: simulate_fleet(demand, step, perf, ts), repeat=2)
    print(f"fleet mode   : one year at 5-min steps ({t.size:,} steps) in {t_fleet:.2f} s")


if __name__ == "__main__":
    main()
