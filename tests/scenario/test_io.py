"""Scenario loading, saving, schema, and every kind of input error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO, small_scenario_dict

import gigawatt as gw
from gigawatt.checks.load import load_scenario
from gigawatt.scenario.io import save_scenario, scenario_schema


def _problems(data, tmp_path: Path | None = None, text: str | None = None) -> dict[str, str]:
    with pytest.raises(gw.ScenarioError) as info:
        if text is not None:
            assert tmp_path is not None
            p = tmp_path / "bad.yaml"
            p.write_text(text)
            load_scenario(p)
        else:
            load_scenario(data)
    return dict(info.value.problems)


def test_reference_loads_by_name_and_from_examples() -> None:
    a = load_scenario("reference")
    b = load_scenario(REPO / "examples" / "scenarios" / "reference.yaml")
    assert a.model_dump() == b.model_dump()
    assert 90 <= sum(h.nameplate_it_power_mw() for s in a.sites for h in s.halls) <= 110  # ~100 MW IT campus
    techs = {h.cooling.technology for s in a.sites for h in s.halls}
    assert {"dlc", "air"} <= techs
    assert a.sites[0].grid.import_capacity_mw is not None


def test_bundled_and_example_reference_are_identical() -> None:
    bundled = (REPO / "src" / "gigawatt" / "data" / "scenarios" / "reference.yaml").read_text()
    assert (REPO / "examples" / "scenarios" / "reference.yaml").read_text() == bundled


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    sc = load_scenario("reference")
    path = save_scenario(sc, tmp_path / f"ref{suffix}")
    again = load_scenario(path)
    assert again.model_dump(mode="json") == sc.model_dump(mode="json")
    assert again.model_dump() == sc.model_dump()


def test_round_trip_inline_accelerator(tmp_path: Path) -> None:
    d = small_scenario_dict()
    d["sites"][0]["halls"][1]["racks"][0]["server"]["accelerator"] = {
        "name": "my-gpu",
        "tdp_w": 600,
        "idle_w": 60,
        "bf16_dense_tflops": 800,
        "hbm_gb": 96,
        "hbm_bandwidth_tbps": 3.0,
    }
    sc = load_scenario(d)
    assert load_scenario(save_scenario(sc, tmp_path / "s.yaml")).model_dump() == sc.model_dump()
    assert sc.sites[0].halls[1].racks[0].server.accelerator_spec().tdp_w == 600


def test_schema_is_json_schema() -> None:
    schema = scenario_schema()
    assert schema["type"] == "object"
    assert "sites" in schema["properties"] and "sites" in schema["required"]
    json.dumps(schema)  # serialisable


def test_yaml_syntax_error_has_line_number(tmp_path: Path) -> None:
    probs = _problems(None, tmp_path, "name: x\nsites:\n  - name: [unclosed\n  halls: []\n")
    ((where, msg),) = probs.items()
    assert "bad.yaml:" in where and "YAML syntax error" in msg
    line = int(where.split(":")[-2])
    assert line in (3, 4)


def test_json_syntax_error_has_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"name": "x",\n "sites": [\n}')
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(p)
    assert "JSON syntax error" in info.value.problems[0][1]
    assert ":3:" in info.value.problems[0][0]


def test_every_problem_reported_at_once_with_paths_and_lines(tmp_path: Path) -> None:
    d = small_scenario_dict()
    d["sites"][0]["halls"][0]["racks"][0]["count"] = 0  # non-positive count
    d["sites"][0]["halls"][1]["racks"][0]["server"]["accelerator"] = "H100"  # unknown catalog name
    d["sites"][0]["halls"][1]["cooling"]["tecnology"] = "air"  # unknown field (typo)
    d["sites"][0]["location"]["latitude_deg"] = "north"  # wrong type
    d["step_s"] = -5
    text = yaml.safe_dump(d, sort_keys=False)
    probs = _problems(None, tmp_path, text)
    assert probs["sites[0].halls[0].racks[0].count"].startswith("must be > 0 (got 0)")
    assert "did you mean H100-SXM?" in probs["sites[0].halls[1].racks[0].server.accelerator"]
    assert (
        "unknown field 'tecnology'; did you mean 'technology'?"
        in probs["sites[0].halls[1].cooling.tecnology"]
    )
    assert "sites[0].location.latitude_deg" in probs
    assert probs["step_s"].startswith("must be ≥ 1")
    assert all("bad.yaml line" in m for m in probs.values())
    line = int(probs["sites[0].halls[0].racks[0].count"].rsplit("line ", 1)[1].rstrip("]"))
    assert text.splitlines()[line - 1].strip().startswith("count:")


def test_missing_field_and_empty_lists() -> None:
    d = small_scenario_dict()
    del d["sites"][0]["location"]["country_code"]
    d["sites"][0]["halls"][1]["racks"] = []
    probs = _problems(d)
    assert probs["sites[0].location.country_code"] == "required field is missing"
    assert "at least 1" in probs["sites[0].halls[1].racks"]


def test_rack_power_above_cooling_limit() -> None:
    d = small_scenario_dict()
    d["sites"][0]["halls"][0]["cooling"]["technology"] = "air"  # 126 kW NVL72 racks in an air hall
    probs = _problems(d)
    msg = probs["sites[0].halls[0]"]
    assert "126.0 kW exceeds the 41 kW" in msg and "dlc" in msg


def test_gpu_group_larger_than_hall_and_bad_references() -> None:
    d = small_scenario_dict()
    d["workloads"][1]["target"]["gpus"] = 10_000  # the air hall has 320 GPUs
    d["workloads"].append(
        {
            "kind": "utilization",
            "name": "typo",
            "target": {"hall": "liquidd"},
            "profile": {"kind": "constant", "utilization_frac": 0.1},
        }
    )
    d["workloads"].append(
        {
            "kind": "utilization",
            "name": "grp",
            "target": {"hall": "air", "rack_group": "dgxx"},
            "profile": {"kind": "constant", "utilization_frac": 0.1},
        }
    )
    probs = _problems(d)
    assert "larger than its target, which has 320 GPUs" in probs["workloads[1].target.gpus"]
    assert "did you mean 'liquid'?" in probs["workloads[2].target"]
    assert "did you mean 'dgx'?" in probs["workloads[3].target"]


def test_overlapping_utilization_claims_rejected() -> None:
    d = small_scenario_dict()
    d["workloads"].append(
        {
            "kind": "utilization",
            "name": "more",
            "target": {"hall": "air", "gpus": 200},
            "profile": {"kind": "constant", "utilization_frac": 0.5},
        }
    )
    probs = _problems(d)
    assert "claim 360 GPUs but the group has 320" in probs["sites[0].halls[1].racks[0]"]


def test_unknown_workload_kind_and_profile_value() -> None:
    d = small_scenario_dict()
    d["workloads"][0]["kind"] = "utilisation"
    d["workloads"][1]["profile"]["utilization_frac"] = [0.5, 1.5]
    probs = _problems(d)
    assert "workloads[0]" in probs and "utilisation" in probs["workloads[0]"]
    assert any(k.startswith("workloads[1].profile.utilization_frac") for k in probs)


def test_horizon_must_be_whole_steps() -> None:
    probs = _problems(small_scenario_dict(horizon_h=1.01))
    assert "whole number of control steps" in probs[""] or any("whole number" in m for m in probs.values())


def test_duplicate_names() -> None:
    d = small_scenario_dict()
    d["sites"][0]["halls"][1]["name"] = "liquid"
    d["workloads"][1]["target"]["hall"] = "site-a/liquid"
    probs = _problems(d)
    assert any("hall names must be unique" in m for m in probs.values())


def test_unknown_bundled_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(gw.ScenarioError, match="did you mean reference"):
        load_scenario("referenc")
    with pytest.raises(gw.ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_missing_trace_file(tmp_path: Path) -> None:
    d = small_scenario_dict()
    d["workloads"][0]["profile"] = {"kind": "trace", "path": "telemetry.csv"}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(gw.ScenarioError, match="trace file not found"):
        load_scenario(p)


def test_error_message_format() -> None:
    err = gw.ScenarioError([("a.b", "bad"), ("c", "worse")], "x.yaml")
    assert str(err).splitlines() == ["2 problems in scenario x.yaml:", "a.b: bad", "c: worse"]
