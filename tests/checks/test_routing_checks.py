"""Services on several sites: placements and routing as checked by ``load_scenario`` / ``gigawatt check``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.multisite_case import three_sites_dict

import gigawatt as gw
from gigawatt.checks.load import load_scenario
from gigawatt.scenario.resolve import placement_names


def _problems(d: dict[str, Any]) -> dict[str, str]:
    """Problems by path (several at one path joined by ``|``)."""
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(d)
    out: dict[str, str] = {}
    for path, msg in info.value.problems:
        out[path] = f"{out[path]}|{msg}" if path in out else msg
    return out


def test_target_defaults_to_the_first_placement_and_names_to_the_sites() -> None:
    sc = load_scenario(three_sites_dict())
    wl = sc.workloads[0]
    assert wl.target == wl.placements[0].target
    assert placement_names(wl, sc) == ["virginia", "oregon", "frankfurt"]
    again = load_scenario(sc.model_dump(mode="json", exclude_unset=True))  # round trip with target set
    assert again.workloads[0].target == wl.target


def test_two_placements_in_one_site_are_named_site_hall() -> None:
    d = three_sites_dict()
    hall = d["sites"][0]["halls"][0]
    d["sites"][0]["halls"].append({**hall, "name": "air2"})
    d["workloads"][0]["placements"][1] = {"target": {"hall": "virginia/air2", "gpus": 160}}
    sc = load_scenario(d)
    assert placement_names(sc.workloads[0], sc) == ["virginia-air", "virginia-air2", "frankfurt"]


def test_bad_placements_are_all_reported_with_their_paths() -> None:
    d = three_sites_dict("weighted")
    pl = d["workloads"][0]["placements"]
    for p, w in zip(pl, (0.5, 0.3, 0.1), strict=True):
        p["weight_frac"] = w  # sums to 0.9
    pl[1]["target"]["hall"] = "orgon/air"  # unknown site
    d["workloads"][0]["allowed_jurisdictions"] = ["US"]  # frankfurt (DE) is outside
    pl.append({"target": {"hall": "virginia/air", "gpus": 100_000}, "weight_frac": 0.0, "name": "spare"})
    probs = _problems(d)
    assert "already used by placements[0]" in probs["workloads[0].placements[3].target.hall"]
    assert "weight_frac must sum to 1" in probs["workloads[0].placements"]
    assert "unknown hall 'orgon/air'" in probs["workloads[0].placements[1].target"]
    assert "outside the workload's allowed_jurisdictions" in probs["workloads[0].placements[2].target.hall"]
    assert "larger than its target" in probs["workloads[0].placements[3].target.gpus"]


def test_a_weight_is_needed_on_every_placement_with_the_weighted_policy() -> None:
    d = three_sites_dict("weighted")
    d["workloads"][0]["placements"][0]["weight_frac"] = 1.0
    probs = _problems(d)
    assert set(probs) >= {"workloads[0].placements[1].weight_frac", "workloads[0].placements[2].weight_frac"}


@pytest.mark.parametrize(
    ("edit", "path", "text"),
    [
        (lambda r: r["users"][0].update(share_frac=0.9), "routing", "share_frac must sum to 1"),
        (lambda r: r.update(users=[]), "routing", "needs users"),
        (lambda r: r.update(policy="cheapest"), "routing.policy", "lowest_price"),
    ],
)
def test_bad_routing_fields(edit: Any, path: str, text: str) -> None:
    d = three_sites_dict()
    edit(d["workloads"][0]["routing"])
    probs = _problems(d)
    key = next(k for k in probs if k.startswith(f"workloads[0].{path}"))
    assert text in probs[key]


def test_placements_need_routing_and_do_not_combine_with_request_windows() -> None:
    d = three_sites_dict()
    del d["workloads"][0]["routing"]
    d["workloads"][0]["request_windows"] = [{"start_h": 1}]
    probs = _problems(d)
    assert "needs a routing block" in probs["workloads[0].routing"]
    assert "not supported with placements" in probs["workloads[0].request_windows"]


def test_target_must_match_the_first_placement() -> None:
    d = three_sites_dict()
    d["workloads"][0]["target"] = {"hall": "oregon/air", "gpus": 160}
    probs = _problems(d)
    assert any("placements[0].target" in m for m in probs.values())


def test_gigawatt_check_lists_routing_problems(tmp_path: Path) -> None:
    d = three_sites_dict()
    d["workloads"][0]["placements"][2]["target"]["hall"] = "frankfurt/hall9"
    d["workloads"][0]["allowed_jurisdictions"] = ["EU"]
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    r = subprocess.run(
        [sys.executable, "-m", "gigawatt", "check", str(p)], capture_output=True, text=True, check=False
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "workloads[0].placements[2].target: unknown hall 'frankfurt/hall9'" in r.stderr
    assert "workloads[0].target.hall: site 'virginia'" in r.stderr  # placements[0] is the service's target
    assert "workloads[0].placements[1].target.hall: site 'oregon'" in r.stderr


def test_an_slo_a_placement_cannot_meet_is_reported_with_the_placement() -> None:
    d = three_sites_dict()
    d["sites"][2]["halls"][0]["racks"][0]["server"]["accelerator"] = "A100-SXM"  # 2.65 s p99 prefill
    probs = _problems(d)
    assert "on placements[2] (frankfurt)" in probs["workloads[0].slo.ttft_s"]


def test_dotted_path_edits_of_placements_carry_over_to_the_target() -> None:
    sc = load_scenario(three_sites_dict())
    u = sc.updated(
        {"workloads[0].placements[0].target.gpus": 80, "workloads[0].routing.policy": "lowest_price"}
    )
    assert u.workloads[0].target.gpus == 80 and u.workloads[0].routing.policy == "lowest_price"
    assert "target" not in sc.workloads[0].model_dump(exclude_unset=True)  # derived, not written back


def test_a_service_needs_a_target_or_placements() -> None:
    d = three_sites_dict()
    del d["workloads"][0]["placements"], d["workloads"][0]["routing"]
    assert "target is required" in _problems(d)["workloads[0]"]
