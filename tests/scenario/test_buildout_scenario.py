"""The build-out plan model: loading from YAML, and every problem reported at once with its path and fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from tests.buildout._plans import fixed, two_hall_plan

from gigawatt.buildout.load import load_buildout
from gigawatt.errors import ScenarioError
from gigawatt.scenario.buildout import BuildoutPlan


def _problems(data: dict) -> dict[str, str]:
    with pytest.raises(ScenarioError) as exc:
        load_buildout(data)
    return dict(exc.value.problems)


def test_loads_yaml_file_and_dict(tmp_path: Path) -> None:
    import yaml

    f = tmp_path / "plan.yaml"
    f.write_text(yaml.safe_dump(two_hall_plan()), encoding="utf-8")
    a, b = load_buildout(f), load_buildout(two_hall_plan())
    assert isinstance(a, BuildoutPlan) and a == b
    assert load_buildout(a) is a
    assert load_buildout("examples/buildout/campus_1gw.yaml").phase("hall-1").gpus == 135000
    with pytest.raises(ScenarioError, match="file not found"):
        load_buildout(tmp_path / "missing.yaml")


def test_all_problems_at_once_with_paths() -> None:
    d = two_hall_plan()
    d["phases"][1]["items"][0]["lead_time"] = {
        "distribution": "triangular",
        "low_weeks": -3,
        "mode_weeks": 5,
        "high_weeks": 9,
    }
    d["phases"][1]["items"][1]["lead_tme"] = "gpu-servers"
    d["phases"][2]["gpus"] = -1
    p = _problems(d)
    assert "must be ≥ 0" in p["phases[1].items[0].lead_time.low_weeks"]
    assert "did you mean 'lead_time'" in p["phases[1].items[1].lead_tme"]
    assert "phases[2].gpus" in p


def test_reference_problems_at_once() -> None:
    d = two_hall_plan()
    d["phases"][1]["items"][2]["after"] = ["transfomer", "gpus"]  # typo
    d["phases"][2]["after"] = ["hall-x"]
    d["phases"][1]["items"][1]["lead_time"] = "gpu-server"  # catalog typo
    p = _problems(d)
    assert "did you mean 'transformer'" in p["phases[1].items[2].after[0]"]
    assert "unknown phase 'hall-x'" in p["phases[2].after[0]"]
    assert "did you mean 'gpu-servers'" in p["phases[1].items[1].lead_time"]


def test_cycle_is_reported() -> None:
    d = two_hall_plan()
    d["phases"][0]["after"] = [
        "hall-b"
    ]  # grid waits for hall-b, which waits for hall-a, which waits for grid
    p = _problems(d)
    assert "dependency cycle" in p["phases"] and "remove one" in p["phases"]
    d = two_hall_plan()
    d["phases"][1]["items"][0]["after"] = ["commissioning"]
    assert "dependency cycle" in _problems(d)["phases"]


def test_target_before_items_can_arrive() -> None:
    d = two_hall_plan()
    d["phases"][1]["target_online_week"] = 70  # grid alone needs -20 + 100 = 80
    msg = _problems(d)["phases[1].target_online_week"]
    assert "week 80" in msg and "order earlier" in msg


def test_decommission_before_commission() -> None:
    d = two_hall_plan()
    d["phases"][1]["decommission_week"] = 85  # target 90
    d["phases"][2]["decommission_week"] = 100  # no target; earliest online 100
    p = _problems(d)
    assert "not after the phase is commissioned (week 90)" in p["phases[1].decommission_week"]
    assert "week 100" in p["phases[2].decommission_week"]


def test_duplicate_names_and_bad_distribution() -> None:
    d = two_hall_plan()
    d["phases"].append(copy.deepcopy(d["phases"][2]))
    d["phases"][1]["items"].append({"name": "gpus", "lead_time": fixed(3)})
    p = _problems(d)
    assert "unique" in p["phases"]
    assert "'gpus' repeats" in p["phases[1].items"]
    # field values are checked first (like a scenario): cross-references once every value is valid
    d["phases"][0]["items"][0]["lead_time"] = {
        "distribution": "lognormal",
        "median_weeks": 200,
        "p90_weeks": 100,
    }
    assert "median_weeks < p90_weeks" in _problems(d)["phases[0].items[0].lead_time"]


def test_updated_by_dotted_path() -> None:
    plan = load_buildout(two_hall_plan())
    new = plan.updated({"phases[hall-b].gpus": 700, "phases[hall-a].items[gpus].order_week": 40})
    assert new.phase("hall-b").gpus == 700 and new.phase("hall-a").items[1].order_week == 40
    assert plan.phase("hall-b").gpus == 500
    with pytest.raises(ScenarioError) as exc:
        plan.updated({"phases[hall-z].gpus": 1, "phases[hall-a].gpu": 3})
    assert len(exc.value.problems) == 2
    with pytest.raises(KeyError, match="no phase named"):
        plan.phase("nope")


def test_names_without_slash() -> None:
    d = two_hall_plan()
    d["phases"][1]["name"] = "a/b"
    d["phases"][1]["items"][0]["name"] = "x/y"
    p = _problems(d)
    assert "rename 'a/b'" in p["phases[1].name"] and "rename 'x/y'" in p["phases[1].items[0].name"]
