"""Tests for gigawatt.perf.reliability (Llama 3 rates, Young/Daly, expected goodput)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

from gigawatt.perf.reliability import (
    LLAMA3_SNAPSHOT,
    daly_interval_s,
    expected_goodput_frac,
    failure_classes,
    job_mtbf_s,
    llama3_failure_model,
    optimal_checkpoint_interval_s,
    rate_per_gpu_h,
    spot_rate_per_gpu_h,
    young_interval_s,
)


def test_table5_counts_and_rates():
    t = failure_classes()
    assert t["count"].sum() == 419  # Llama 3 Table 5
    assert t.loc["gpu_hbm", "count"] == 72
    assert_allclose(t["share_frac"].sum(), 1.0)
    e = 16384 * 54 * 24
    assert_allclose(t["rate_per_gpu_h"].sum(), 419 / e, rtol=1e-12)
    assert t["source"].str.len().min() > 0
    assert set(t["group"]) == {"gpu", "network", "host", "software"}
    assert not t.loc[["software_bug", "nccl_watchdog_timeout", "dependency"], "needs_repair"].any()


def test_failure_model_arrays():
    fm = llama3_failure_model()
    assert_allclose(fm.total_rate_per_gpu_h, 419 / LLAMA3_SNAPSHOT.exposure_gpu_h)
    assert_allclose(fm.planned_rate_per_gpu_h, 47 / LLAMA3_SNAPSHOT.exposure_gpu_h)
    assert fm.recovery_s == fm.detection_s + fm.restart_s
    assert llama3_failure_model(planned=False).planned_rate_per_gpu_h == 0
    assert_allclose(fm.scaled(2.0).total_rate_per_gpu_h, 2 * fm.total_rate_per_gpu_h)
    with pytest.raises(ValueError):
        fm.scaled(-1)


def test_job_mtbf():
    lam = 419 / LLAMA3_SNAPSHOT.exposure_gpu_h
    # one interruption every ~3.09 h on 16,384 GPUs (Llama 3: "about every three hours")
    assert_allclose(job_mtbf_s(16384, lam) / 3600, 54 * 24 / 419, rtol=1e-12)
    assert np.isinf(job_mtbf_s(8, 0.0))


def test_young_daly():
    assert_allclose(young_interval_s(50.0, 1e4), 1000.0)
    # Daly's correction is small when delta << M and tends to Young's value
    assert_allclose(daly_interval_s(1.0, 1e6), young_interval_s(1.0, 1e6), rtol=2e-3)
    assert daly_interval_s(3e4, 1e4) == 1e4  # delta >= 2M: checkpoint every MTBF
    assert np.isinf(daly_interval_s(10.0, np.inf))
    assert_allclose(optimal_checkpoint_interval_s(50.0, 1e4, "young"), 1000.0)
    with pytest.raises(ValueError):
        optimal_checkpoint_interval_s(50.0, 1e4, "best")


@pytest.mark.parametrize(
    ("delta", "r", "m"), [(60.0, 600.0, 11130.0), (5.0, 420.0, 3600.0), (300.0, 0.0, 1e5)]
)
def test_daly_interval_maximises_expected_goodput(delta, r, m):
    res = minimize_scalar(
        lambda tau: -expected_goodput_frac(tau, delta, r, m),
        bounds=(1.0, 20 * m),
        method="bounded",
        options={"xatol": 1e-6},
    )
    tau_daly = daly_interval_s(delta, m)
    # Daly (2006): the higher-order estimate is within a few percent of the exact optimum for delta << M
    assert_allclose(tau_daly, res.x, rtol=0.03)
    assert expected_goodput_frac(tau_daly, delta, r, m) >= -res.fun - 1e-4


def test_expected_goodput_limits():
    assert_allclose(expected_goodput_frac(100.0, 10.0, 50.0, np.inf), 100 / 110)
    # first-order expansion: waste ~ delta/tau + (tau/2 + R)/M for small tau/M
    g = expected_goodput_frac(100.0, 1.0, 10.0, 1e7)
    assert_allclose(1 - g, 1 / 100 + (50 + 10) / 1e7, rtol=0.02)
    with pytest.raises(ValueError):
        expected_goodput_frac(0.0, 1.0, 1.0, 1.0)


def test_absolute_rates_per_node_day_and_gpu_day():
    """Llama 3's rates restated in planner units: 3.79 unexpected and 0.425 planned per 1,000 8-GPU
    node-days (4.74e-4 and 5.31e-5 per GPU-day)."""
    fm = llama3_failure_model()
    lam = rate_per_gpu_h(per_1000_node_days=3.7887, gpus_per_node=8)
    assert lam == pytest.approx(fm.total_rate_per_gpu_h, rel=1e-4)
    assert rate_per_gpu_h(per_gpu_day=5.31e-5) == pytest.approx(fm.planned_rate_per_gpu_h, rel=1e-3)
    assert rate_per_gpu_h() is None
    # the same rate per node-day is a lower rate per GPU on bigger nodes
    assert rate_per_gpu_h(per_1000_node_days=6.5, gpus_per_node=4) == pytest.approx(
        2 * rate_per_gpu_h(per_1000_node_days=6.5, gpus_per_node=8), rel=1e-12
    )
    with pytest.raises(ValueError):
        rate_per_gpu_h(per_1000_node_days=1.0, per_gpu_day=1.0)


def test_with_total_rates_keeps_the_class_mix():
    fm = llama3_failure_model()
    new = fm.with_total_rates(unexpected_per_gpu_h=1e-4, planned_per_gpu_h=0.0)
    assert_allclose(new.total_rate_per_gpu_h, 1e-4, rtol=1e-12)
    assert_allclose(
        new.rate_per_gpu_h / new.total_rate_per_gpu_h, fm.rate_per_gpu_h / fm.total_rate_per_gpu_h
    )
    assert new.planned_rate_per_gpu_h == 0.0
    same = fm.with_total_rates()
    assert_allclose(same.rate_per_gpu_h, fm.rate_per_gpu_h, rtol=1e-12)
    assert_allclose(same.planned_rate_per_gpu_h, fm.planned_rate_per_gpu_h, rtol=1e-12)
    # rate_scale stays a multiplier on top
    assert_allclose(new.scaled(3.0).total_rate_per_gpu_h, 3e-4, rtol=1e-12)
    with pytest.raises(ValueError):
        fm.with_total_rates(unexpected_per_gpu_h=-1.0)


def test_spot_reclaim_class():
    # 0.24 reclaims per 8-GPU node-day = 0.01 per node-hour = 0.00125 per GPU-hour
    assert_allclose(spot_rate_per_gpu_h(per_node_day=0.24), 0.24 / (24 * 8), rtol=1e-12)
    assert_allclose(spot_rate_per_gpu_h(per_node_day=0.24, gpus_per_node=4), 0.0025, rtol=1e-12)
    assert spot_rate_per_gpu_h() is None and spot_rate_per_gpu_h(per_gpu_hour=1e-3) == 1e-3
    with pytest.raises(ValueError):
        spot_rate_per_gpu_h(per_gpu_hour=1e-3, per_node_day=0.1)
    # AWS Spot Instance Advisor's top bucket, > 20 % of capacity reclaimed per month: > 3.1e-4 per instance-h
    assert_allclose(-np.log(1 - 0.20) / 730, 3.06e-4, rtol=0.01)
    fm = llama3_failure_model()
    sp = fm.with_spot(1e-3, notice_s=30.0, replacement_delay_s=600.0)
    assert sp.spot_rate_per_gpu_h == 1e-3 and sp.spot_replacement_delay_s == 600.0
    assert_allclose(sp.total_rate_per_gpu_h, fm.total_rate_per_gpu_h, rtol=1e-12)  # not a failure class
    # reclaims lose work (and shorten the checkpoint optimum) unless an emergency checkpoint fits the notice
    assert_allclose(sp.lossy_rate_per_gpu_h(10.0), fm.total_rate_per_gpu_h + 1e-3, rtol=1e-12)
    em = fm.with_spot(1e-3, notice_s=30.0, emergency_checkpoint=True)
    assert_allclose(em.lossy_rate_per_gpu_h(10.0), fm.total_rate_per_gpu_h, rtol=1e-12)
    assert_allclose(em.lossy_rate_per_gpu_h(60.0), fm.total_rate_per_gpu_h + 1e-3, rtol=1e-12)
    # the provider's rate is not scaled with the hardware failure rates, and survives re-scaling
    assert sp.scaled(3.0).spot_rate_per_gpu_h == 1e-3
    assert sp.with_total_rates(1e-5).spot_rate_per_gpu_h == 1e-3
    with pytest.raises(ValueError):
        fm.with_spot(-1.0)
