"""Tests for gigawatt.engine.inference_sim (compiled request-level simulator)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gigawatt.engine.inference_sim import ROUTERS, simulate_requests
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    iteration_time_s,
    kv_cache_capacity_tokens,
    model_preset,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "inference_simpy_baseline.py"


def _baseline():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("inference_simpy_baseline", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["inference_simpy_baseline"] = mod
    spec.loader.exec_module(mod)
    return mod.SimpySim


@pytest.fixture(scope="module")
def moe():  # type: ignore[no-untyped-def]
    m = model_preset("Mixtral-8x7B")
    cfg = ServingConfig(tp=2)
    return iteration_coeffs(m, H100, cfg), kv_cache_capacity_tokens(m, H100, cfg)


INT_FIELDS = ("replica", "status")
TIME_FIELDS = ("start_s", "first_token_s", "finish_s")


def _assert_same_requests(a, b) -> None:  # type: ignore[no-untyped-def]
    """Same routing and outcome per request (integers, exact); same times within 1 ns (compiled code may
    reassociate float sums, so bit identity is not promised)."""
    for f in INT_FIELDS:
        assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    for f in TIME_FIELDS:
        assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12, atol=1e-9, err_msg=f)


@pytest.fixture(autouse=True)
def _compiled_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests hold the compiled kernel (its interpreted tier: ``test_interpreted_tier_identical``)."""
    monkeypatch.setenv("GIGAWATT_JIT", "compiled")


@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("chunked", [True, False])
def test_interpreted_tier_identical(moe, router: str, chunked: bool, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Short windows run the kernel's Python source (gigawatt.jit): the same requests, bit for bit."""
    coeffs, _ = moe
    rng = np.random.default_rng(14)
    n = 400
    arr = np.cumsum(rng.exponential(1 / 25, n))
    P = rng.integers(1, 3000, n)
    O = rng.integers(1, 200, n)
    kw = dict(router=router, chunked_prefill=chunked, max_batch_tokens=2048, max_batch_seqs=24)
    a = simulate_requests(arr, P, O, 3, coeffs, 60_000, **kw)  # type: ignore[arg-type]
    monkeypatch.setenv("GIGAWATT_JIT", "interpreted")
    b = simulate_requests(arr, P, O, 3, coeffs, 60_000, **kw)  # type: ignore[arg-type]
    for f in ("start_s", "first_token_s", "finish_s", "replica", "status"):
        assert_allclose(getattr(a, f), getattr(b, f), rtol=0, atol=0, err_msg=f)  # identical by design


@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("chunked", [True, False])
def test_identical_to_simpy_baseline(moe, router: str, chunked: bool) -> None:  # type: ignore[no-untyped-def]
    coeffs, _ = moe
    rng = np.random.default_rng(11)
    n = 600
    arr = np.cumsum(rng.exponential(1 / 25, n))
    P = rng.integers(1, 3000, n)
    O = rng.integers(1, 200, n)
    P[5] = 70_000  # rejected: larger than the KV capacity below
    kw = dict(router=router, chunked_prefill=chunked, max_batch_tokens=2048, max_batch_seqs=24)
    a = simulate_requests(arr, P, O, 3, coeffs, 60_000, **kw)  # type: ignore[arg-type]
    b = _baseline()(arr, P, O, 3, coeffs, 60_000, **kw).run()
    _assert_same_requests(a, b)
    assert a.status[5] == 1 and a.status.sum() == 1


def test_identical_to_simpy_baseline_mmc_mode(moe) -> None:  # type: ignore[no-untyped-def]
    coeffs, cap = moe
    rng = np.random.default_rng(12)
    n = 2000
    arr = np.cumsum(rng.exponential(1 / 9, n))
    svc = rng.exponential(1.0, n)
    ones = np.ones(n, dtype=np.int64)
    a = simulate_requests(arr, ones, ones, 10, coeffs, cap, router="central", service_s=svc)
    b = _baseline()(arr, ones, ones, 10, coeffs, cap, router="central", service_s=svc).run()
    _assert_same_requests(a, b)
    assert_allclose(a.finish_s - a.start_s, svc, rtol=0, atol=1e-9)


def test_single_request_matches_perf_model(moe) -> None:  # type: ignore[no-untyped-def]
    coeffs, cap = moe
    r = simulate_requests([2.0], [1000], [11], 1, coeffs, cap, chunked_prefill=False)
    t_pf = float(iteration_time_s(coeffs, 1000, 0, 1000 * 1001 / 2))
    assert_allclose(r.ttft_s, [t_pf], rtol=1e-12)
    ctx = 1000 + np.arange(1, 11)
    t_dec = iteration_time_s(coeffs, 1, ctx, ctx)
    assert_allclose(r.e2e_s, [t_pf + t_dec.sum()], rtol=1e-12)
    assert_allclose(r.tpot_s, [t_dec.mean()], rtol=1e-12)
    # chunked prefill of a 1000-token prompt with a 256-token budget takes 4 iterations
    rc = simulate_requests([0.0], [1000], [1], 1, coeffs, cap, max_batch_tokens=256)
    chunks = [(256, 0), (256, 256), (256, 512), (232, 768)]
    t = sum(float(iteration_time_s(coeffs, c, s, c * s + c * (c + 1) / 2)) for c, s in chunks)
    assert_allclose(rc.ttft_s, [t], rtol=1e-12)
    assert np.isnan(rc.tpot_s[0])
    # throttling stretches every iteration
    slow = simulate_requests([2.0], [1000], [11], 1, coeffs, cap, chunked_prefill=False, speed_frac=0.5)
    assert_allclose(slow.e2e_s, 2 * r.e2e_s, rtol=1e-12)


def test_invariants_and_batch_limits(moe) -> None:  # type: ignore[no-untyped-def]
    coeffs, cap = moe
    rng = np.random.default_rng(13)
    n = 5000
    arr = np.cumsum(rng.exponential(1 / 40, n))
    P = rng.integers(1, 4000, n)
    O = rng.integers(1, 300, n)
    r = simulate_requests(arr, P, O, 4, coeffs, cap, max_batch_seqs=1, router="jsq")
    assert np.all(r.start_s >= r.arrival_s) and np.all(r.first_token_s > r.start_s)
    assert np.all(r.finish_s >= r.first_token_s)
    # max_batch_seqs = 1: each replica serves one request at a time
    for k in range(4):
        sel = r.replica == k
        order = np.argsort(r.start_s[sel])
        assert np.all(r.start_s[sel][order][1:] >= r.finish_s[sel][order][:-1])
    df = r.to_frame()
    assert list(df.columns)[:3] == ["arrival_s", "prompt_tokens", "output_tokens"]


def test_bad_input() -> None:
    c = iteration_coeffs(model_preset("Llama-3-8B"), H100, ServingConfig())
    with pytest.raises(ValueError, match="arrival_s: must be finite and non-decreasing"):
        simulate_requests([1.0, 0.0], [1, 1], [1, 1], 1, c, 1000)
    with pytest.raises(ValueError, match="router"):
        simulate_requests([0.0], [1], [1], 1, c, 1000, router="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_replicas"):
        simulate_requests([0.0], [1], [1], 0, c, 1000)
