"""Inference services in the engine: scenario model, fleet mode in the ledger, columns, tables, sharing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from tests.conftest import shared_data_file, small_scenario_dict

import gigawatt as gw
from gigawatt.engine.controller import FacilityController
from gigawatt.engine.workloads.inference import SERVICE_COLUMNS


def _service(**kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "kind": "inference",
        "name": "chat",
        "target": {"hall": "air", "gpus": 160},
        "model": "Llama-3-70B",
        "serving": {"tensor_parallel": 4},
        "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
        "autoscaling": {"scale_up_delay_s": 300},
        "demand": {"kind": "profile", "peak_rps": 25.0, "daily_trough_frac": 0.3},
    }
    d.update(kw)
    return d


def _scenario(*services: dict[str, Any], **kw: Any) -> dict[str, Any]:
    d = small_scenario_dict(horizon_h=24, **kw)
    d["workloads"] = [d["workloads"][0], *services]
    return d


def test_fleet_service_columns_and_tables(tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = _service(request_windows=[{"start_h": 13.0, "duration_h": 0.25}])
    res = gw.simulate(_scenario(svc))
    ts = res.timeseries
    for c in SERVICE_COLUMNS:
        assert f"chat:{c}" in ts.columns
    assert_allclose(ts["chat:served_rps"] + ts["chat:dropped_rps"], ts["chat:demand_rps"], rtol=1e-12)
    assert ts["chat:replicas"].max() * 4 <= 160
    # demand follows the daily shape: peak near 14:00 local standard time (the site is at -77.5°: UTC-5, so
    # 19:00 UTC on the UTC-indexed time series)
    assert ts["chat:demand_rps"].idxmax().hour in (18, 19)
    s = res.services
    assert s is not None and list(s["service"]) == ["chat"]
    row = s.iloc[0]
    assert row["accelerator_energy_per_token_j"] > 0 and row["gpu_hours_per_million_tokens"] > 0
    # the facility boundary adds hosts, cooling and losses to the accelerators' energy (PUE > 1)
    assert row["facility_energy_per_token_j"] > 1.05 * row["accelerator_energy_per_token_j"]
    assert bool(row["slo_reachable"]) and row["max_replicas"] >= row["peak_replicas"]
    assert 0 < row["slo_attainment_frac"] <= 1
    req = res.requests
    assert req is not None and (req["service"] == "chat").all() and len(req) > 1000
    assert np.isfinite(row["window0_ttft_p99_s"])
    res.to_dir(tmp_path / "out")
    assert (tmp_path / "out" / "services.parquet").exists() and (
        tmp_path / "out" / "requests.parquet"
    ).exists()
    assert (tmp_path / "out" / "plots" / "inference.png").exists()
    ax = gw.plot.plot_inference(res, service="chat")
    assert "chat" in ax.get_title()
    with pytest.raises(ValueError, match="no inference service named 'x'"):
        gw.plot.plot_inference(res, service="x")


def test_demand_profile_follows_the_one_wall_clock() -> None:
    local = _scenario(_service())
    utc = _scenario(_service())
    utc["wall_clock"] = "utc"
    east = _scenario(_service())
    east["sites"][0]["location"]["utc_offset_h"] = 9.0
    peak = {}
    for name, d in (("local", local), ("utc", utc), ("east", east)):
        ts = gw.simulate(d).timeseries
        peak[name] = ts["chat:demand_rps"].idxmax().hour
    assert peak["local"] in (18, 19)  # 14:00 at UTC-5 (round(-77.5/15))
    assert peak["utc"] in (13, 14)  # 14:00 UTC
    assert peak["east"] in (4, 5)  # 14:00 at UTC+9


def test_inference_power_reaches_the_facility() -> None:
    base = gw.simulate(_scenario())
    with_svc = gw.simulate(_scenario(_service()))
    # the service's busy GPUs draw prefill/decode power above idle
    assert with_svc.summary()["it_energy_mwh"] > base.summary()["it_energy_mwh"]


def _write_azure_format_trace(path: Path, n: int, period_s: float, seed: int) -> None:
    """A synthetic trace in the Azure 2023 column format (TIMESTAMP, ContextTokens, GeneratedTokens)."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2023-11-16 18:15:46")
    offsets = np.sort(rng.uniform(0.0, period_s, n))
    pd.DataFrame(
        {
            "TIMESTAMP": (t0 + pd.to_timedelta(offsets, unit="s")).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "ContextTokens": rng.integers(10, 4000, n),
            "GeneratedTokens": rng.integers(1, 500, n),
        }
    ).to_csv(path, index=False)


