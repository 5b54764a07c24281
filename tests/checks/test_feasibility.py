"""Static feasibility checks: impossible targets are errors, likely misses are warnings (gigawatt check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.checks.feasibility import scenario_warnings


def mi300x_scenario(tp: int = 1, ttft_s: float = 2.0, **service: Any) -> dict[str, Any]:
    """The issue's case: Llama 3 70B on MI300X at TP 1, p99 TTFT 2 s, 2,000 requests/s, 64,000 GPUs."""
    d = small_scenario_dict(horizon_h=24)
    d["sites"][0]["halls"].append(
        {
            "name": "amd",
            "cooling": {"technology": "dlc"},
            "racks": [
                {
                    "name": "mi",
                    "count": 1000,
                    "servers_per_rack": 8,
                    "server": {"accelerator": "MI300X", "accelerators_per_server": 8},
                }
            ],
        }
    )
    svc: dict[str, Any] = {
        "kind": "inference",
        "name": "chat",
        "target": {"hall": "amd"},
        "model": "Llama-3-70B",
        "serving": {"tensor_parallel": tp},
        "slo": {"ttft_s": ttft_s, "tpot_s": 0.2},
        "demand": {"kind": "profile", "peak_rps": 2000.0},
    }
    svc.update(service)
    d["workloads"] = [d["workloads"][0], svc]
    return d


def test_unreachable_ttft_slo_is_an_error() -> None:
    with pytest.raises(gw.ScenarioError) as info:
        gw.load_scenario(mi300x_scenario())
    problems = dict(info.value.problems)
    msg = problems["workloads[1].slo.ttft_s"]
    assert "cannot be met at any replica count" in msg and "tensor_parallel 1" in msg
    # the message names the smallest feasible target; that target (and TP 2) pass the check
    floor_s = float(msg.split("raise ttft_s to >= ")[1].split(" s")[0])
    assert 2.0 < floor_s < 4.0
    gw.load_scenario(mi300x_scenario(ttft_s=round(floor_s * 1.05, 2)))
    gw.load_scenario(mi300x_scenario(tp=2))


def test_unreachable_tpot_is_an_error_and_other_policies_are_not_checked() -> None:
    d = mi300x_scenario(tp=2, slo={"ttft_s": 5.0, "tpot_s": 0.01})
    with pytest.raises(gw.ScenarioError, match="one decode step of a single sequence"):
        gw.load_scenario(d)
    # a utilisation-target service makes no SLO promise: no error
    gw.load_scenario(mi300x_scenario(autoscaling={"policy": "utilization"}))


def test_run_bypassing_the_check_warns_and_stops_at_the_knee() -> None:
    sc = gw.Scenario.model_validate(mi300x_scenario())  # no cross-checks
    with pytest.raises(gw.ScenarioError, match="cannot be met at any replica count"):
        gw.simulate(sc)  # simulate checks a Scenario object too
    # the run-time path, for what a static check cannot foresee: mark the scenario as checked (test only)
    from gigawatt.checks.load import _remember

    _remember(sc)
    with pytest.warns(gw.GigawattWarning, match="cannot be met at any replica count"):
        res = gw.simulate(sc)
    row = res.services.iloc[0]
    assert not row["slo_reachable"] and not row["slo_met"]
    # before: the autoscaler took the whole pool (64,000 replicas at ~2 % utilisation, ~38 J/token)
    assert row["peak_replicas"] < 64_000 // 10 and row["peak_replicas"] <= row["max_replicas"]
    assert res.timeseries["chat:utilization_frac"].mean() > 0.2
    assert row["accelerator_energy_per_token_j"] < 10.0
    assert row["facility_energy_per_token_j"] > row["accelerator_energy_per_token_j"]


def _training(job: dict[str, Any]) -> dict[str, Any]:
    d = small_scenario_dict()
    d["workloads"] = [
        {"kind": "training", "name": "pre", "target": {"hall": "liquid"}, "jobs": [job]},
    ]
    return d


def test_impossible_deadline_is_a_warning() -> None:
    # 8e9 params x 1e13 tokens = 4.8e23 FLOP on 144 GB200 at ~1.25 PFLOP/s each: ~740 h, deadline 48 h
    job = {"name": "a", "gpus": 144, "model_params": 8e9, "tokens": 1e13, "deadline_h": 48}
    sc = gw.load_scenario(_training(job))  # not an error: the run goes ahead
    w = dict(scenario_warnings(sc))
    assert "cannot be met even at full speed" in w["workloads[0].jobs[0].deadline_h"]
    ok = gw.load_scenario(_training({**job, "tokens": 1e10}))
    assert scenario_warnings(ok) == []
    short = gw.load_scenario(
        _training({"name": "b", "gpus": 8, "duration_h": 10, "submit_h": 5, "deadline_h": 12})
    )
    assert "earliest finish 15.0 h" in dict(scenario_warnings(short))["workloads[0].jobs[0].deadline_h"]


