"""Tests for gigawatt.physics.it_power."""

import numpy as np
from numpy.testing import assert_allclose

from gigawatt.physics import it_power as ip
from gigawatt.physics import power
from gigawatt.physics.phases import Phase


def test_phase_powers_match_cited_h100_figures() -> None:
    phase_w = power.phase_power_w(np.full(5, 75.0), np.full(5, 700.0), np.full(5, 0.9))
    occ = np.eye(5)[None, :, :]  # group g busy with one GPU in phase g
    static, dyn = ip.accelerator_power_split_w(occ, np.ones(5), np.full(5, 75.0), phase_w)
    per_gpu = static[0] + dyn[0]
    assert_allclose(per_gpu[Phase.PREFILL], 700.0)  # Splitwise: prefill ~ 700 W
    assert_allclose(per_gpu[Phase.DECODE], 380.0, atol=1)  # Splitwise: decode ~ 380 W
    assert per_gpu[Phase.TRAIN_STALL] < 0.25 * 700
    assert 75.0 < per_gpu[Phase.TRAIN_COMPUTE] < 700.0


def test_util_phase_is_linear_idle_to_tdp() -> None:
    phase_w = power.phase_power_w(np.array([75.0]), np.array([700.0]), np.array([0.9]))
    occ = np.zeros((3, 1, 5))
    occ[:, 0, Phase.UTIL] = [0.0, 4.0, 8.0]  # utilisation-weighted active GPUs of an 8-GPU group
    static, dyn = ip.accelerator_power_split_w(occ, [8], [75.0], phase_w)
    assert_allclose(static + dyn, [[600.0], [600.0 + 4 * 625.0], [5600.0]])


def test_dgx_h100_training_power_near_8_4_kw() -> None:
    # Latif et al. 2024: an 8xH100 node in training draws ~8.4 kW of its 10.2 kW nameplate.
    phase_w = power.phase_power_w(np.array([75.0]), np.array([700.0]), np.array([0.9]))
    gpus = 8 * phase_w[0, Phase.TRAIN_COMPUTE]
    # host at full load: 2 CPUs, 2 TB DRAM, 10 NICs, 4 NVSwitches, fans, PSU losses ~ 3.4 kW (estimate)
    host = ip.host_power_w(1, 1700.0, 3400.0, 1.0)
    assert_allclose(gpus + host, 8400.0, rtol=0.05)


def test_dvfs_curve_and_inverse() -> None:
    x = np.linspace(0.3, 1.0, 15)
    d = ip.dvfs_dynamic_power_frac(x)
    assert_allclose(ip.dvfs_throughput_frac(d), x, rtol=1e-12)
    assert np.all(np.diff(d) > 0)
    # near TDP, throughput falls much less than power: 10 % less dynamic power costs < 5 % throughput
    assert 1 - ip.dvfs_throughput_frac(0.9) < 0.05


def test_power_cap_curve() -> None:
    # H100 at 700 W busy, idle 75 W, capped to 600 W: ~7 % throughput loss with k = 2.5
    x = ip.power_cap_throughput_frac(600.0, 700.0, 75.0)
    assert 0.9 < x < 0.96
    assert ip.power_cap_throughput_frac(800.0, 700.0, 75.0) == 1.0
    assert ip.power_cap_throughput_frac(50.0, 700.0, 75.0) == ip.MIN_THROUGHPUT_FRAC
    frac = ip.power_cap_frac_for_throughput(x, 700.0, 75.0)
    assert_allclose(frac * 700.0, 600.0, rtol=1e-9)


def test_server_fans_rise_with_inlet_temperature() -> None:
    t = np.array([20.0, 25.0, 30.0, 35.0, 40.0])
    p = ip.server_fan_power_w(10, 300.0, t)
    assert_allclose(p[0], p[1])
    assert np.all(np.diff(p[1:4]) > 0)
    assert_allclose(p[-1], 3000.0)
    assert_allclose(p[0], 3000.0 * ip.FAN_BASE_SPEED_FRAC**3)


def test_network_and_storage_per_gpu() -> None:
    assert_allclose(ip.network_power_w(1000, ip.NETWORK_POWER_W_PER_GPU["infiniband"]), 45_000.0)
    assert_allclose(ip.storage_power_w(1000), 10_000.0)


def test_chip_temperature_derate() -> None:
    x = ip.chip_temperature_throughput_frac([24.0, 28.0, 400.0], 24.0)
    assert_allclose(x, [1.0, 1 - 4 * ip.CHIP_DERATE_PER_C, 0.5])
