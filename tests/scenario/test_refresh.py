"""The ``refresh:`` shorthand of a rack group: expanded at load time into the retired group and the new one(s),
exactly as if written by hand; bad refreshes reported by ``check`` with their field and line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import gigawatt as gw
from gigawatt.scenario.hardware import Hall

FLEET = Path("examples/scenarios/fleet_over_time.yaml")


def _hall(racks: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {"name": "hall-1", "cooling": {"technology": "dlc"}, "racks": racks, **over}


H100 = {
    "name": "h100",
    "count": 10,
    "servers_per_rack": 4,
    "server": {"accelerator": "H100-SXM", "host_overhead_w": 4600},
}


def _scenario(racks: list[dict[str, Any]], **hall: Any) -> dict[str, Any]:
    return {
        "name": "refresh",
        "start": "2026-01-01T00:00:00",
        "horizon_h": 24 * 365 * 3,
        "step_s": 86400,
        "sites": [
            {
                "name": "campus",
                "location": {"latitude_deg": 32.0, "longitude_deg": -97.0, "country_code": "US"},
                "climate": {"kind": "constant", "dry_bulb_c": 20.0},
                "halls": [_hall(racks, **hall)],
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": "load",
                "target": {"hall": "hall-1"},
                "profile": {"kind": "constant", "utilization_frac": 0.7},
            }
        ],
    }


def _problems(data: dict[str, Any] | Path) -> dict[str, str]:
    with pytest.raises(gw.ScenarioError) as info:
        gw.load_scenario(data)
    return dict(info.value.problems)


def test_refresh_equals_the_two_groups_written_by_hand() -> None:
    short = Hall.model_validate(_hall([{**H100, "refresh": {"date": "2027-07-01", "accelerator": "B300"}}]))
    by_hand = Hall.model_validate(
        _hall(
            [
                {**H100, "decommission_date": "2027-07-01"},
                {
                    "name": "h100-refresh1",
                    "count": 10,
                    "servers_per_rack": 4,
                    "server": {
                        "accelerator": "B300"
                    },  # host_overhead_w was the H100 server's: not carried over
                    "commission_date": "2027-07-01",
                },
            ]
        )
    )
    assert short == by_hand
    assert short.model_dump(exclude_unset=True) == by_hand.model_dump(exclude_unset=True)
    assert [rg.refresh for rg in short.racks] == [None, None]


def test_fleet_over_time_example_is_the_hand_written_fleet() -> None:
    """The bundled example spells its refresh with the shorthand; it loads to the fleet written by hand."""
    d = yaml.safe_load(FLEET.read_text(encoding="utf-8"))
    racks = d["sites"][0]["halls"][0]["racks"]
    assert "refresh" in racks[0]
    hand = copy.deepcopy(d)
    old = {k: v for k, v in racks[0].items() if k != "refresh"}
    hand["sites"][0]["halls"][0]["racks"] = [
        {**old, "decommission_date": "2028-01-01"},
        {
            "name": "b300",
            "count": 120,
            "servers_per_rack": 4,
            "server": {"accelerator": "B300"},
            "commission_date": "2028-01-01",
        },
    ]
    assert gw.load_scenario(d) == gw.load_scenario(hand)


def test_refresh_equivalence_holds_in_simulation() -> None:
    short = _scenario([{**H100, "refresh": {"date": "2027-07-01", "accelerator": "B300", "count": 8}}])
    hand = _scenario(
        [
            {**H100, "decommission_date": "2027-07-01"},
            {
                "name": "h100-refresh1",
                "count": 8,
                "servers_per_rack": 4,
                "server": {"accelerator": "B300"},
                "commission_date": "2027-07-01",
            },
        ]
    )
    a, b = gw.simulate(gw.load_scenario(short)), gw.simulate(gw.load_scenario(hand))
    ka, kb = a.summary(), b.summary()
    for k in ("it_energy_mwh", "facility_energy_mwh", "peak_installed_gpus", "mean_installed_gpus"):
        assert ka[k] == pytest.approx(kb[k], rel=1e-12), k
    gpus = a.timeseries["installed_gpus"]
    assert gpus.iloc[0] == pytest.approx(320.0, abs=1e-9)  # 10 racks x 4 servers x 8 H100
    assert gpus.iloc[-1] == pytest.approx(256.0, abs=1e-9)  # 8 racks x 4 servers x 8 B300


def test_a_list_of_refreshes_chains_the_generations() -> None:
    hall = Hall.model_validate(
        _hall(
            [
                {
                    **H100,
                    "commission_date": "2026-01-01",
                    "decommission_date": "2032-01-01",
                    "refresh": [
                        {"date": "2028-01-01", "accelerator": "B300", "name": "b300"},
                        {
                            "date": "2030-01-01",
                            "server": {
                                "accelerator": "GB300",
                                "accelerators_per_server": 4,
                                "cooling_variant": "liquid",
                            },
                            "servers_per_rack": 18,
                        },
                    ],
                }
            ]
        )
    )
    names = [rg.name for rg in hall.racks]
    assert names == ["h100", "b300", "h100-refresh2"]
    h100, b300, gb300 = hall.racks
    assert h100.decommission_date == b300.commission_date and str(b300.commission_date.date()) == "2028-01-01"
    assert (
        b300.decommission_date == gb300.commission_date and str(gb300.commission_date.date()) == "2030-01-01"
    )
    assert str(gb300.decommission_date.date()) == "2032-01-01"  # the last generation keeps the group's end
    assert gb300.server.accelerators_per_server == 4 and gb300.servers_per_rack == 18
    assert b300.server.accelerators_per_server == 8 and b300.server.host_overhead_w is None
    # the plant is sized for the groups installed at one time, not for all three generations
    assert hall.nameplate_it_power_mw() == pytest.approx(
        max(rg.count * rg.rack_power_kw() for rg in hall.racks) / 1e3, rel=1e-12
    )


def test_like_for_like_refresh_keeps_the_server() -> None:
    hall = Hall.model_validate(_hall([{**H100, "refresh": {"date": "2028-01-01"}}]))
    assert hall.racks[1].server == hall.racks[0].server


def test_refresh_onto_an_unknown_accelerator_is_reported_with_field_and_line(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    text = FLEET.read_text(encoding="utf-8").replace(
        "accelerator: B300, name: b300", "accelerator: B30, name: b300"
    )
    f.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "accelerator: B30," in s)
    p = _problems(f)
    msg = p["sites[0].halls[0].racks[0].refresh.accelerator"]
    assert "unknown accelerator 'B30'" in msg and "B300" in msg and f"line {line}]" in msg
    # with no close match: the known names
    f.write_text(text.replace("accelerator: B30,", "accelerator: XPU9000,"), encoding="utf-8")
    msg = _problems(f)["sites[0].halls[0].racks[0].refresh.accelerator"]
    assert "known:" in msg and "H100-SXM" in msg


def test_bad_refresh_dates_all_at_once() -> None:
    d = _scenario(
        [
            {
                **H100,
                "commission_date": "2026-06-01",
                "refresh": {"date": "2026-03-01", "accelerator": "B300"},
            },
            {
                **H100,
                "name": "late",
                "decommission_date": "2027-01-01",
                "refresh": {"date": "2027-06-01", "accelerator": "B300"},
            },
            {
                **H100,
                "name": "twice",
                "refresh": [{"date": "2028-01-01"}, {"date": "2027-01-01"}],
            },
            {
                **H100,
                "name": "both",
                "refresh": {"date": "2027-01-01", "accelerator": "B300", "server": {"accelerator": "B200"}},
            },
        ]
    )
    p = _problems(d)
    racks = "sites[0].halls[0].racks"
    assert "not after the group's commission_date" in p[f"{racks}[0].refresh"]
    assert "not before the group's decommission_date" in p[f"{racks}[1].refresh"]
    assert "[1].date" in p[f"{racks}[2].refresh"] and "date order" in p[f"{racks}[2].refresh"]
    assert "not both" in p[f"{racks}[3].refresh"]


def test_refresh_after_its_hall_is_retired_names_the_refresh(tmp_path: Path) -> None:
    d = _scenario(
        [{**H100, "refresh": {"date": "2028-01-01", "accelerator": "B300"}}], decommission_date="2027-01-01"
    )
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    with pytest.raises(gw.ScenarioError) as info:
        gw.load_scenario(f)
    # both the old group's retirement and the new group's installation are the refresh's date
    msgs = [m for p, m in info.value.problems if p == "sites[0].halls[0].racks[0].refresh.date"]
    assert len(msgs) == 2 and all("s.yaml line" in m for m in msgs)
    assert any("'h100' is decommissioned" in m for m in msgs)
    assert any("'h100-refresh1'" in m and "after its hall is decommissioned" in m for m in msgs)


def test_derived_name_that_clashes_is_reported() -> None:
    d = _scenario([{**H100, "refresh": {"date": "2028-01-01"}}, {**H100, "name": "h100-refresh1"}])
    p = _problems(d)
    assert any("duplicated: h100-refresh1" in m for m in p.values())
