"""Shared fixtures of the fleet-mode tests: two replicas and their token statistics."""

from __future__ import annotations

import numpy as np
import pytest

from gigawatt.perf.fleet import (
    ReplicaPerf,
    TokenStats,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    kv_cache_capacity_tokens,
    model_preset,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)
MI300X = AcceleratorPerf("MI300X", 1307.4, 2614.9, 192.0, 5.3, 750.0, 190.0, 448.0)


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    m = model_preset("Llama-3-8B")
    cfg = ServingConfig(tp=1)
    perf = ReplicaPerf(iteration_coeffs(m, H100, cfg), kv_cache_capacity_tokens(m, H100, cfg), 4096, 128, 1)
    rng = np.random.default_rng(0)
    ts = TokenStats.from_samples(rng.integers(100, 3000, 5000), rng.integers(2, 400, 5000))
    return perf, ts


@pytest.fixture(scope="module")
def mi300x_70b_tp1():  # type: ignore[no-untyped-def]
    m = model_preset("Llama-3-70B")
    cfg = ServingConfig(tp=1)
    perf = ReplicaPerf(
        iteration_coeffs(m, MI300X, cfg), kv_cache_capacity_tokens(m, MI300X, cfg), 8192, 256, 1
    )
    rng = np.random.default_rng(1)
    P = np.clip(np.rint(rng.lognormal(np.log(1020.0), 1.0, 20_000)), 1, 32768)
    O = np.clip(np.rint(rng.lognormal(np.log(129.0), 1.0, 20_000)), 1, 8192)
    return perf, TokenStats.from_samples(P, O)
