"""Tests for gigawatt.perf.fleet.colocated (colocated fleet simulation)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf.fleet import (
    SLO,
    AutoscalerConfig,
    simulate_fleet,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    phase_power_w,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)


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
    assert s["accelerator_energy_per_token_j"] > 0 and s["gpu_hours_per_million_tokens"] > 0 and s["slo_met"]


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
