"""A small campus with training and inference, simulated once per test module (economics re-simulates only for spot training)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw


def mixed_scenario_dict(**overrides: Any) -> dict[str, Any]:
    """Two halls over two days: training with failures on the GB200 hall, an inference service on the H100 hall."""
    d = small_scenario_dict(**overrides)
    d["workloads"] = [
        {
            "kind": "training",
            "name": "pre",
            "target": {"hall": "liquid"},
            "jobs": [{"name": "big", "gpus": 216, "model_params": 8e9, "tokens": 2e11, "submit_h": 1}],
            "mix": {"jobs_per_day": 40, "gpu_counts": [1, 8, 72], "gpu_count_probs": [0.5, 0.3, 0.2]},
            "scheduler": {"spare_nodes": 0},
            "reliability": {"rate_scale": 30.0},
        },
        {
            "kind": "inference",
            "name": "chat",
            "target": {"hall": "air", "gpus": 160},
            "model": "Llama-3-70B",
            "serving": {"tensor_parallel": 4},
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "autoscaling": {"scale_up_delay_s": 300},
            "demand": {
                "kind": "profile",
                "peak_rps": 400.0,
                "daily_trough_frac": 0.3,
            },  # above the 160 GPUs: drops
        },
    ]
    return d


@pytest.fixture(scope="module")
def mixed_result() -> gw.Result:
    # the service is deliberately short of GPUs (its dropped demand is what hybrid bursts to the cloud), and
    # the run says so
    with pytest.warns(gw.GigawattWarning, match="capped"):
        return gw.simulate(mixed_scenario_dict())
