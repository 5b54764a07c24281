"""The ``kind: training`` scenario model: validation errors and round trip."""

from __future__ import annotations

import pytest
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.checks.load import load_scenario
from gigawatt.scenario.training import TrainingWorkload


def _training(**kw):
    d = {
        "kind": "training",
        "name": "pre",
        "target": {"hall": "liquid"},
        "jobs": [{"name": "a", "gpus": 144, "model_params": 8e9, "tokens": 1e11}],
    }
    d.update(kw)
    return d


def _problems(wl) -> dict[str, str]:
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(small_scenario_dict(workloads=[wl]))
    return dict(info.value.problems)


def test_training_workload_loads_and_round_trips() -> None:
    sc = load_scenario(small_scenario_dict(workloads=[_training(mix={"jobs_per_day": 5})]))
    wl = sc.workloads[0]
    assert isinstance(wl, TrainingWorkload)
    assert wl.scheduler.policy == "easy_backfill" and wl.reliability.failures == "llama3"
    again = load_scenario(sc.model_dump(mode="json"))
    assert again.model_dump() == sc.model_dump()


def test_reference_has_a_training_mix() -> None:
    sc = load_scenario("reference")
    tr = [w for w in sc.workloads if w.kind == "training"]
    assert tr and tr[0].mix is not None and max(j.gpus for j in tr[0].jobs) >= 16384


@pytest.mark.parametrize(
    ("job", "fragment"),
    [
        ({"name": "a", "gpus": 8}, "exactly one way"),
        ({"name": "a", "gpus": 8, "flops": 1e20, "duration_h": 3}, "exactly one way"),
        ({"name": "a", "gpus": 8, "tokens": 1e9}, "needs model_params"),
        ({"name": "a", "gpus": 8, "duration_h": 3, "submit_h": 5, "deadline_h": 4}, "after submit_h"),
        ({"name": "a", "gpus": 0, "duration_h": 3}, "must be > 0"),
        ({"name": "a", "gpus": 8, "duration_h": 3, "mfu_frac": 1.5}, "must be ≤ 1"),
    ],
)
def test_bad_jobs(job, fragment) -> None:
    probs = _problems(_training(jobs=[job]))
    assert any(fragment in m for m in probs.values()), probs


def test_job_larger_than_pool_and_unknown_field() -> None:
    probs = _problems(
        _training(target={"hall": "liquid", "gpus": 144}, jobs=[{"name": "a", "gpus": 216, "duration_h": 1}])
    )
    assert "larger than its pool" in probs["workloads[0].jobs[0].gpus"]
    probs = _problems(_training(scheduler={"policy": "sjf"}))
    assert any("policy" in p for p in probs)
    probs = _problems(_training(reliability={"mtbf_h": 3}))
    assert any("mtbf_h" in p for p in probs)


def test_needs_jobs_or_mix_and_unique_names() -> None:
    probs = _problems(_training(jobs=[]))
    assert any("needs jobs, a mix" in m for m in probs.values())
    j = {"name": "a", "gpus": 8, "duration_h": 1}
    probs = _problems(_training(jobs=[j, j]))
    assert any("unique" in m for m in probs.values())
    probs = _problems(_training(mix={"gpu_counts": [8, 16]}))
    assert any("gpu_count_probs" in m for m in probs.values())


def test_training_claims_gpus_exclusively() -> None:
    d = small_scenario_dict()
    d["workloads"].append(_training())  # the utilisation workload "steady" already claims the liquid hall
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(d)
    assert any("claim" in m for _, m in info.value.problems)


def test_absolute_failure_rates_validation() -> None:
    both = _problems(
        _training(reliability={"failures_per_1000_node_days": 5.0, "failures_per_gpu_day": 1e-3})
    )
    assert any("not both" in m for m in both.values())
    off = _problems(_training(reliability={"failures": "none", "planned_per_gpu_day": 1e-4}))
    assert any("failures: none" in m for m in off.values())
    no_planned = _problems(
        _training(reliability={"planned_maintenance": False, "planned_per_1000_node_days": 0.5})
    )
    assert any("planned_maintenance" in m for m in no_planned.values())
    sc = load_scenario(
        small_scenario_dict(workloads=[_training(reliability={"failures_per_1000_node_days": 6.5})])
    )
    assert sc.workloads[0].reliability.failures_per_1000_node_days == pytest.approx(6.5, rel=1e-12)


def test_pool_target_over_halls_validation() -> None:
    import copy

    d = small_scenario_dict()
    other = copy.deepcopy(d["sites"][0])
    other["name"] = "site-b"
    for h in other["halls"]:
        h["name"] += "-b"
    d["sites"].append(other)
    d["workloads"] = [_training(target={"halls": ["site-a/air", "site-b/air-b"]})]
    with pytest.raises(gw.ScenarioError, match="one site"):
        load_scenario(d)
    d["workloads"] = [_training(target={"halls": ["air", "air"]})]
    with pytest.raises(gw.ScenarioError, match="must not repeat"):
        load_scenario(d)
    d["workloads"] = [_training(target={"site": "site-b", "gpus": 100_000})]
    with pytest.raises(gw.ScenarioError, match="larger than its target"):
        load_scenario(d)
    d["workloads"] = [_training(target={"halls": ["site-a/air", "site-a/liquid"]})]
    with pytest.raises(gw.ScenarioError, match="mixes accelerators"):  # H100 and GB200
        load_scenario(d)


