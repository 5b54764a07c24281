"""``gigawatt check`` of a scenario's build-out plan: every problem at once, with its path, fix and YAML line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.buildout._plans import HALL_A_TARGET, fleet_with_plan

import gigawatt as gw
from gigawatt.checks.buildout import index_path


def _problems(data: dict[str, Any] | Path) -> dict[str, str]:
    with pytest.raises(gw.ScenarioError) as info:
        gw.load_scenario(data)
    return dict(info.value.problems)


def _phase(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in d["buildout"]["phases"] if p["name"] == name)


def test_bad_links_all_at_once_with_lines(tmp_path: Path) -> None:
    d = fleet_with_plan()
    _phase(d, "hall-a")["brings_online"] = [
        "hall-c",
        "hall-a/a2",
        "plant:turbine",
        "battery:campus",
        "moon:base",
    ]
    _phase(d, "hall-b")["items"][0]["lead_time"] = "gpu-servr"  # a problem of the plan itself
    _phase(d, "grid")["scenario_path"] = "sites[campus].halls[hall-a].max_racks"
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    p = _problems(f)
    on = "buildout.phases[1].brings_online"
    assert "unknown hall 'hall-c'; did you mean 'hall-" in p[f"{on}[0]"]
    assert "unknown rack group 'a2' in hall 'hall-a'; did you mean 'a1'?" in p[f"{on}[1]"]
    assert "unknown on-site plant 'turbine'" in p[f"{on}[2]"]
    assert "has no battery" in p[f"{on}[3]"]
    assert "unknown kind 'moon'" in p[f"{on}[4]"]
    assert "did you mean 'gpu-servers'" in p["buildout.phases[2].items[0].lead_time"]
    assert "not a date field" in p["buildout.phases[0].scenario_path"]
    assert all("s.yaml line" in m for m in p.values())


def test_a_date_that_contradicts_the_plan_is_reported_at_the_date(tmp_path: Path) -> None:
    d = fleet_with_plan()
    d["sites"][0]["halls"][0]["commission_date"] = "2027-01-01"
    f = tmp_path / "s.yaml"
    text = yaml.safe_dump(d, sort_keys=False)
    f.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "commission_date: '2027-01-01'" in s)
    msg = _problems(f)["sites[0].halls[0].commission_date"]
    assert "contradicts the build-out plan" in msg and HALL_A_TARGET in msg and "phase 'hall-a'" in msg
    assert f"s.yaml line {line}]" in msg
    # a refreshed group's date is its refresh's date
    d = fleet_with_plan()
    d["sites"][0]["halls"][1]["racks"][0]["refresh"]["date"] = "2027-11-01"
    msg = _problems(d)["sites[0].halls[1].racks[0].refresh.date"]
    assert "contradicts the build-out plan" in msg


def test_phase_and_link_consistency() -> None:
    d = fleet_with_plan()
    _phase(d, "hall-b")["brings_online"] = ["hall-b/old-refresh1", "hall-a"]  # hall-a twice
    _phase(d, "grid")["brings_online"] = ["grid:campus"]  # no target, has items
    _phase(d, "grid")["decommission_week"] = 400  # and a grid cannot be decommissioned
    p = _problems(d)
    assert (
        "already brought online by buildout.phases[1].brings_online[0]"
        in p["buildout.phases[2].brings_online[1]"]
    )
    assert "no target_online_week" in p["buildout.phases[0].target_online_week"]
    assert "no decommission date" in p["buildout.phases[0].decommission_week"]


def test_rack_group_phase_must_wait_for_its_hall_phase() -> None:
    d = fleet_with_plan()
    _phase(d, "hall-b")["brings_online"] = ["hall-a/a1"]
    _phase(d, "hall-b")["after"] = []
    _phase(d, "hall-b")["target_online_week"] = 80
    p = _problems(d)
    assert "add 'hall-a' to after" in p["buildout.phases[2].after"]
    _phase(d, "hall-b")["after"] = ["grid"]  # waits for grid, not (transitively) for hall-a
    assert "buildout.phases[2].after" in _problems(d)


def test_plan_calendar_against_the_simulated_period() -> None:
    d = fleet_with_plan()
    d["buildout"]["start_date"] = "2040-01-02"
    p = _problems(d)
    assert "after the simulated period ends" in p["buildout.start_date"]


def test_warnings_for_a_late_plan_start_and_phases_beyond_the_horizon() -> None:
    d = fleet_with_plan()
    d["horizon_h"] = 24 * 7 * 80  # ends before hall-b's target (week 100)
    d["buildout"]["phases"].insert(
        0, {"name": "existing", "target_online_week": 0, "brings_online": ["hall-b/keep"]}
    )
    d["start"] = "2026-01-01T00:00:00"  # the plan's week 0 (2026-01-05) falls inside the run
    sc = gw.load_scenario(d)
    w = dict(gw.checks.scenario_warnings(sc))
    assert "phase(s) existing" in w["buildout.start_date"] and "4 days" in w["buildout.start_date"]
    assert "never simulated" in w["buildout.phases[3].target_online_week"]
    assert "buildout.phases[2].target_online_week" not in w  # hall-a is planned within the run


def test_index_path() -> None:
    sc = gw.load_scenario(fleet_with_plan())
    assert index_path(sc, "sites[campus].halls[hall-b].racks[keep].commission_date") == (
        "sites[0].halls[1].racks[1].commission_date"
    )
    assert (
        index_path(sc, "sites[campus].halls[nope].commission_date")
        == "sites[campus].halls[nope].commission_date"
    )


def test_plan_field_errors_in_a_scenario_file(tmp_path: Path) -> None:
    d = fleet_with_plan()
    _phase(d, "hall-a")["items"][0]["lead_time"] = {
        "distribution": "triangular",
        "low_weeks": -3,
        "mode_weeks": 5,
        "high_weeks": 9,
    }
    _phase(d, "hall-b")["itemz"] = []
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    p = _problems(f)
    assert set(p) == {"buildout.phases[1].items[0].lead_time.low_weeks", "buildout.phases[2].itemz"}
    assert "did you mean 'items'" in p["buildout.phases[2].itemz"]
    assert all("s.yaml line" in m for m in p.values())