def test_trace_demand_from_a_file_in_azure_format(tmp_path: Path) -> None:
    """The trace-replay path on a file the test writes (always runs, with or without ../shared)."""
    trace = tmp_path / "trace.csv"
    _write_azure_format_trace(trace, 3600, 3600.0, seed=3)
    svc = _service(demand={"kind": "trace", "path": str(trace), "rate_scale": 2.0})
    a = gw.simulate(_scenario(svc))
    b = gw.simulate(_scenario(svc))
    assert_allclose(a.timeseries["chat:demand_rps"], b.timeseries["chat:demand_rps"], rtol=0, atol=1e-12)
    # 3,600 requests per hour-long period, doubled by rate_scale: ~2 req/s on average
    assert a.timeseries["chat:demand_rps"].mean() == pytest.approx(2.0, rel=0.05)


def test_determinism_and_trace_demand() -> None:
    trace = shared_data_file("azure-llm-inference-2023", "AzureLLMInferenceTrace_conv.csv")
    svc = _service(demand={"kind": "trace", "path": str(trace), "rate_scale": 2.0})
    a = gw.simulate(_scenario(svc))
    b = gw.simulate(_scenario(svc))
    assert a.timeseries["chat:demand_rps"].equals(b.timeseries["chat:demand_rps"])
    # the trace carries 19,366 requests per hour-long period; doubled by rate_scale
    mean_rps = a.timeseries["chat:demand_rps"].mean()
    assert 2 * 19366 / 3700 < mean_rps < 2 * 19366 / 3500


def test_bad_inference_input() -> None:
    bad = _service(model="Llama-3-70b", shared_with_training="nope")
    with pytest.raises(gw.ScenarioError) as exc:
        gw.load_scenario(_scenario(bad))
    text = str(exc.value)
    assert "workloads[1].model" in text and "did you mean Llama-3-70B" in text
    assert "workloads[1].shared_with_training" in text
    no_hall = _service(serving={"disaggregation": {"prefill_target": {"hall": "nowhere"}}})
    with pytest.raises(gw.ScenarioError, match=r"workloads\[1\]\.serving\.disaggregation\.prefill_target"):
        gw.load_scenario(_scenario(no_hall))
    too_big = _service(model="Llama-3-405B", serving={"tensor_parallel": 2})
    with pytest.raises(gw.ScenarioError, match="does not fit"):
        gw.load_scenario(_scenario(too_big))


def test_shared_pool_preempts_training() -> None:
    train = {
        "kind": "training",
        "name": "research",
        "target": {"hall": "air"},
        "jobs": [{"name": "big", "gpus": 304, "duration_h": 20.0, "preemptible": True}],
        "reliability": {"failures": "none", "planned_maintenance": False},
    }
    svc = _service(target={"hall": "air"}, shared_with_training="research")
    res = gw.simulate(_scenario(train, svc))
    ts = res.timeseries
    assert ts["chat:replicas"].max() > 0
    # the service borrowed nodes: the 304-GPU job (38 of 40 nodes) was preempted at least once
    jobs = res.jobs
    assert jobs is not None
    big = jobs[jobs["job"] == "big"].iloc[0]
    assert big["n_preemptions"] >= 1 and big["lost_work_gpu_hours"] > 0  # the training-side cost
    assert "chat:pool_shortfall_replicas" in ts.columns
    assert (ts["chat:pool_shortfall_replicas"] == 0).all()


