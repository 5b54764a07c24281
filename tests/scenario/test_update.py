"""Validated scenario edits by dotted path (``Scenario.updated`` / ``value_at``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.scenario.update import format_path, parse_path


@pytest.fixture
def sc() -> gw.Scenario:
    return gw.load_scenario(small_scenario_dict())


def test_parse_and_format_paths() -> None:
    keys = parse_path("sites[site-a].halls[-1].racks[0].count")
    assert keys == ["sites", "site-a", "halls", -1, "racks", 0, "count"]
    assert format_path(keys) == "sites[site-a].halls[-1].racks[0].count"
    assert parse_path('workloads["chat/eu.v2"].target.gpus')[1] == "chat/eu.v2"
    assert format_path(parse_path('workloads["chat/eu.v2"].target')) == "workloads['chat/eu.v2'].target"
    for bad in ("", "a..b", ".a", "a.", "[0].a", "a b", "a[", "a]b"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_updated_reaches_nested_fields_and_leaves_the_original(sc: gw.Scenario) -> None:
    new = sc.updated(
        {
            "horizon_h": 24,
            "sites[site-a].grid.import_capacity_mw": 12.5,
            "sites[0].halls[air].racks[0].count": 10,
            "sites[site-a].halls[liquid].cooling.technology": "immersion",
        }
    )
    assert new.horizon_h == pytest.approx(24.0, abs=1e-12)
    assert new.sites[0].grid.import_capacity_mw == pytest.approx(12.5, abs=1e-12)
    assert new.value_at("sites[site-a].halls[air].racks[0].count") == 10
    assert new.value_at("sites[0].halls[0].cooling.technology") == "immersion"
    # the original is untouched
    assert sc.horizon_h == pytest.approx(48.0, abs=1e-12) and sc.sites[0].grid.import_capacity_mw is None
    # an updated scenario simulates like a loaded one
    res = gw.simulate(new)
    assert len(res.timeseries) == 24 * 12


def test_changed_technology_brings_its_own_defaults(sc: gw.Scenario) -> None:
    """Only fields the user set are carried over, so defaults follow the new choice."""
    new = sc.updated({"sites[site-a].halls[air].cooling.technology": "dlc"})
    old_default = gw.load_scenario(small_scenario_dict()).sites[0].halls[1].cooling
    fresh = small_scenario_dict()
    fresh["sites"][0]["halls"][1]["cooling"] = {"technology": "dlc"}
    expect = gw.load_scenario(fresh).sites[0].halls[1].cooling
    assert new.sites[0].halls[1].cooling == expect
    assert old_default.technology == "air"


def test_bad_values_are_validated(sc: gw.Scenario) -> None:
    with pytest.raises(gw.ScenarioError) as exc:
        sc.updated({"horizon_h": -5, "step_s": "five"})
    text = str(exc.value)
    assert "horizon_h: must be > 0" in text and "step_s:" in text and len(exc.value.problems) == 2


def test_bad_paths_and_bad_values_reported_together(sc: gw.Scenario) -> None:
    with pytest.raises(gw.ScenarioError) as exc:
        sc.updated(
            {
                "sites[nope].grid.import_capacity_mw": 1,
                "horizn_h": 2,
                "sites[0].halls[7].name": "x",
                "sites[site-a].grid.import_capacit_mw": 3,
                "seed": -1,
            }
        )
    lines = exc.value.lines()
    assert any("sites[nope]" in ln and "no element named 'nope'" in ln for ln in lines)
    assert any("did you mean 'horizon_h'" in ln for ln in lines)
    assert any("position 7 does not exist" in ln for ln in lines)
    assert any("did you mean 'import_capacity_mw'" in ln for ln in lines)
    assert any(ln.startswith("seed:") for ln in lines)  # the value problem comes with the path problems


def test_cross_references_are_checked(sc: gw.Scenario) -> None:
    d = small_scenario_dict()
    d["workloads"] = [
        {
            "kind": "utilization",
            "name": "u",
            "target": {"hall": "air"},
            "profile": {"kind": "constant", "utilization_frac": 0.5},
        }
    ]
    base = gw.load_scenario(d)
    with pytest.raises(gw.ScenarioError, match="nowhere"):
        base.updated({"workloads[u].target.hall": "nowhere"})
    # a union element is addressed through its own kind's fields
    with pytest.raises(gw.ScenarioError, match="did you mean 'utilization_frac'"):
        base.updated({"workloads[u].profile.utilisation_frac": 0.3})
    assert base.updated({"workloads[u].profile.utilization_frac": 0.3}).value_at(
        "workloads[u].profile.utilization_frac"
    ) == pytest.approx(0.3, abs=1e-12)


def test_relative_paths_keep_resolving_against_the_file(tmp_path: Path) -> None:
    d = small_scenario_dict()
    (tmp_path / "util.csv").write_text(
        "timestamp,utilization_frac\n2026-07-01T00:00:00,0.5\n2026-07-01T01:00:00,0.7\n", encoding="utf-8"
    )
    d["workloads"] = [
        {
            "kind": "utilization",
            "name": "u",
            "target": {"hall": "air"},
            "profile": {"kind": "trace", "path": "util.csv"},
        }
    ]
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d), encoding="utf-8")
    sc = gw.load_scenario(f)
    new = sc.updated({"horizon_h": 24})
    assert new.resolve_path("util.csv") == tmp_path / "util.csv"


def test_value_at_unknown(sc: gw.Scenario) -> None:
    with pytest.raises(KeyError, match="did you mean 'horizon_h'"):
        sc.value_at("horizon")
    assert sc.value_at("sites[site-a].grid.energy_price_usd_per_mwh") == pytest.approx(50.0, abs=1e-12)
