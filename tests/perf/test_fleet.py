"""Tests for gigawatt.perf.fleet (fleet mode)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gigawatt.perf.fleet import (
    SLO,
    AutoscalerConfig,
    DisaggregatedPerf,
    ReplicaPerf,
    TokenStats,
    autoscale_replicas,
    replica_capacity_per_s,
    replica_operating_point,
    simulate_disaggregated_fleet,
    simulate_fleet,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    kv_bytes_per_token,
    kv_cache_capacity_tokens,
    model_preset,
    phase_power_w,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    m = model_preset("Llama-3-8B")
    cfg = ServingConfig(tp=1)
    perf = ReplicaPerf(iteration_coeffs(m, H100, cfg), kv_cache_capacity_tokens(m, H100, cfg), 4096, 128, 1)
    rng = np.random.default_rng(0)
    ts = TokenStats.from_samples(rng.integers(100, 3000, 5000), rng.integers(2, 400, 5000))
    return perf, ts


def test_operating_point_monotone(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    mu = replica_capacity_per_s(perf, ts)
    T, B = replica_operating_point(np.array([0.0, 0.3, 0.6, 0.9]) * mu, perf, ts)
    assert np.all(np.diff(T) > 0) and np.all(np.diff(B) > 0) and B[0] == 0
    T_over, _ = replica_operating_point([1.2 * mu], perf, ts)
    assert T_over[0] == np.inf


def test_autoscaler_delay_and_cooldown() -> None:
    desired = np.array([2, 2, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1])
    cfg = AutoscalerConfig(
        policy="utilization", min_replicas=1, scale_up_delay_s=600, scale_down_cooldown_s=900
    )
    ready, pending = autoscale_replicas(desired, 300.0, cfg)
    # ordered at step 2, ready two steps (600 s) later; scale-down waits for 3 steps of low demand
    assert_array_equal(ready, [2, 2, 2, 2, 6, 6, 6, 6, 6, 1, 1, 1])
    assert_array_equal(pending, [0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0])
    fixed = autoscale_replicas(desired, 300.0, AutoscalerConfig(policy="fixed", fixed_replicas=3))[0]
    assert np.all(fixed == 3)


def test_fleet_accounting(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    t = np.arange(48)
    demand = 20.0 + 15.0 * np.sin(t / 48 * 2 * np.pi)
    res = simulate_fleet(
        demand,
        1800.0,
        perf,
        ts,
        slo=SLO(ttft_s=1.0, tpot_s=0.1),
        autoscaler=AutoscalerConfig(scale_up_delay_s=0),
        phase_power_w=phase_power_w(H100),
    )
    f = res.frame
    assert_allclose(f["served_rps"] + f["dropped_rps"], f["demand_rps"], rtol=1e-12)
    assert_allclose(f["prefill_gpus"] + f["decode_gpus"] + f["idle_gpus"], f["gpus"], rtol=1e-12)
    assert (f["utilization_frac"] <= 1 + 1e-12).all() and (f["slo_attainment_frac"] <= 1).all()
    # SLO sizing with no scale-up delay meets the SLO in every step
    assert (f["ttft_p99_s"] <= 1.0 + 1e-9).all() and (f["tpot_p99_s"] <= 0.1 + 1e-9).all()
    # more demand never means fewer replicas (no delay, no cooldown in effect for rising demand)
    order = np.argsort(demand)
    assert np.all(np.diff(f["replicas"].to_numpy()[order]) >= -1)
    s = res.summary
    assert s["energy_per_token_j"] > 0 and s["gpu_hours_per_million_tokens"] > 0 and s["slo_met"]


def test_throttling_needs_more_replicas(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    d = np.full(4, 30.0)
    full = simulate_fleet(d, 300.0, perf, ts, autoscaler=AutoscalerConfig(scale_up_delay_s=0)).frame
    slow = simulate_fleet(
        d, 300.0, perf, ts, autoscaler=AutoscalerConfig(scale_up_delay_s=0), throughput_frac=0.5
    ).frame
    assert (slow["replicas"] > full["replicas"]).all()


def test_overload_drop_and_queue(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    d = np.array([10.0, 1000.0, 1000.0, 10.0, 10.0])
    cfg = AutoscalerConfig(policy="fixed", fixed_replicas=2)
    drop = simulate_fleet(d, 60.0, perf, ts, autoscaler=cfg).frame
    assert drop["dropped_rps"].iloc[1] > 0
    assert drop["dropped_rps"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    q = simulate_fleet(
        d,
        60.0,
        perf,
        ts,
        autoscaler=AutoscalerConfig(policy="fixed", fixed_replicas=2, overload="queue", max_queue_s=1e9),
    ).frame
    # nothing dropped with an unbounded queue; the backlog drains later and all demand is served
    assert_allclose(q["dropped_rps"], 0.0, atol=1e-9)
    assert q["served_rps"].iloc[3] > d[3]
    with pytest.raises(ValueError, match="demand_rps"):
        simulate_fleet(np.array([-1.0]), 60.0, perf, ts)
    with pytest.raises(ValueError, match="target_utilization_frac"):
        AutoscalerConfig(target_utilization_frac=0)


def test_disaggregated_fleet(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    dp = DisaggregatedPerf(perf, perf, kv_bytes_per_token(model_preset("Llama-3-8B")), 50.0)
    d = np.array([0.0, 5.0, 20.0, 40.0])
    cfg = AutoscalerConfig(scale_up_delay_s=0)
    res = simulate_disaggregated_fleet(
        d,
        600.0,
        dp,
        ts,
        slo=SLO(ttft_s=1.0, tpot_s=0.05),
        prefill_autoscaler=cfg,
        decode_autoscaler=cfg,
        prefill_power_w=phase_power_w(H100),
        decode_power_w=phase_power_w(H100),
    )
    f = res.frame
    assert_array_equal(f["replicas"], f["prefill_replicas"] + f["decode_replicas"])
    assert f["replicas"].iloc[0] == 2 and np.all(np.diff(f["prefill_replicas"]) >= 0)  # min 1 per pool
    assert (f["ttft_p99_s"].iloc[1:] <= 1.0 + 1e-9).all() and (f["tpot_p99_s"].iloc[1:] <= 0.05 + 1e-9).all()
    assert_allclose(f["prefill_gpus"] + f["decode_gpus"] + f["idle_gpus"], f["gpus"], rtol=1e-12)
    # without prefill interference, decode TPOT is below the colocated fleet's at the same demand
    co = simulate_fleet(d, 600.0, perf, ts, slo=SLO(ttft_s=1.0, tpot_s=0.05), autoscaler=cfg).frame
    assert f["tpot_p50_s"].iloc[-1] < co["tpot_p50_s"].iloc[-1]
