"""Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA 2024; CC-BY 4.0) replay.

Replaying the traces must reproduce their request rates and token-length distributions exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from gigawatt.perf.demand import read_azure_trace, replay_trace

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "azure-llm-inference-2023"
TRACES = {
    "code": ("AzureLLMInferenceTrace_code.csv", 8819),
    "conv": ("AzureLLMInferenceTrace_conv.csv", 19366),
}


@pytest.fixture(params=sorted(TRACES))
def trace(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    fname, n = TRACES[request.param]
    path = DATA / fname
    if not path.exists():
        pytest.skip(f"Azure LLM trace not found at {path} (shared data folder absent)")
    data, meta = read_azure_trace(path)
    raw = pd.read_csv(path)
    assert meta["n_requests"] == n
    return data, raw, n


def test_replay_reproduces_trace_exactly(trace: tuple[pd.DataFrame, pd.DataFrame, int]) -> None:
    data, raw, n = trace
    out = replay_trace(data)
    assert len(out) == n  # README: 8,819 (code) and 19,366 (conv) requests
    # token lengths: identical multiset (and identical sequence in arrival order)
    assert_array_equal(np.sort(out["prompt_tokens"]), np.sort(raw["ContextTokens"]))
    assert_array_equal(np.sort(out["output_tokens"]), np.sort(raw["GeneratedTokens"]))
    # request rate: identical counts per minute
    ts = pd.to_datetime(raw["TIMESTAMP"], format="ISO8601")
    secs = (ts - ts.min()).dt.total_seconds().to_numpy()
    bins = np.arange(0, secs.max() + 60, 60)
    assert_array_equal(np.histogram(out["arrival_s"], bins)[0], np.histogram(secs, bins)[0])


def test_scaled_replay(trace: tuple[pd.DataFrame, pd.DataFrame, int]) -> None:
    data, _, n = trace
    fast = replay_trace(data, time_scale=0.25)  # 4x faster playback
    assert len(fast) == n and np.isclose(fast["arrival_s"].iloc[-1], data["arrival_s"].iloc[-1] / 4)
    x3 = replay_trace(data, rate_scale=3.0, rng=np.random.default_rng(1))
    assert len(x3) == 3 * n  # exactly 3x the requests over the same period
    assert_array_equal(np.sort(x3["output_tokens"]), np.sort(np.tile(data["output_tokens"], 3)))
    day = replay_trace(data, duration_s=86_400.0)
    period = len(day) / 86_400.0
    assert np.isclose(period, n / (data["arrival_s"].iloc[-1] * (1 + 1 / (n - 1))), rtol=0.01)
