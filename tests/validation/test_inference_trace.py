"""Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA 2024; CC-BY 4.0) replay.

Replaying the traces must reproduce their request rates and token-length distributions exactly. These are
invariants (the trace compared with its own replay): they check the reader and the replay code, and are no
evidence about the serving model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from tests.conftest import shared_data_file

from gigawatt.perf.demand import read_azure_trace, replay_trace

TRACES = {
    "code": ("AzureLLMInferenceTrace_code.csv", 8819),
    "conv": ("AzureLLMInferenceTrace_conv.csv", 19366),
}


@pytest.fixture(params=sorted(TRACES))
def trace(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    fname, n = TRACES[request.param]
    path = shared_data_file("azure-llm-inference-2023", fname)
    data, meta = read_azure_trace(path)
    raw = pd.read_csv(path)
    assert meta["n_requests"] == n
    return data, raw, n


def test_replay_reproduces_trace_exactly(trace: tuple[pd.DataFrame, pd.DataFrame, int], validation) -> None:
    data, raw, n = trace
    out = replay_trace(data)
    ts = pd.to_datetime(raw["TIMESTAMP"], format="ISO8601")
    secs = (ts - ts.min()).dt.total_seconds().to_numpy()
    bins = np.arange(0, secs.max() + 60, 60)
    per_min_diff = np.abs(np.histogram(out["arrival_s"], bins)[0] - np.histogram(secs, bins)[0]).max()
    name = "code" if n == TRACES["code"][1] else "conv"
    src = "Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA 2024), CSV and README"
    validation(
        f"{name} trace replay: requests",
        model=len(out),
        reference=n,
        tolerance="exact",
        source=src,
        kind="invariant",
    )
    for col, raw_col in (("prompt_tokens", "ContextTokens"), ("output_tokens", "GeneratedTokens")):
        same = np.array_equal(np.sort(out[col]), np.sort(raw[raw_col]))
        validation(
            f"{name} trace replay: total {col.replace('_', ' ')} (multiset identical: {same})",
            model=int(out[col].sum()),
            reference=int(raw[raw_col].sum()),
            tolerance="identical multiset",
            source=src,
            kind="invariant",
        )
    validation(
        f"{name} trace replay: largest difference in requests per minute ({bins.size - 1} minutes)",
        model=int(per_min_diff),
        reference=0,
        tolerance="exact",
        source=src,
        kind="invariant",
    )
    assert len(out) == n  # README: 8,819 (code) and 19,366 (conv) requests
    # token lengths: identical multiset (and identical sequence in arrival order)
    assert_array_equal(np.sort(out["prompt_tokens"]), np.sort(raw["ContextTokens"]))
    assert_array_equal(np.sort(out["output_tokens"]), np.sort(raw["GeneratedTokens"]))
    # request rate: identical counts per minute
    assert_array_equal(np.histogram(out["arrival_s"], bins)[0], np.histogram(secs, bins)[0])


def test_scaled_replay(trace: tuple[pd.DataFrame, pd.DataFrame, int], validation) -> None:
    data, _, n = trace
    name = "code" if n == TRACES["code"][1] else "conv"
    fast = replay_trace(data, time_scale=0.25)  # 4x faster playback
    x3 = replay_trace(data, rate_scale=3.0, rng=np.random.default_rng(1))
    day = replay_trace(data, duration_s=86_400.0)
    src = "replay contract (docs/models/inference.md §4 Demand)"
    validation(
        f"{name} trace at 4x playback speed: last arrival [s]",
        model=float(fast["arrival_s"].iloc[-1]),
        reference=float(data["arrival_s"].iloc[-1] / 4),
        tolerance="equal (np.isclose); same number of requests",
        source=src,
        kind="invariant",
    )
    validation(
        f"{name} trace at 3x request rate: requests",
        model=len(x3),
        reference=3 * n,
        tolerance="exact; output-token multiset = trace's repeated 3 times",
        source=src,
        kind="invariant",
    )
    validation(
        f"{name} trace looped over one day: mean request rate [req/s]",
        model=len(day) / 86_400.0,
        reference=n / (data["arrival_s"].iloc[-1] * (1 + 1 / (n - 1))),
        tolerance="± 1 %",
        source=src,
        kind="invariant",
    )
    assert len(fast) == n and np.isclose(fast["arrival_s"].iloc[-1], data["arrival_s"].iloc[-1] / 4)
    assert len(x3) == 3 * n  # exactly 3x the requests over the same period
    assert_array_equal(np.sort(x3["output_tokens"]), np.sort(np.tile(data["output_tokens"], 3)))
    period = len(day) / 86_400.0
    assert np.isclose(period, n / (data["arrival_s"].iloc[-1] * (1 + 1 / (n - 1))), rtol=0.01)
