"""End to end: thermal throttling from the facility physics slows training jobs (issue 4 coupling)."""

from __future__ import annotations

import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw


def _scenario(capacity_frac: float) -> dict:
    d = small_scenario_dict(horizon_h=24 * 6)
    d["start"] = "2026-07-15T00:00:00"
    d["sites"][0]["climate"] = {"kind": "named", "name": "phoenix"}
    hall = d["sites"][0]["halls"][1]  # air-cooled H100 hall, 320 GPUs
    hall["cooling"]["capacity_frac"] = capacity_frac
    d["workloads"] = [
        {
            "kind": "training",
            "name": "train",
            "target": {"hall": "air"},
            "reliability": {"failures": "none"},
            "jobs": [{"name": "big", "gpus": 256, "duration_h": 72.0}],
        }
    ]
    return d


@pytest.fixture(scope="module")
def pair() -> tuple[gw.Result, gw.Result]:
    return gw.simulate(_scenario(1.25)), gw.simulate(_scenario(0.6))


def test_undersized_cooling_throttles_and_delays_the_job(pair: tuple[gw.Result, gw.Result]) -> None:
    ok, tight = pair
    assert ok.timeseries["site-a/air:throughput_frac"].min() == pytest.approx(1.0)
    thr = tight.timeseries["site-a/air:throughput_frac"]
    assert thr.min() < 0.99  # hot Phoenix afternoons exceed a plant sized at 60 % of design heat
    job_ok, job_tight = ok.jobs.iloc[0], tight.jobs.iloc[0]
    assert job_ok.state == job_tight.state == "finished"
    assert job_ok.throttled_gpu_hours == pytest.approx(0.0, abs=1e-6)
    assert job_tight.throttled_gpu_hours > 0
    # duration stretches by exactly the throughput lost: ∫(1 − x) dt over the run = throttled hours per GPU
    extra_h = (job_tight.end_s - job_ok.end_s) / 3600.0
    assert extra_h == pytest.approx(job_tight.throttled_gpu_hours / 256, rel=0.05)


def test_throttled_gpu_hours_match_the_throughput_in_force(pair: tuple[gw.Result, gw.Result]) -> None:
    _, tight = pair
    job = tight.jobs.iloc[0]
    thr = tight.timeseries["site-a/air:throughput_frac"]
    t = (thr.index - thr.index[0]).total_seconds().to_numpy()
    running = (t >= job.start_s) & (t + 300 <= job.end_s)
    lost_gpu_h = float(((1.0 - thr.to_numpy()[running]) * 256 * 300 / 3600).sum())
    assert job.throttled_gpu_hours == pytest.approx(lost_gpu_h, rel=0.05)