def test_spot_needs_exactly_one_rate() -> None:
    probs = _problems(_training(reliability={"spot": {"notice_s": 30}}))
    assert any("reclaim rate exactly one way" in m for m in probs.values())
    probs = _problems(
        _training(reliability={"spot": {"reclaims_per_gpu_hour": 1e-3, "reclaims_per_node_day": 0.2}})
    )
    assert any("reclaim rate exactly one way" in m for m in probs.values())
    probs = _problems(_training(reliability={"spot": {"reclaims_per_gpu_hour": -1}}))
    assert any("spot.reclaims_per_gpu_hour" in p for p in probs)


def _two_site_dict(workload: dict, liquid_only: bool = False) -> dict:
    import copy

    d = small_scenario_dict()
    if liquid_only:
        d["sites"][0]["halls"] = d["sites"][0]["halls"][:1]
    b = copy.deepcopy(d["sites"][0])
    b["name"] = "site-b"
    b["location"] = {"latitude_deg": 41.9, "longitude_deg": -87.6, "country_code": "US"}
    for h in b["halls"]:
        h["name"] += "-b"
    d["sites"].append(b)
    d["workloads"] = [workload]
    return d


def test_pool_across_sites_loads_with_a_cross_site_link() -> None:
    wl = _training(
        target={"halls": ["site-a/liquid", "site-b/liquid-b"]},
        cross_site={"bandwidth_gbit_per_s": 400, "method": "diloco", "compression": 4},
        campus_link={"bandwidth_gbit_per_s_per_gpu": 200},
    )
    sc = load_scenario(_two_site_dict(wl))
    x = sc.workloads[0].cross_site
    assert x.method == "diloco" and x.inner_steps is None and x.compression == pytest.approx(4.0)
    assert x.latency_ms is None and x.route_factor == pytest.approx(2.1)  # latency from the distance
    by_sites = load_scenario(
        _two_site_dict(
            _training(target={"sites": ["site-a", "site-b"], "gpus": 288}, cross_site=wl["cross_site"]),
            liquid_only=True,
        )
    )
    assert by_sites.workloads[0].target.sites == ["site-a", "site-b"]


def test_pool_across_sites_without_a_link_names_the_fix() -> None:
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(_two_site_dict(_training(target={"halls": ["site-a/liquid", "site-b/liquid-b"]})))
    msg = dict(info.value.problems)["workloads[0].target"]
    assert "must be in one site" in msg and "cross_site" in msg and "bandwidth_gbit_per_s" in msg


@pytest.mark.parametrize(
    ("extra", "path", "fragment"),
    [
        (
            {"cross_site": {"method": "diloco"}},
            "workloads[0].cross_site",
            "give the cross-site link a bandwidth",
        ),
        (
            {"cross_site": {"bandwidth_gbit_per_s": 10, "inner_steps": 50}},
            "workloads[0].cross_site",
            "inner_steps is for method: diloco",
        ),
        ({"cross_site": {"bandwidth_gbit_per_s": 10, "compression": 0.5}}, "cross_site.compression", "1.0"),
        ({"cross_site": {"bandwidth_gbit_per_s": -1}}, "cross_site.bandwidth_gbit_per_s", "> 0"),
        ({"cross_site": {"bandwidth_gbit_per_s": 10, "overlap_frac": 2}}, "cross_site.overlap_frac", "1"),
        ({"cross_site": {"bandwidth_gbit_per_s": 10, "method": "gossip"}}, "cross_site.method", "diloco"),
        (
            {"campus_link": {"bandwidth_gbit_per_s_per_gpu": None}},
            "workloads[0].campus_link",
            "give the campus link a bandwidth",
        ),
        ({"campus_link": {"latency_ms": -1}}, "campus_link.latency_ms", "0"),
    ],
)
def test_bad_links(extra, path, fragment) -> None:
    wl = _training(target={"halls": ["site-a/liquid", "site-b/liquid-b"]}, **extra)
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(_two_site_dict(wl))
    probs = dict(info.value.problems)
    assert any(path in p and fragment in m for p, m in probs.items()), probs


def test_links_need_a_pool_that_uses_them() -> None:
    probs = _problems(_training(cross_site={"bandwidth_gbit_per_s": 10}))
    assert "lies in one site" in probs["workloads[0].cross_site"]
    probs = _problems(_training(campus_link={}))
    assert "the pool is one hall" in probs["workloads[0].campus_link"]


def test_pool_target_three_ways() -> None:
    probs = _problems(_training(target={"site": "site-a", "sites": ["site-a"]}))
    assert any("one of the three" in m for m in probs.values())
    probs = _problems(_training(target={"sites": ["site-a", "site-a"]}))
    assert any("sites must not repeat" in m for m in probs.values())
    probs = _problems(_training(target={"sites": ["site-x"]}))
    assert any("unknown site 'site-x'" in m for m in probs.values())
