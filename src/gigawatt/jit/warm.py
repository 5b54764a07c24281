"""Compile every kernel a simulation uses into numba's cache (``python -m gigawatt.jit``).

A top-layer module: it runs a small simulation, so it imports the whole package; :mod:`gigawatt.jit` itself
stays at the bottom layer (the physics kernels import it).
"""

from __future__ import annotations

import numpy as np

import gigawatt as gw
from gigawatt import jit
from gigawatt.engine import inference_sim
from gigawatt.perf.fleet import autoscaler, colocated, latency
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    kv_cache_capacity_tokens,
    model_preset,
)
from gigawatt.physics import dispatch, psychrometrics

__all__ = ["warm_cache"]


def warm_cache() -> dict[str, int]:
    """Compile every kernel a simulation uses, for the argument types it passes, into numba's cache.

    Runs a one-day reference scenario and the request-level, queueing and TTFT-quantile kernels on tiny inputs
    with the ``compiled`` policy. Afterwards tiered kernels find their compiled versions in the cache and
    use them from the first call. Returns the number of compiled signatures per kernel.
    """
    jit._mode_override.append("compiled")
    try:
        gw.simulate(gw.load_scenario("reference").updated({"horizon_h": 24}))
        acc = gw.catalog.accelerator("H100-SXM")
        a, m, cfg = AcceleratorPerf.from_mapping(acc), model_preset("Llama-3-8B"), ServingConfig()
        inference_sim.simulate_requests(
            [0.0, 0.1], [10, 20], [5, 5], 1, iteration_coeffs(m, a, cfg), kv_cache_capacity_tokens(m, a, cfg)
        )
        colocated._serve_queue(np.ones(2), np.ones(2), 300.0, 60.0)
        one = np.ones(1)
        latency._ttft_quantiles_kernel(0.5, np.ones((1, 2)), np.full(2, 0.5), one, one, one)
        two = np.ones((1, 1))
        latency._mixture_ttft_kernel(
            0.5, np.ones((1, 1, 2)), np.full(2, 0.5), two, two, two, np.zeros(1, np.int64), two, two,
            np.zeros(1, np.int64), np.zeros(1), np.full(1, 2.0), 1e-12,
        )  # fmt: skip
    finally:
        jit._mode_override.pop()
    kernels = {
        "dispatch": dispatch._dispatch_kernel,
        "wet_bulb": psychrometrics._wet_bulb_kernel,
        "request_level": inference_sim._simulate_kernel,
        "autoscaler": autoscaler._autoscale_kernel,
        "serve_queue": colocated._serve_queue,
    }
    return {name: len(k.dispatcher.signatures) for name, k in kernels.items()}
