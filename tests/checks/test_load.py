"""Loading a scenario: field problems and the checks beyond the fields, reported together with their paths."""

from __future__ import annotations

import pytest

import gigawatt as gw
from gigawatt.checks.load import load_scenario

NORMALS = {
    "kind": "normals",
    "dry_bulb_mean_c": [10.0] * 12,
    "daily_range_c": [8.0] * 12,
    "dew_point_c": [12.0] * 12,  # above the dry bulb: impossible (a check of the climate's physics)
}


def _data() -> dict:
    d = load_scenario("reference").model_dump(mode="json", exclude_unset=True)
    d["sites"][0]["climate"] = dict(NORMALS)
    return d


def test_impossible_normals_are_reported_with_their_path() -> None:
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(_data())
    assert [p for p, _ in info.value.problems] == ["sites[0].climate"]
    assert "dew_point_c" in info.value.problems[0][1]


def test_impossible_normals_are_reported_with_other_field_problems() -> None:
    d = _data()
    d["horizon_hours"] = 5  # an unknown field elsewhere
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(d)
    paths = [p for p, _ in info.value.problems]
    assert "horizon_hours" in paths and "sites[0].climate" in paths


def test_a_scenario_object_with_impossible_normals_is_refused() -> None:
    sc = gw.Scenario.model_validate(_data())  # fields only: the climate's physics is a check
    with pytest.raises(gw.ScenarioError, match=r"sites\[0\]\.climate"):
        load_scenario(sc)
    with pytest.raises(gw.ScenarioError, match=r"sites\[0\]\.climate"):
        sc.updated({"seed": 1})
