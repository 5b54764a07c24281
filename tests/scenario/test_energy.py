import pytest

import gigawatt
from gigawatt.errors import ScenarioError


def _with(site_patch=None, grid_patch=None):
    d = gigawatt.load_scenario("reference").model_dump(mode="json")
    d["sites"][0]["grid"].update(grid_patch or {})
    d["sites"][0].update(site_patch or {})
    return d


def test_energy_fields_round_trip(tmp_path):
    d = _with(
        {
            "energy": {
                "generation": [
                    {"kind": "gas", "name": "gt", "capacity_mw": 50},
                    {"kind": "solar", "name": "pv", "capacity_dc_mw": 20},
                    {"kind": "wind", "name": "wtg", "n_turbines": 4},
                    {"kind": "baseload", "name": "smr", "capacity_mw": 77},
                ],
                "battery": {"energy_mwh": 400, "power_mw": 100, "policy": "carbon_aware"},
            },
            "power_capping": {"order": ["pause_training", "dvfs"]},
        },
        {
            "tariff": {
                "kind": "time_of_use",
                "base_price_usd_per_mwh": 50,
                "periods": [{"price_usd_per_mwh": 140, "start_hour": 14, "end_hour": 19}],
            },
            "ppas": [{"name": "vppa", "kind": "wind", "strike_usd_per_mwh": 45, "capacity_mw": 100}],
            "curtailment_windows": [{"start": "2026-08-01T14:00:00", "end": "2026-08-01T20:00:00"}],
            "stochastic_curtailment": {"rate_per_year": 3, "mean_duration_h": 4},
            "carbon": {"region_code": "ERCT", "certificates_mwh_per_year": 1000},
            "energisation_date": "2026-03-01T00:00:00",
            "export_capacity_mw": 10,
            "demand_charge_usd_per_kw_month": 12,
        },
    )
    sc = gigawatt.load_scenario(d)
    site = sc.sites[0]
    assert site.energy.battery.policy == "carbon_aware"
    assert [g.kind for g in site.energy.generation] == ["gas", "solar", "wind", "baseload"]
    assert site.energy.generation[0].dispatch == "backup"
    path = tmp_path / "s.yaml"
    gigawatt.scenario.save_scenario(sc, path)
    assert gigawatt.load_scenario(path).model_dump() == sc.model_dump()


@pytest.mark.parametrize(
    ("site_patch", "grid_patch", "fragment"),
    [
        (
            {"energy": {"battery": {"energy_mwh": 10, "power_mw": 5, "initial_soc_frac": 0.99}}},
            None,
            "initial_soc_frac",
        ),
        (
            {
                "energy": {
                    "generation": [
                        {"kind": "gas", "name": "a", "capacity_mw": 1},
                        {"kind": "gas", "name": "a", "capacity_mw": 2},
                    ]
                }
            },
            None,
            "unique",
        ),
        ({"energy": {"generation": [{"kind": "nuclear", "name": "a", "capacity_mw": 1}]}}, None, "nuclear"),
        (None, {"ppas": [{"name": "p", "kind": "baseload", "strike_usd_per_mwh": 40}]}, "block_mw"),
        (
            None,
            {"curtailment_windows": [{"start": "2026-02-01T00:00:00", "end": "2026-01-01T00:00:00"}]},
            "after start",
        ),
        ({"power_capping": {"order": ["dvfs", "dvfs"]}}, None, "distinct"),
        (
            {
                "energy": {
                    "generation": [
                        {"kind": "gas", "name": "g", "capacity_mw": 5, "heat_rate_btu_per_kwh": 2000}
                    ]
                }
            },
            None,
            "heat_rate",
        ),
    ],
)
def test_energy_validation_errors(site_patch, grid_patch, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        gigawatt.load_scenario(_with(site_patch, grid_patch))
