"""Tests for gigawatt.perf.roofline (the one iteration roofline and its packed coefficient layout)."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose

from gigawatt.perf import roofline as rl
from gigawatt.perf.fleet import ReplicaPerf, prefill_time_idle_s
from gigawatt.perf.llm import AcceleratorPerf, ServingConfig, iteration_coeffs, iteration_time_s, model_preset
from gigawatt.perf.roofline import (
    COEFFICIENT_LAYOUT,
    IterationCoefficients,
    roofline_time_s,
    roofline_time_s_jit,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)

#: Distinct values per field, so that a position mix-up cannot go unnoticed.
MOE = IterationCoefficients(
    fixed_s=1.1e-3,
    dense_weights_s=2.2e-3,
    expert_weights_s=3.3e-2,
    expert_hit_frac=0.25,
    kv_per_token_s=4.4e-8,
    flop_per_token_s=5.5e-6,
    attn_per_pair_s=6.6e-10,
    comm_per_token_s=7.7e-7,
)


def test_layout_is_the_field_order_and_named_indices_point_to_their_fields() -> None:
    assert COEFFICIENT_LAYOUT == tuple(f.name for f in fields(IterationCoefficients))
    packed = MOE.packed()
    assert packed.dtype == np.float64 and packed.shape == (len(COEFFICIENT_LAYOUT),)
    for name in COEFFICIENT_LAYOUT:
        idx = getattr(rl, f"IDX_{name.upper()}")
        assert_allclose(packed[idx], getattr(MOE, name), rtol=0, atol=0)
    assert IterationCoefficients.from_packed(packed) == MOE
    with pytest.raises(ValueError, match="packed coefficients"):
        IterationCoefficients.from_packed(packed[:-1])


def _written_out(c: IterationCoefficients, n: np.ndarray, kv: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    # the roofline of the gigawatt.perf.llm docstring, term by term
    w = c.dense_weights_s + c.expert_weights_s * (1.0 - (1.0 - c.expert_hit_frac) ** n)
    mem = w + c.kv_per_token_s * kv
    comp = c.flop_per_token_s * n + c.attn_per_pair_s * pairs
    return np.asarray(c.fixed_s + np.maximum(mem, comp) + c.comm_per_token_s * n)


@pytest.mark.parametrize("coeffs", [MOE, replace(MOE, expert_weights_s=0.0, expert_hit_frac=1.0)])
def test_one_formula_for_numpy_llm_and_compiled_kernels(coeffs: IterationCoefficients) -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(1, 9000, 200).astype(float)
    kv = rng.integers(0, 500_000, 200).astype(float)
    pairs = n * kv + n * (n + 1.0) / 2.0
    expected = _written_out(coeffs, n, kv, pairs)
    assert_allclose(roofline_time_s(coeffs.packed(), n, kv, pairs), expected, rtol=1e-15, atol=1e-18)
    assert_allclose(iteration_time_s(coeffs, n, kv, pairs), expected, rtol=1e-15, atol=1e-18)

    @njit
    def each(c, n, kv, pairs):  # type: ignore[no-untyped-def]
        out = np.empty(n.size)
        for i in range(n.size):
            out[i] = roofline_time_s_jit(c, n[i], kv[i], pairs[i])
        return out

    assert_allclose(each(coeffs.packed(), n, kv, pairs), expected, rtol=1e-15, atol=1e-18)
    # both regimes are exercised: memory-bound (decode-like) and compute-bound (prefill-like) iterations
    mem = _written_out(replace(coeffs, flop_per_token_s=0.0, attn_per_pair_s=0.0), n, kv, pairs)
    assert np.any(np.isclose(expected, mem, rtol=1e-12, atol=0.0))
    assert np.any(~np.isclose(expected, mem, rtol=1e-12, atol=0.0))


def test_fleet_prefill_uses_the_same_roofline() -> None:
    """An idle-replica prefill of ``P`` tokens below the token budget is one iteration of the roofline."""
    c = iteration_coeffs(model_preset("Llama-3-8B"), H100, ServingConfig())
    P = np.array([10.0, 500.0, 4000.0])
    perf = ReplicaPerf(c, 10**6, max_batch_tokens=8192)
    assert_allclose(
        prefill_time_idle_s(P, perf), _written_out(c, P, 0.0 * P, P * (P + 1.0) / 2.0), rtol=1e-15, atol=1e-18
    )