def test_disaggregated_prefill_pool() -> None:
    svc = _service(
        serving={
            "tensor_parallel": 4,
            "disaggregation": {"prefill_target": {"hall": "air", "gpus": 96}, "prefill_tensor_parallel": 4},
        }
    )
    res = gw.simulate(_scenario(svc))
    ts = res.timeseries
    assert (ts["chat:prefill_replicas"] + ts["chat:decode_replicas"] == ts["chat:replicas"]).all()
    assert ts["chat:prefill_replicas"].max() >= 1 and ts["chat:decode_replicas"].max() >= 1
    assert ts["chat:prefill_replicas"].max() * 4 <= 96
    # SLO-sized pools meet the 1.5 s TTFT target except while a scale-up (300 s delay) is under way
    assert ts["chat:ttft_p99_s"].median() <= 1.5 and ts["chat:slo_attainment_frac"].mean() > 0.95
    with pytest.raises(gw.ScenarioError, match=r"not supported with serving\.disaggregation"):
        gw.load_scenario(_scenario({**svc, "request_windows": [{"start_h": 1.0}]}))


def test_shared_pool_shortfall_draws_no_power_for_missing_replicas() -> None:
    """A non-preemptible job holds 38 of 40 nodes: the service gets at most 2 nodes, and the hall never shows
    more active GPUs than it has (the replicas the pool could not lend draw no power)."""
    train = {
        "kind": "training",
        "name": "research",
        "target": {"hall": "air"},
        "jobs": [{"name": "big", "gpus": 304, "duration_h": 48.0, "preemptible": False}],
        "reliability": {"failures": "none", "planned_maintenance": False},
    }
    svc = _service(target={"hall": "air"}, shared_with_training="research")
    res = gw.simulate(_scenario(train, svc))
    ts = res.timeseries
    assert ts["chat:pool_shortfall_replicas"].max() > 0  # the pool could not lend every replica
    assert ts["site-a/air:gpu_utilization_frac"].max() <= 1.0 + 1e-9
    assert ts["chat:dropped_rps"].max() > 0  # the missing capacity shows as dropped demand


def test_predictive_scale_up_follows_a_launch() -> None:
    """Predictive scale-up orders replicas one delay ahead of the known profile (here a launch spike)."""
    out = {}
    for mode in ("reactive", "predictive"):
        svc = _service(
            autoscaling={"scale_up_delay_s": 900, "scale_up": mode},
            demand={
                "kind": "profile",
                "peak_rps": 5.0,
                "launch": {"at_h": 6.0, "peak_rps": 30.0, "ramp_h": 0.25, "decay_h": 4.0},
            },
        )
        out[mode] = gw.simulate(_scenario(svc)).services.iloc[0]
    assert out["predictive"]["dropped_frac"] < out["reactive"]["dropped_frac"]
    assert out["predictive"]["slo_attainment_frac"] > out["reactive"]["slo_attainment_frac"]


def test_a_service_borrowing_training_nodes_keeps_the_controller_awake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service that borrows nodes of a training pool runs a simpy process of its own, whose events would
    not visit the feedback boundaries: the controller then wakes at every block; a profile-only service next
    to the same pool lets it sleep."""
    seen: list[bool] = []
    orig = FacilityController.process

    def spy(self: FacilityController):  # type: ignore[no-untyped-def]
        seen.append(self.can_sleep)
        return orig(self)

    monkeypatch.setattr(FacilityController, "process", spy)
    train = {
        "kind": "training",
        "name": "research",
        "target": {"hall": "air", "gpus": 160},
        "jobs": [{"name": "big", "gpus": 64, "duration_h": 20.0, "preemptible": True}],
        "reliability": {"failures": "none", "planned_maintenance": False},
    }
    gw.simulate(_scenario(train, _service(target={"hall": "air"}, shared_with_training="research")))
    gw.simulate(_scenario(train, _service()))
    assert seen == [False, True]
