"""Tests for gigawatt.perf.fleet.latency (latency distributions, SLO ceiling)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

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


def _latency_inputs(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    m = 12
    S = np.sort(rng.uniform(0.01, 3.0, (n, m)), axis=1)
    w = np.full(m, 1.0 / m)
    pw = rng.uniform(0.0, 1.0, n)
    theta = rng.uniform(0.0, 20.0, n)
    shift = rng.uniform(0.0, 0.5, n)
    pw[:3], theta[:3] = 0.0, 0.0  # no waiting at all
    theta[3] = 0.0  # unstable: waiting without a tail decay -> inf / 0
    shift[4] = np.inf  # unstable step
    theta[5] = 1e-4  # a very long tail
    theta[6:9] = 1000.0  # a tail so short that the hoisted exponential would overflow (the direct sum runs)
    return S, w, pw, theta, shift


def test_ttft_vectorised_paths_match_the_compiled_kernel() -> None:
    """The numpy TTFT CDF and quantiles (no compilation for short runs) equal the compiled kernels."""
    from gigawatt.perf.fleet.latency import (
        _ttft_cdf,
        _ttft_exceed,
        _ttft_quantiles,
        _ttft_quantiles_kernel,
    )

    S, w, pw, theta, shift = _latency_inputs(400, 3)
    for q in (0.5, 0.9, 0.99):
        assert_allclose(
            _ttft_quantiles(q, S, w, pw, theta, shift),
            _ttft_quantiles_kernel(q, S, w, pw, theta, shift),
            rtol=1e-12,
            atol=1e-12,
        )
    s = 1.7
    expected = np.array(
        [
            0.0
            if not np.isfinite(shift[k]) or (pw[k] > 0 and theta[k] <= 0)
            else 1.0 - _ttft_exceed(s, S[k], w, pw[k], theta[k], shift[k])
            for k in range(S.shape[0])
        ]
    )
    assert_allclose(_ttft_cdf(s, S, w, pw, theta, shift), expected, rtol=1e-12, atol=1e-12)
    assert np.isinf(_ttft_quantiles(0.99, S, w, pw, theta, shift)[[3, 4]]).all()
