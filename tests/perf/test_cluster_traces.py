"""Tests for gigawatt.perf.cluster_traces (stochastic job mixes)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf.cluster_traces import JobMix, generate_job_mix


def test_deterministic_for_a_seed():
    a = generate_job_mix(JobMix(), 10 * 86400, np.random.default_rng(7))
    b = generate_job_mix(JobMix(), 10 * 86400, np.random.default_rng(7))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert np.all(np.diff(a["submit_s"]) >= 0)


def test_arrival_count_matches_poisson_mean_over_seeds():
    mix = JobMix(jobs_per_day=50.0)
    counts = [generate_job_mix(mix, 20 * 86400, np.random.default_rng(s))["submit_s"].size for s in range(40)]
    # mean 1000; the mean over 40 seeds has std sqrt(1000/40) = 5: 4-sigma band
    assert abs(np.mean(counts) - 1000) < 20


def test_diurnal_cycle():
    mix = JobMix(jobs_per_day=2000.0, diurnal_amplitude_frac=0.5, diurnal_peak_h=14.0)
    t = generate_job_mix(mix, 30 * 86400, np.random.default_rng(1))["submit_s"]
    hour = (t / 3600) % 24
    peak = np.mean((hour >= 12) & (hour < 16))
    trough = np.mean((hour >= 0) & (hour < 4))
    assert peak > 2 * trough  # 1.5x vs 0.5x of the mean rate


def test_size_distribution_and_clipping():
    mix = JobMix(jobs_per_day=5000.0)
    out = generate_job_mix(mix, 10 * 86400, np.random.default_rng(3), max_gpus=256)
    assert out["n_gpus"].max() <= 256
    p = np.asarray(mix.gpu_count_probs) / sum(mix.gpu_count_probs)
    assert_allclose(np.mean(out["n_gpus"] == 1), p[0], atol=0.01)
    assert np.all(out["work_s"] > 0) and out["work_s"].max() <= mix.max_duration_h * 3600
    # larger jobs run longer (Helios)
    assert np.median(out["work_s"][out["n_gpus"] >= 64]) > np.median(out["work_s"][out["n_gpus"] == 1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jobs_per_day": -1},
        {"diurnal_amplitude_frac": 1.0},
        {"gpu_counts": (1, 2), "gpu_count_probs": (1.0,)},
        {"gpu_counts": (0,), "gpu_count_probs": (1.0,)},
        {"median_duration_h": 0},
        {"priority_levels": ()},
    ],
)
def test_bad_mix_raises(kwargs):
    with pytest.raises(ValueError):
        JobMix(**kwargs)
