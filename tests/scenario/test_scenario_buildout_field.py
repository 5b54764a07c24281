"""A build-out plan as a scenario field: its phases name what they bring online, and loading dates those
objects at the plan's targets (the dates a simulation of the scenario uses)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.buildout._plans import HALL_A_TARGET, HALL_B_TARGET, fleet_with_plan

import gigawatt as gw
from gigawatt.scenario.buildout import BuildoutPlan, plan_links, planned_datetime, planned_week


def _day(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def test_loading_dates_what_the_phases_bring_online_at_their_targets() -> None:
    sc = gw.load_scenario(fleet_with_plan())
    assert isinstance(sc.buildout, BuildoutPlan)
    hall_a, hall_b = sc.sites[0].halls
    assert hall_a.commission_date == _day(HALL_A_TARGET)
    assert hall_b.commission_date is None  # not brought online by the plan
    by_name = {rg.name: rg for rg in hall_b.racks}
    assert by_name["old-refresh1"].commission_date == _day(HALL_B_TARGET)
    assert by_name["old"].decommission_date == _day(HALL_B_TARGET)
    # the plan's dates are the plan's: not part of the scenario's input
    assert "commission_date" not in hall_a.model_fields_set


def test_plan_links_resolve_every_spelling() -> None:
    d = fleet_with_plan()
    d["sites"][0]["grid"] = {"energisation_date": "2026-01-05"}
    d["sites"][0]["energy"] = {
        "generation": [{"kind": "gas", "name": "turbines", "capacity_mw": 5}],
        "battery": {"energy_mwh": 4, "power_mw": 1},
    }
    sc = gw.load_scenario(d)
    plan = sc.buildout.model_copy(
        update={
            "phases": [
                sc.buildout.phases[0].model_copy(
                    update={
                        "brings_online": [
                            "campus/hall-a",
                            "hall-b/keep",
                            "campus/hall-b/old",
                            "grid",
                            "grid:campus",
                            "plant:turbines",
                            "plant:campus/turbines",
                            "battery:campus",
                        ]
                    }
                ),
                *sc.buildout.phases[1:],
            ]
        }
    )
    links, problems = plan_links(plan, sc.sites)
    assert problems == []
    got = [(ln.kind, ln.online_path) for ln in links if ln.phase == 0]
    assert got == [
        ("hall", "sites[campus].halls[hall-a].commission_date"),
        ("rack_group", "sites[campus].halls[hall-b].racks[keep].commission_date"),
        ("rack_group", "sites[campus].halls[hall-b].racks[old].commission_date"),
        ("grid", "sites[campus].grid.energisation_date"),
        ("grid", "sites[campus].grid.energisation_date"),
        ("plant", "sites[campus].energy.generation[turbines].commission_date"),
        ("plant", "sites[campus].energy.generation[turbines].commission_date"),
        ("battery", "sites[campus].energy.battery.commission_date"),
    ]


def test_updating_a_target_moves_the_dates() -> None:
    sc = gw.load_scenario(fleet_with_plan())
    later = sc.updated({"buildout.phases[hall-a].target_online_week": 70})
    assert later.sites[0].halls[0].commission_date == planned_datetime(later.buildout, 70)
    assert later.sites[0].halls[0].commission_date - sc.sites[0].halls[0].commission_date == dt.timedelta(
        weeks=10
    )
    assert sc.sites[0].halls[0].commission_date == _day(HALL_A_TARGET)  # unchanged


def test_a_date_that_agrees_with_the_plan_is_accepted_and_round_trips(tmp_path: Path) -> None:
    d = fleet_with_plan()
    d["sites"][0]["halls"][0]["commission_date"] = HALL_A_TARGET
    sc = gw.load_scenario(d)
    assert sc == gw.load_scenario(fleet_with_plan())
    f = gw.save_scenario(sc, tmp_path / "s.yaml")
    assert gw.load_scenario(f).model_dump() == sc.model_dump()


def test_planned_week_and_date() -> None:
    plan = gw.load_scenario(fleet_with_plan()).buildout
    assert planned_week(plan.phase("hall-a")) == pytest.approx(60.0, abs=0)
    assert planned_week(plan.phase("grid")) is None  # items, no target
    existing = plan.phase("grid").model_copy(update={"items": []})
    assert planned_week(existing) == pytest.approx(0.0, abs=0)  # existing capacity: online at week 0
    # a fractional week rounds up to the next whole day
    assert planned_datetime(plan, 60.5) == dt.datetime(2027, 3, 5)


def test_a_scenario_without_a_plan_is_unchanged() -> None:
    d = fleet_with_plan()
    del d["buildout"]
    sc = gw.load_scenario(d)
    assert sc.buildout is None and sc.sites[0].halls[0].commission_date is None


def test_a_linked_refresh_keeps_its_date_so_a_moved_target_is_a_contradiction() -> None:
    """The old group of a refresh retires at the refresh date: moving only the target would part the two."""
    sc = gw.load_scenario(fleet_with_plan())
    with pytest.raises(gw.ScenarioError, match="contradicts the build-out plan"):
        sc.updated({"buildout.phases[hall-b].target_online_week": 110})
    moved = sc.updated(
        {
            "buildout.phases[hall-b].target_online_week": 110,
            "sites[campus].halls[hall-b].racks[old].decommission_date": "2028-02-14",
            "sites[campus].halls[hall-b].racks[old-refresh1].commission_date": "2028-02-14",
        }
    )
    assert moved.sites[0].halls[1].racks[2].commission_date == planned_datetime(moved.buildout, 110)
