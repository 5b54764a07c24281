"""Checks of workload targets: training pools across sites and the links they need."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import small_scenario_dict

from gigawatt.checks.targets import target_problems
from gigawatt.scenario.root import Scenario


def _scenario(**workload: Any) -> Scenario:
    """Two sites with one GB200 hall each (``site-a/liquid``, ``site-b/liquid-b``) and one training pool."""
    d = small_scenario_dict()
    d["sites"][0]["halls"] = d["sites"][0]["halls"][:1]
    b = copy.deepcopy(d["sites"][0])
    b["name"] = "site-b"
    b["halls"][0]["name"] = "liquid-b"
    d["sites"].append(b)
    wl = {"kind": "training", "name": "pre", "jobs": [{"name": "j", "gpus": 72, "duration_h": 1}]}
    wl.update(workload)
    d["workloads"] = [wl]
    return Scenario.model_validate(d)  # fields only: the checks are what is tested


def test_pool_over_sites_needs_cross_site() -> None:
    probs = dict(target_problems(_scenario(target={"sites": ["site-a", "site-b"]})))
    msg = probs["workloads[0].target"]
    assert "must be in one site" in msg and "['site-a', 'site-b']" in msg and "add cross_site" in msg
    ok = _scenario(target={"sites": ["site-a", "site-b"]}, cross_site={"bandwidth_gbit_per_s": 100})
    assert target_problems(ok) == []


def test_links_without_use_are_reported_with_their_fix() -> None:
    probs = dict(
        target_problems(
            _scenario(
                target={"hall": "site-a/liquid"},
                cross_site={"bandwidth_gbit_per_s": 100},
                campus_link={"bandwidth_gbit_per_s": 800},
            )
        )
    )
    assert "remove cross_site" in probs["workloads[0].cross_site"]
    assert "remove campus_link" in probs["workloads[0].campus_link"]
