"""Tests for gigawatt.perf.llm (serving performance model)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt import catalog
from gigawatt.perf.llm import (
    DECODE_POWER_FRAC_OF_TDP,
    MODEL_PRESETS,
    AcceleratorPerf,
    ModelSpec,
    ServingConfig,
    decode_step_time_s,
    iteration_coeffs,
    iteration_time_s,
    kv_bytes_per_token,
    kv_cache_capacity_tokens,
    model_preset,
    phase_power_w,
    prefill_time_s,
    weight_bytes,
)

# H100 SXM datasheet figures (NVIDIA H100 Tensor Core GPU datasheet, 2023), dense = sparse / 2
H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)


def test_presets_are_consistent() -> None:
    for m in MODEL_PRESETS.values():
        assert m.source
        assert m.n_active_params <= m.n_params
        # attention width matches the hidden size for these models
        assert m.n_heads * m.head_dim == m.hidden_size


def test_kv_bytes_llama3_70b() -> None:
    # 2 (K,V) x 80 layers x 8 KV heads x 128 head dim x 2 bytes = 320 KiB per token
    assert kv_bytes_per_token(model_preset("Llama-3-70B")) == 327_680
    assert kv_bytes_per_token(model_preset("Llama-3-70B"), ServingConfig(kv_bytes=1)) == 163_840


def test_kv_capacity_and_fit() -> None:
    m = model_preset("Llama-3-70B")
    cfg = ServingConfig(tp=4)
    cap = kv_cache_capacity_tokens(m, H100, cfg)
    free = 4 * (80e9 * 0.9 - 2e9) - weight_bytes(m, cfg)
    assert cap == int(free // 327_680)
    with pytest.raises(ValueError, match="tp: Llama-3-70B"):
        kv_cache_capacity_tokens(m, H100, ServingConfig(tp=1))
    # FP8 weights (71 GB) fit on one 141 GB H200 (datasheet), not on one 80 GB H100 at 0.9 utilisation
    h200 = AcceleratorPerf("H200", 989.4, 1978.9, 141.0, 4.8, 700.0, 75.0)
    assert kv_cache_capacity_tokens(m, h200, ServingConfig(tp=1, weight_bytes=1)) > 0


def test_prefill_compute_bound_scaling() -> None:
    m = model_preset("Llama-3-8B")
    cfg = ServingConfig()
    t = prefill_time_s(m, H100, [2048, 4096], cfg)
    # linear FLOPs dominate: doubling the prompt roughly doubles the time (attention adds a little more)
    assert 2.0 < t[1] / t[0] < 2.2
    flops = 2 * m.n_active_params * 4096 + 4 * m.n_layers * 4096 * 4096 * 4097 / 2
    assert_allclose(t[1], 1e-3 + flops / (989.4e12 * 0.5), rtol=1e-12)


def test_decode_memory_bound_and_batch_effect() -> None:
    m = model_preset("Llama-3-8B")
    cfg = ServingConfig()
    t1 = decode_step_time_s(m, H100, 1, 1000, cfg)
    # batch 1: weight read dominates -> time ~ overhead + weights / (bandwidth x efficiency)
    w = weight_bytes(m, cfg) / (3.35e12 * 0.60)
    assert_allclose(t1, 1e-3 + w + kv_bytes_per_token(m, cfg) * 1000 / (3.35e12 * 0.60), rtol=1e-12)
    t64 = decode_step_time_s(m, H100, 64, 1000, cfg)
    assert t1 < t64 < 64 * t1  # batching amortises the weight read
    # throughput per GPU grows with batch
    assert 64 / t64 > 10 / t1


def test_moe_batch_touches_more_experts() -> None:
    mix = model_preset("Mixtral-8x7B")
    cfg = ServingConfig(tp=2)
    c = iteration_coeffs(mix, H100, cfg)
    t1 = float(iteration_time_s(c, 1, 0, 0))
    t_big = float(iteration_time_s(c, 64, 0, 0))
    # one token reads the dense part + 2/8 of the experts; 64 tokens touch nearly all experts
    assert_allclose(t1 - c.fixed_s - 1 * c.comm_per_token_s, c.dense_weights_s + c.expert_weights_s * 0.25)
    assert t_big > 3 * t1 * 0.9
    # active-parameter FLOPs: 12.9B, not 46.7B
    assert_allclose(c.flop_per_token_s, 2 * 12.9e9 / (2 * 989.4e12 * 0.5))


def test_tensor_parallel_comm_cost() -> None:
    m = model_preset("Llama-3-70B")
    c1 = iteration_coeffs(m, H100, ServingConfig(tp=1, weight_bytes=1))
    c8 = iteration_coeffs(m, H100, ServingConfig(tp=8, weight_bytes=1))
    assert c1.comm_per_token_s == 0.0
    assert c8.comm_per_token_s > 0 and c8.fixed_s > c1.fixed_s
    # per-token compute shrinks 8x with tp=8
    assert_allclose(c8.flop_per_token_s * 8, c1.flop_per_token_s)


def test_catalog_row_and_power() -> None:
    a = AcceleratorPerf.from_mapping(catalog.accelerator("H200"))
    assert a.hbm_gb == 141 and a.scaleup_bandwidth_gbps == 450
    p = phase_power_w(H100)
    assert_allclose([p["prefill"], p["decode"]], [700.0, 380.0])  # Splitwise (Patel et al. 2024) H100
    assert DECODE_POWER_FRAC_OF_TDP < 1


def test_errors_name_fields() -> None:
    with pytest.raises(ValueError, match="did you mean 'Llama-3-70B'"):
        model_preset("Llama-3-70b")
    with pytest.raises(ValueError, match="tp: must be an integer"):
        ServingConfig(tp=0)
    with pytest.raises(ValueError, match="compute_efficiency_frac"):
        ServingConfig(compute_efficiency_frac=1.5)
    with pytest.raises(ValueError, match="n_active_params"):
        ModelSpec("x", 1e9, 2e9, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="missing field"):
        AcceleratorPerf.from_mapping({"name": "x"})


def test_vectorised() -> None:
    m = model_preset("Llama-3-8B")
    t = decode_step_time_s(m, H100, np.arange(1, 5), np.full(4, 500.0), ServingConfig())
    assert t.shape == (4,) and np.all(np.diff(t) > 0)
