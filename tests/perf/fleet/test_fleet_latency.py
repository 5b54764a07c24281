"""Tests for gigawatt.perf.fleet.latency (latency distributions, SLO ceiling)."""

from __future__ import annotations

import numpy as np
import pytest

from gigawatt.errors import GigawattWarning
from gigawatt.perf.fleet import (
    SLO,
    AutoscalerConfig,
    evaluate_fleet,
    replica_capacity_per_s,
    simulate_fleet,
    slo_ceiling,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    phase_power_w,
)

MI300X = AcceleratorPerf("MI300X", 1307.4, 2614.9, 192.0, 5.3, 750.0, 190.0, 448.0)


def test_infeasible_slo_is_said_not_bought(mi300x_70b_tp1, caplog) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: MI300X, Llama 3 70B at TP 1, p99 TTFT 2 s: the p99 prompt alone takes longer."""
    perf, ts = mi300x_70b_tp1
    slo = SLO(ttft_s=2.0, tpot_s=0.2)
    ceiling = slo_ceiling(perf, ts, slo)
    assert not ceiling["reachable"] and ceiling["ttft_frac_max"] < 0.99
    assert ceiling["ttft_quantile_min_s"] > 2.0
    # a longer target is reachable: the ceiling is the own prefill of the quantile prompt on an idle replica
    assert slo_ceiling(perf, ts, SLO(ttft_s=ceiling["ttft_quantile_min_s"] * 1.01, tpot_s=0.2))["reachable"]
    demand = np.full(3, 200.0)
    pool = 6400
    cfg = AutoscalerConfig(scale_up_delay_s=0, pool_replicas=pool)
    with pytest.warns(GigawattWarning, match="cannot be met at any replica count"):
        res = simulate_fleet(
            demand, 300.0, perf, ts, slo=slo, autoscaler=cfg, phase_power_w=phase_power_w(MI300X)
        )
    assert "cannot be met" in caplog.text  # also on the `gigawatt` logger
    f = res.frame
    R = int(f["replicas"].iloc[0])
    mu = replica_capacity_per_s(perf, ts)
    # not the pool, not even the economical cap: the attainment knee, above the utilisation target's count
    assert res.diagnostics["max_replicas"] == int(np.ceil(200.0 / (mu * 0.1)))
    assert np.ceil(200.0 / (mu * 0.8)) <= R < res.diagnostics["max_replicas"] < pool
    assert not res.diagnostics["slo_reachable"] and res.diagnostics["knee_steps"] == 3

    # knee property: doubling R gains < 1 pp of attainment; doubling R/2 gained more
    def attain(n: int) -> float:
        r = evaluate_fleet(demand[:1], 300.0, perf, ts, np.array([n]), slo=slo)
        return float(r.frame["slo_attainment_frac"].iloc[0])

    assert attain(2 * R) - attain(R) < 0.01 <= attain(R) - attain(R // 2) + 1e-9
    # what the autoscaler did before: the whole pool, > 10x the GPUs and energy per token for < 2 pp
    full = evaluate_fleet(
        demand, 300.0, perf, ts, np.full(3, pool), slo=slo, phase_power_w=phase_power_w(MI300X)
    )
    assert full.summary["accelerator_energy_per_token_j"] > 5 * res.summary["accelerator_energy_per_token_j"]
    assert full.summary["slo_attainment_frac"] - res.summary["slo_attainment_frac"] < 0.02
