"""Tests for gigawatt.perf.fleet.disaggregated (prefill/decode disaggregation)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gigawatt.errors import GigawattWarning
from gigawatt.perf.fleet import (
    SLO,
    AutoscalerConfig,
    DisaggregatedPerf,
    prefill_time_idle_s,
    simulate_disaggregated_fleet,
    simulate_fleet,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    kv_bytes_per_token,
    model_preset,
    phase_power_w,
)

H100 = AcceleratorPerf("H100-SXM", 989.4, 1978.9, 80.0, 3.35, 700.0, 70.0, 450.0)


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


# ---------------------------------------------------------------------------------------------------------
# targets that cannot be met: economical cap, attainment knee, warnings; scheduled/predictive scale-up


def test_disaggregated_pool_at_its_cap_warns(setup) -> None:  # type: ignore[no-untyped-def]
    perf, ts = setup
    dp = DisaggregatedPerf(perf, perf, kv_bytes_per_token(model_preset("Llama-3-8B")), 50.0)
    d = np.array([5.0, 20.0])
    cfg = AutoscalerConfig(scale_up_delay_s=0)
    tight = SLO(ttft_s=0.001, tpot_s=0.05)  # no prompt prefills in 1 ms
    with pytest.warns(GigawattWarning, match="prefill pool misses the SLO"):
        res = simulate_disaggregated_fleet(
            d, 600.0, dp, ts, slo=tight, prefill_autoscaler=cfg, decode_autoscaler=cfg
        )
    mu_p = 1.0 / float(np.sum(ts.prompt_weights * prefill_time_idle_s(ts.prompt_nodes, perf)))
    # capped at the economical cap (peak demand at 10 % utilisation), not a million replicas
    assert res.frame["prefill_replicas"].max() <= np.ceil(20.0 / (mu_p * 0.1)) + 1
    simulate_disaggregated_fleet(
        d, 600.0, dp, ts, slo=tight, prefill_autoscaler=cfg, decode_autoscaler=cfg, label=None
    )