def test_job_larger_than_its_pool_is_an_error() -> None:
    with pytest.raises(gw.ScenarioError, match="larger than its pool"):
        gw.load_scenario(_training({"name": "a", "gpus": 100_000, "duration_h": 1}))


def test_job_larger_than_its_usable_pool_is_an_error() -> None:
    # the liquid hall: 288 GB200 in 4 NVL72 racks = 4 nodes of 72; one hot spare leaves 216 usable
    d = _training({"name": "a", "gpus": 288, "duration_h": 1})
    d["workloads"][0]["scheduler"] = {"spare_nodes": 1}
    with pytest.raises(gw.ScenarioError, match="usable 216 GPUs"):
        gw.load_scenario(d)
    d["workloads"][0]["jobs"][0]["gpus"] = 216
    gw.load_scenario(d)


def test_package_logger_has_a_null_handler() -> None:
    import logging

    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("gigawatt").handlers)
    assert issubclass(gw.GigawattWarning, UserWarning)


def test_request_window_beyond_max_requests_is_refused() -> None:
    d = mi300x_scenario(tp=2, request_windows=[{"start_h": 10, "duration_h": 1, "max_requests": 100_000}])
    # 2,000 req/s x (3,600 s + 300 s warm-up) = 7.8 million: the resource guard refuses it at check (an
    # error, since a window cut at max_requests would report wrong latencies)
    with pytest.raises(gw.ScenarioError, match=r"requests .* exceed max_requests=100,000") as info:
        gw.load_scenario(d)
    assert "workloads[1].request_windows[0]" in str(info.value)
    d = mi300x_scenario(tp=2, request_windows=[{"start_h": 10, "duration_h": 0.01, "warmup_s": 0}])
    assert scenario_warnings(gw.load_scenario(d)) == []


def test_reference_and_examples_have_no_problems_or_warnings() -> None:
    sc = gw.load_scenario("reference")
    assert scenario_warnings(sc) == []
    repo = Path(__file__).resolve().parents[2]
    for path in sorted((repo / "examples" / "scenarios").glob("*.yaml")):
        assert scenario_warnings(gw.load_scenario(path)) == [], path


def test_cli_check_lists_errors_and_warnings(tmp_path: Path) -> None:
    def check(d: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        p = tmp_path / "s.yaml"
        p.write_text(yaml.safe_dump(d))
        return subprocess.run(
            [sys.executable, "-m", "gigawatt", "check", str(p)], capture_output=True, text=True, timeout=300
        )

    r = check(mi300x_scenario())
    assert r.returncode == 2 and "workloads[1].slo.ttft_s: p99 TTFT <= 2 s cannot be met" in r.stderr
    job = {"name": "a", "gpus": 144, "model_params": 8e9, "tokens": 1e13, "deadline_h": 48}
    r = check(_training(job))
    assert r.returncode == 0 and r.stdout.startswith("OK:")
    assert "1 warning(s):" in r.stdout
    assert "warning: workloads[0].jobs[0].deadline_h: deadline 48 h cannot be met" in r.stdout


def _two_site_pool(cross_site: dict[str, Any], gpus: int = 432) -> gw.Scenario:
    """Two sites with one GB200 hall each (288 GPUs), a cross-site pool and a 70B job of ``gpus`` GPUs."""
    import copy

    d = small_scenario_dict()
    d["sites"][0]["halls"] = d["sites"][0]["halls"][:1]
    b = copy.deepcopy(d["sites"][0])
    b["name"] = "site-b"
    b["location"] = {"latitude_deg": 33.75, "longitude_deg": -84.39, "country_code": "US"}
    b["halls"][0]["name"] = "liquid-b"
    d["sites"].append(b)
    d["workloads"] = [
        {
            "kind": "training",
            "name": "pre",
            "target": {"sites": ["site-a", "site-b"]},
            "cross_site": cross_site,
            "jobs": [{"name": "j", "gpus": gpus, "model_params": 70e9, "duration_h": 10}],
        }
    ]
    return gw.load_scenario(d)


def test_job_that_must_span_sites_on_a_thin_link_is_warned() -> None:
    warn = dict(scenario_warnings(_two_site_pool({"bandwidth_gbit_per_s": 1000})))
    msg = warn["workloads[0].jobs[0].gpus"]
    assert "must span 2 sites" in msg and "cross_site.bandwidth_gbit_per_s" in msg
    # the same link is plenty for DiLoCo with int8 (every 100 steps); a job that fits one site is never warned
    assert "workloads[0].jobs[0].gpus" not in dict(
        scenario_warnings(
            _two_site_pool({"bandwidth_gbit_per_s": 1000, "method": "diloco", "compression": 4})
        )
    )
    assert not scenario_warnings(_two_site_pool({"bandwidth_gbit_per_s": 100}, gpus=144))
    sc = _two_site_pool({"bandwidth_gbit_per_s": 1000})
    job = sc.workloads[0].jobs[0].model_copy(update={"model_params": None})
    sc.workloads[0].jobs[0] = job
    assert "gradient size is unknown" in dict(scenario_warnings(sc))["workloads[0].jobs[0].model_params"]
