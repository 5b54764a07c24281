"""Tests for gigawatt.perf.training (work, throughput, network scaling, checkpoint cost)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf.training import (
    DEFAULT_MFU_NODE_FRAC,
    achieved_tflops_per_gpu,
    checkpoint_size_tb,
    checkpoint_write_time_s,
    compute_time_s,
    effective_mfu_frac,
    network_scaling_efficiency_frac,
    training_flops,
)


def test_six_n_d():
    assert_allclose(training_flops(405e9, 15.6e12), 6 * 405e9 * 15.6e12, rtol=1e-15)
    assert_allclose(training_flops([1e9, 2e9], 1e12), [6e21, 1.2e22])


def test_network_efficiency_calibration_points():
    # the two calibration points of FABRIC_COMM_COEFF: 10,240 GPUs on 8-GPU servers
    assert_allclose(network_scaling_efficiency_frac(10240, "infiniband"), 0.85, rtol=1e-12)
    assert_allclose(network_scaling_efficiency_frac(10240, "ethernet"), 0.50, rtol=1e-12)


def test_network_efficiency_shape():
    n = np.array([1, 8, 64, 1024, 16384, 131072])
    for fabric in ("infiniband", "roce", "ethernet"):
        eta = network_scaling_efficiency_frac(n, fabric)
        assert eta[0] == eta[1] == 1.0  # inside one NVLink domain
        assert np.all(np.diff(eta) < 0) or np.all(np.diff(eta[1:]) < 0)
        assert np.all((eta > 0) & (eta <= 1))
    ib, roce, eth = (network_scaling_efficiency_frac(4096, f) for f in ("infiniband", "roce", "ethernet"))
    assert ib > roce > eth
    # oversubscription only hurts; a bigger scale-up domain helps
    assert network_scaling_efficiency_frac(4096, "roce", 3.0) < roce
    assert network_scaling_efficiency_frac(4096, "roce", gpus_per_domain=72) > roce


def test_llama3_mfu_cross_check():
    # Llama 3 405B: 41 % BF16 MFU on 16,384 H100 (Llama 3 Table 4); the model is within 3 points
    mfu = effective_mfu_frac(DEFAULT_MFU_NODE_FRAC, 16384, "infiniband")
    assert_allclose(mfu, 0.41, atol=0.03)


def test_achieved_and_compute_time():
    f = achieved_tflops_per_gpu(989.0, 0.4)
    assert_allclose(f, 395.6)
    assert_allclose(compute_time_s(1e21, 10, 100.0), 1e21 / (10 * 100e12))


def test_checkpoint_bloom():
    # BLOOM-176B: 2.3 TB checkpoint (BigScience tr11 chronicles); 14 B/param gives 2.46 TB
    assert_allclose(checkpoint_size_tb(176e9), 2.3, rtol=0.08)
    assert_allclose(checkpoint_write_time_s(2.3, 57.5), 40.0)


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (training_flops, (0, 1)),
        (network_scaling_efficiency_frac, (0,)),
        (network_scaling_efficiency_frac, (8, "myrinet")),
        (network_scaling_efficiency_frac, (8, "roce", 0.5)),
        (effective_mfu_frac, (1.5, 8)),
        (achieved_tflops_per_gpu, (-1, 0.5)),
        (compute_time_s, (1, 0, 1)),
        (checkpoint_write_time_s, (1, 0)),
        (checkpoint_size_tb, (-1,)),
    ],
)
def test_bad_input_raises(fn, args):
    with pytest.raises(ValueError):
        fn(*args)
