"""Many sites: jurisdictions (data residency) and shared grid regions, as checked by ``load_scenario``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.checks.load import load_scenario
from gigawatt.checks.problems import site_jurisdictions


def _two_sites(country_b: str = "DE") -> dict[str, Any]:
    """site-a (US) and site-b (``country_b``), each with the halls ``liquid`` and ``air``."""
    d = small_scenario_dict()
    b = copy.deepcopy(d["sites"][0])
    b["name"] = "site-b"
    b["location"] = {"latitude_deg": 50.1, "longitude_deg": 8.7, "country_code": country_b}
    d["sites"].append(b)
    d["workloads"][0]["target"] = {"hall": "site-a/liquid"}
    return d


def _problems(d: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(p)
    return dict(info.value.problems)


def _line(msg: str) -> int:
    return int(msg.rsplit("line ", 1)[1].rstrip("]"))


def test_jurisdiction_defaults_to_country_code_and_eu_membership() -> None:
    sc = load_scenario(_two_sites())
    assert sc.sites[0].jurisdiction is None
    assert site_jurisdictions(sc.sites[0]) == {"US"}
    assert site_jurisdictions(sc.sites[1]) == {"DE", "EU"}
    d = _two_sites(country_b="CH")  # Switzerland is not in the EU
    d["sites"][1]["jurisdiction"] = "CH-sovereign"
    sc = load_scenario(d)
    assert site_jurisdictions(sc.sites[1]) == {"CH-sovereign", "CH"}


def test_allowed_jurisdictions_accept_matching_targets() -> None:
    d = _two_sites()
    d["workloads"][0]["allowed_jurisdictions"] = ["US"]
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    d["workloads"][1]["allowed_jurisdictions"] = ["EU"]  # site-b is in DE, an EU member
    sc = load_scenario(d)
    assert sc.workloads[1].allowed_jurisdictions == ["EU"]


def test_violations_reported_all_at_once_with_path_and_line(tmp_path: Path) -> None:
    d = _two_sites()
    d["workloads"][0]["allowed_jurisdictions"] = ["EU"]  # targets site-a (US)
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    d["workloads"][1]["allowed_jurisdictions"] = ["US", "FR"]  # site-b is DE
    d["workloads"].append(
        {
            "kind": "training",
            "name": "pretrain",
            "target": {"site": "site-a"},
            "allowed_jurisdictions": ["DE"],
            "jobs": [{"name": "j", "gpus": 72, "duration_h": 10}],
        }
    )
    d["sites"][0]["halls"][0]["racks"][0]["count"] = 8  # room for the training pool
    probs = _problems(d, tmp_path)
    text = (tmp_path / "s.yaml").read_text().splitlines()
    m0 = probs["workloads[0].target.hall"]
    assert "site 'site-a' is in jurisdiction 'US'" in m0 and "['EU']" in m0
    assert text[_line(m0) - 1].strip().startswith("hall: site-a/liquid")
    m1 = probs["workloads[1].target.hall"]
    assert "'DE'" in m1 and "allowed_jurisdictions ['US', 'FR']" in m1
    m2 = probs["workloads[2].target.site"]
    assert "site 'site-a'" in m2
    assert text[_line(m2) - 1].strip().startswith("site: site-a")


def test_explicit_jurisdiction_label_and_pool_halls(tmp_path: Path) -> None:
    d = _two_sites(country_b="US")
    d["sites"][1]["jurisdiction"] = "US-gov"
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    d["workloads"][1]["allowed_jurisdictions"] = ["US-gov"]
    load_scenario(d)  # site-b carries the label
    d["workloads"][0]["allowed_jurisdictions"] = ["US-gov"]  # site-a is plain US
    probs = _problems(d, tmp_path)
    assert list(probs) == ["workloads[0].target.hall"]
    # a pool by halls: the offending hall's index is in the path
    d = _two_sites()
    d["workloads"][0]["target"] = {"hall": "site-b/liquid"}
    d["workloads"].append(
        {
            "kind": "training",
            "name": "pretrain",
            "target": {"halls": ["site-a/liquid"]},
            "allowed_jurisdictions": ["EU"],
            "jobs": [{"name": "j", "gpus": 72, "duration_h": 10}],
        }
    )
    probs = _problems(d, tmp_path)
    assert "workloads[2].target.halls[0]" in probs


def test_bad_jurisdiction_label() -> None:
    d = _two_sites()
    d["sites"][1]["jurisdiction"] = "E U"
    d["workloads"][0]["allowed_jurisdictions"] = []
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(d)
    probs = dict(info.value.problems)
    assert "sites[1].jurisdiction" in probs
    assert "workloads[0].allowed_jurisdictions" in probs


def test_training_pool_may_not_span_sites() -> None:
    d = _two_sites()
    d["workloads"].append(
        {
            "kind": "training",
            "name": "pretrain",
            "target": {"halls": ["site-a/liquid", "site-b/liquid"]},
            "jobs": [{"name": "j", "gpus": 72, "duration_h": 10}],
        }
    )
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(d)
    assert "must be in one site" in dict(info.value.problems)["workloads[2].target"]


def _curtailed(d: dict[str, Any], si: int, region: str, rate: float = 6.0, cap: float = 0.0) -> None:
    g = d["sites"][si]["grid"]
    g["import_capacity_mw"] = 50.0
    g["region"] = region
    g["stochastic_curtailment"] = {"rate_per_year": rate, "mean_duration_h": 4.0, "cap_frac": cap}


def test_grid_region_sites_must_agree_on_event_statistics(tmp_path: Path) -> None:
    d = _two_sites(country_b="US")
    _curtailed(d, 0, "ERCOT")
    _curtailed(d, 1, "ERCOT", cap=0.5)  # its own cap fraction is fine
    sc = load_scenario(d)
    assert sc.sites[1].grid.region == "ERCOT"
    _curtailed(d, 1, "ERCOT", rate=12.0)
    probs = _problems(d, tmp_path)
    msg = probs["sites[1].grid.stochastic_curtailment"]
    assert "share grid region 'ERCOT'" in msg and "line" in msg
    _curtailed(d, 1, "PJM", rate=12.0)  # different regions: independent, no constraint
    load_scenario(d)


def test_grid_regions_name_existing_regions_once(tmp_path: Path) -> None:
    d = _two_sites(country_b="US")
    d["sites"][0]["grid"]["region"] = "ERCOT"
    window = {"start": "2026-07-01T12:00:00", "end": "2026-07-01T14:00:00"}
    d["grid_regions"] = [{"name": "ERCOT", "curtailment_windows": [window]}]
    sc = load_scenario(d)
    assert sc.grid_regions[0].curtailment_windows[0].cap_frac == 0.0
    d["grid_regions"].append({"name": "ERCTO", "curtailment_windows": [window]})
    probs = _problems(d, tmp_path)
    assert "did you mean 'ERCOT'?" in probs["grid_regions[1].name"]
    d["grid_regions"][1]["name"] = "ERCOT"
    probs = _problems(d, tmp_path)
    assert "grid_regions names must be unique" in " ".join(probs.values())


def test_partial_regional_window_needs_an_import_cap(tmp_path: Path) -> None:
    d = _two_sites(country_b="US")
    for s in d["sites"]:
        s["grid"]["region"] = "ERCOT"
    d["sites"][0]["grid"]["import_capacity_mw"] = 20.0
    window = {"start": "2026-07-01T12:00:00", "end": "2026-07-01T14:00:00", "cap_frac": 0.5}
    d["grid_regions"] = [{"name": "ERCOT", "curtailment_windows": [window]}]
    probs = _problems(d, tmp_path)
    assert list(probs) == ["sites[1].grid.import_capacity_mw"]
    assert "partial curtailment" in probs["sites[1].grid.import_capacity_mw"]


def test_new_fields_round_trip_and_update(tmp_path: Path) -> None:
    from gigawatt.scenario.io import save_scenario

    d = _two_sites(country_b="FR")
    d["sites"][1]["jurisdiction"] = "EU"
    d["sites"][1]["grid"]["region"] = "FR"
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    d["workloads"][1]["allowed_jurisdictions"] = ["EU"]
    d["grid_regions"] = [
        {
            "name": "FR",
            "curtailment_windows": [{"start": "2026-07-01T12:00:00", "end": "2026-07-01T13:00:00"}],
        }
    ]
    sc = load_scenario(d)
    p = tmp_path / "rt.yaml"
    save_scenario(sc, p)
    back = load_scenario(p)
    assert back.model_dump() == sc.model_dump()
    with pytest.raises(gw.ScenarioError) as info:
        sc.updated({"workloads[diurnal].allowed_jurisdictions": ["US-gov"]})
    assert "workloads[1].target.hall" in dict(info.value.problems)


def test_disaggregated_prefill_pool_in_another_jurisdiction(tmp_path: Path) -> None:
    d = _two_sites()
    d["workloads"] = [
        {
            "kind": "inference",
            "name": "chat",
            "target": {"hall": "site-b/air", "gpus": 160},
            "model": "Llama-3-70B",
            "serving": {
                "tensor_parallel": 4,
                "disaggregation": {
                    "prefill_target": {"hall": "site-a/air", "gpus": 96},
                    "prefill_tensor_parallel": 4,
                },
            },
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "demand": {"kind": "profile", "peak_rps": 25.0},
            "allowed_jurisdictions": ["EU"],
        }
    ]
    probs = _problems(d, tmp_path)
    assert list(probs) == ["workloads[0].serving.disaggregation.prefill_target.hall"]
    assert "site 'site-a'" in probs["workloads[0].serving.disaggregation.prefill_target.hall"]


def test_pool_across_sites_must_respect_jurisdictions_of_every_site(tmp_path: Path) -> None:
    d = _two_sites()  # site-a in the US, site-b in Germany
    d["workloads"][0]["target"] = {"hall": "site-a/air", "gpus": 160}
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    for s in d["sites"]:
        s["halls"] = [h for h in s["halls"] if h["name"] != "liquid"] + [
            h for h in s["halls"] if h["name"] == "liquid"
        ]
    d["workloads"].append(
        {
            "kind": "training",
            "name": "pretrain",
            "target": {"halls": ["site-a/liquid", "site-b/liquid"]},
            "cross_site": {"bandwidth_gbit_per_s": 400},
            "allowed_jurisdictions": ["US"],
            "jobs": [{"name": "j", "gpus": 72, "duration_h": 10}],
        }
    )
    probs = _problems(d, tmp_path)
    assert list(probs) == ["workloads[2].target.halls[1]"]
    d["workloads"][2]["target"] = {"sites": ["site-a", "site-b"], "gpus": 288}
    d["workloads"] = [d["workloads"][2]]
    for s in d["sites"]:
        s["halls"] = [h for h in s["halls"] if h["name"] == "liquid"]
    probs = _problems(d, tmp_path)
    assert list(probs) == ["workloads[0].target.sites[1]"]
    assert "'DE'" in probs["workloads[0].target.sites[1]"]
    d["workloads"][0]["allowed_jurisdictions"] = ["US", "EU"]
    assert load_scenario(d).workloads[0].target.sites == ["site-a", "site-b"]
