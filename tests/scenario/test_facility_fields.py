"""Scenario fields of the facility physics: climates, cooling designs, electrical chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw


def _with(
    site_climate: dict | None = None, cooling: dict | None = None, electrical: dict | None = None
) -> dict:
    d = small_scenario_dict()
    site = d["sites"][0]
    if site_climate is not None:
        site["climate"] = site_climate
    if cooling is not None:
        site["halls"][0]["cooling"] = cooling
    if electrical is not None:
        site["halls"][0]["electrical"] = electrical
    return d


def test_named_climate_and_suggestion() -> None:
    sc = gw.load_scenario(_with({"kind": "named", "name": "phoenix"}))
    assert sc.sites[0].climate.kind == "named"
    with pytest.raises(gw.ScenarioError, match="did you mean 'phoenix'"):
        gw.load_scenario(_with({"kind": "named", "name": "pheonix"}))


def test_weather_file_climate(tmp_path: Path) -> None:
    import importlib.resources

    f = Path(str(importlib.resources.files("gigawatt") / "data" / "climates" / "tmy" / "723170TYA.CSV"))
    sc = gw.load_scenario(_with({"kind": "file", "path": str(f)}))
    assert sc.sites[0].climate.path == str(f)
    with pytest.raises(gw.ScenarioError, match="not found"):
        gw.load_scenario(_with({"kind": "file", "path": str(tmp_path / "nope.epw")}))
    with pytest.raises(gw.ScenarioError, match=r"\.tm2, \.csv \(TMY3\) or \.epw"):
        gw.load_scenario(_with({"kind": "file", "path": str(tmp_path / "x.txt")}))


def test_cooling_design_must_match_technology() -> None:
    sc = gw.load_scenario(_with(cooling={"technology": "dlc", "design": "dlc_dry"}))
    assert sc.sites[0].halls[0].cooling.resolved_design() == "dlc_dry"
    with pytest.raises(gw.ScenarioError, match="not a dlc design"):
        gw.load_scenario(_with(cooling={"technology": "dlc", "design": "air_legacy"}))
    with pytest.raises(gw.ScenarioError, match="liquid_supply_max_c must be above"):
        gw.load_scenario(
            _with(cooling={"technology": "dlc", "liquid_supply_c": 40, "liquid_supply_max_c": 35})
        )


def test_cooling_overrides_reach_the_plant() -> None:
    from gigawatt.physics.cooling import SINK_DRY_BULB

    spec = (
        gw.load_scenario(
            _with(
                cooling={
                    "technology": "dlc",
                    "liquid_supply_c": 40,
                    "heat_rejection": "dry_cooler",
                    "chillers": False,
                    "liquid_capture_frac": 0.75,
                }
            )
        )
        .sites[0]
        .halls[0]
        .cooling
    )
    ov = spec.plant_overrides()
    assert ov["liquid_capture_frac"] == 0.75
    assert ov["liquid_loop"]["supply_c"] == 40
    assert ov["liquid_loop"]["sink"] == SINK_DRY_BULB
    assert ov["liquid_loop"]["has_chiller"] == 0


def test_electrical_fields_and_removed_placeholder() -> None:
    sc = gw.load_scenario(_with(electrical={"redundancy": "N+1", "ups": "eco", "pdu": "legacy"}))
    assert sc.sites[0].halls[0].electrical.ups == "eco"
    with pytest.raises(gw.ScenarioError, match="loss_frac"):
        gw.load_scenario(_with(electrical={"loss_frac": 0.06}))
    with pytest.raises(gw.ScenarioError, match="ups"):
        gw.load_scenario(_with(electrical={"ups": "flywheel"}))
