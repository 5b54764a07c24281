"""An inference service on three sites: routing policies, spill-over, energy per site, determinism
(gigawatt.engine.workloads.multisite; docs/models/inference.md §9)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict
from tests.multisite_case import SITES, USERS, three_sites_dict

import gigawatt
from gigawatt.engine.controller import FacilityController

NAMES = [s[0] for s in SITES]


def _shares(r: gigawatt.Result) -> np.ndarray:
    ts = r.timeseries
    return np.array([ts[f"chat@{n}:served_rps"].sum() for n in NAMES]) / ts["chat:demand_rps"].sum()


@pytest.fixture(scope="module")
def runs() -> dict[str, gigawatt.Result]:
    out = {}
    for policy in ("nearest", "lowest_latency", "lowest_price", "lowest_carbon", "weighted"):
        d = three_sites_dict(policy)
        if policy == "weighted":
            for p, w in zip(d["workloads"][0]["placements"], (0.5, 0.3, 0.2), strict=True):
                p["weight_frac"] = w
        out[policy] = gigawatt.simulate(d)
    return out


def test_nearest_sends_each_user_region_to_its_closest_site(runs: dict[str, gigawatt.Result]) -> None:
    # New York -> Virginia, San Francisco -> Oregon, London -> Frankfurt; capacity to spare everywhere
    assert_allclose(_shares(runs["nearest"]), [u["share_frac"] for u in USERS], rtol=1e-9, atol=1e-9)
    assert_allclose(runs["nearest"].summary()["chat:remote_share_frac"], 0.0, atol=1e-12)
    # the same hardware everywhere: the lowest latency is the nearest site
    assert_allclose(_shares(runs["lowest_latency"]), _shares(runs["nearest"]), rtol=1e-9, atol=1e-9)


def test_price_and_carbon_policies_pick_the_cheapest_and_cleanest_site(
    runs: dict[str, gigawatt.Result],
) -> None:
    assert_allclose(_shares(runs["lowest_price"]), [1.0, 0.0, 0.0], atol=1e-9)  # Virginia 60 USD/MWh
    assert_allclose(_shares(runs["lowest_carbon"]), [0.0, 1.0, 0.0], atol=1e-9)  # Oregon 120 gCO2/kWh
    # remote users pay the round trip: more network latency than nearest
    rtt = {k: float(r.timeseries["chat:network_rtt_s"].mean()) for k, r in runs.items()}
    assert rtt["lowest_price"] > rtt["nearest"] and rtt["lowest_carbon"] > rtt["nearest"]


def test_weighted_policy_splits_by_the_weights(runs: dict[str, gigawatt.Result]) -> None:
    assert_allclose(_shares(runs["weighted"]), [0.5, 0.3, 0.2], rtol=1e-9, atol=1e-9)


def test_energy_of_the_replicas_lands_in_the_site_that_serves(runs: dict[str, gigawatt.Result]) -> None:
    price, carbon = runs["lowest_price"].timeseries, runs["lowest_carbon"].timeseries
    assert price["virginia:it_power_mw"].sum() > carbon["virginia:it_power_mw"].sum()
    assert carbon["oregon:it_power_mw"].sum() > price["oregon:it_power_mw"].sum()
    for ts in (price, carbon):
        total = sum(ts[f"chat@{n}:gpu_power_mw"] for n in NAMES)
        assert_allclose(ts["chat:gpu_power_mw"], total, rtol=1e-12, atol=1e-12)
        assert_allclose(ts["chat@frankfurt:served_rps"], 0.0, atol=1e-12)


def test_served_plus_dropped_is_demand_for_every_policy(runs: dict[str, gigawatt.Result]) -> None:
    for r in runs.values():
        ts = r.timeseries
        assert_allclose(
            ts["chat:served_rps"] + ts["chat:dropped_rps"], ts["chat:demand_rps"], rtol=1e-12, atol=1e-9
        )
        routed = sum(ts[f"chat@{n}:demand_rps"] for n in NAMES)
        assert_allclose(routed + ts["chat:unrouted_rps"], ts["chat:demand_rps"], rtol=1e-12, atol=1e-9)


def test_service_latency_quantiles_are_those_of_all_its_requests(runs: dict[str, gigawatt.Result]) -> None:
    """The service's p50/p99 are quantiles of the mixture of its placements' requests (each user region with
    its own round trip), so they lie between the placements' own, and the p99 below the slowest placement's
    (which the service reported before, an upper bound) where several placements serve."""
    for policy in ("nearest", "weighted"):
        ts = runs[policy].timeseries
        for q in ("ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "tpot_p99_s"):
            per = np.stack([ts[f"chat@{n}:{q}"].to_numpy() for n in NAMES], axis=1)
            serving = np.stack([ts[f"chat@{n}:served_rps"].to_numpy() > 0 for n in NAMES], axis=1)
            lo = np.where(serving, per, np.inf).min(axis=1)
            hi = np.where(serving, per, -np.inf).max(axis=1)
            svc = ts[f"chat:{q}"].to_numpy()
            ok = serving.any(axis=1)
            assert np.all(svc[ok] >= lo[ok] * (1 - 1e-9)) and np.all(svc[ok] <= hi[ok] * (1 + 1e-9))
            if q == "ttft_p99_s":  # three sites serve at once: strictly below the slowest
                several = serving.sum(axis=1) > 1
                assert several.any() and np.all(svc[several] < hi[several])


def test_a_full_site_spills_over_to_the_next_choice() -> None:
    d = three_sites_dict("lowest_price", peak_rps=20.0, capacity_utilization_frac=0.4)
    for p in d["workloads"][0]["placements"]:
        p["target"]["gpus"] = 16  # four replicas per site
    r = gigawatt.simulate(d)
    s = _shares(r)
    assert s[0] > 0.3 and s[1] > 0.05  # Virginia full at the peak: spill-over to the next cheapest, Oregon
    assert s[1] > s[2]
    ts = r.timeseries
    peak = int(np.argmax(ts["chat:demand_rps"].to_numpy()))
    assert ts["chat@oregon:demand_rps"].iloc[peak] > 0
    night = int(np.argmin(ts["chat:demand_rps"].to_numpy()))
    assert_allclose(ts["chat@oregon:demand_rps"].iloc[night], 0.0, atol=1e-12)  # fits Virginia at night


def test_same_seed_same_numbers() -> None:
    d = three_sites_dict("nearest", outage=True)
    a, b = gigawatt.simulate(d), gigawatt.simulate(copy.deepcopy(d))
    cols = [c for c in a.timeseries.columns if c.startswith("chat")]
    assert_allclose(
        a.timeseries[cols].to_numpy(), b.timeseries[cols].to_numpy(), rtol=1e-12, atol=1e-12, equal_nan=True
    )


def test_one_placement_without_users_is_the_single_site_service() -> None:
    """Cross-check: the multi-site handler with one placement reproduces the single-target service."""
    d = small_scenario_dict(horizon_h=24)
    svc = {
        "kind": "inference",
        "name": "chat",
        "target": {"hall": "air", "gpus": 160},
        "model": "Llama-3-70B",
        "serving": {"tensor_parallel": 4},
        "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
        "demand": {"kind": "profile", "peak_rps": 25.0, "daily_trough_frac": 0.3, "burst_factor": 2.0},
    }
    d["workloads"] = [svc]
    one = copy.deepcopy(d)
    w = one["workloads"][0]
    w["placements"] = [{"target": w.pop("target"), "weight_frac": 1.0}]
    w["routing"] = {"policy": "weighted"}
    a, b = gigawatt.simulate(d), gigawatt.simulate(one)
    for c in ("served_rps", "dropped_rps", "replicas", "gpu_power_mw", "slo_attainment_frac", "ttft_p99_s"):
        assert_allclose(
            b.timeseries[f"chat:{c}"], a.timeseries[f"chat:{c}"], rtol=1e-9, atol=1e-12, equal_nan=True
        )
    assert_allclose(b.timeseries["it_power_mw"], a.timeseries["it_power_mw"], rtol=1e-9, atol=1e-12)
    assert_allclose(
        b.summary()["chat:slo_attainment_frac"], a.summary()["chat:slo_attainment_frac"], rtol=1e-9
    )


def test_lowest_latency_weighs_the_prefill_time_of_the_hardware() -> None:
    """Frankfurt on A100 (≈3x slower prefill than H100 for a 70B model): London's users are answered sooner
    from Virginia (≈110 ms more round trip, ≈250 ms less prefill), so lowest_latency differs from nearest."""
    d = three_sites_dict("lowest_latency")
    d["sites"][2]["halls"][0]["racks"][0]["server"]["accelerator"] = "A100-SXM"
    d["workloads"][0]["slo"]["ttft_s"] = 3.0  # the A100 p99 prompt prefills in 2.65 s
    r = gigawatt.simulate(d)
    assert_allclose(_shares(r), [0.8, 0.2, 0.0], rtol=1e-9, atol=1e-9)
    assert r.summary()["chat:remote_share_frac"] == pytest.approx(0.3, abs=1e-9)


def test_the_example_scenario_is_the_test_case() -> None:
    from pathlib import Path

    from gigawatt.checks.load import load_scenario

    path = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "multisite_inference.yaml"
    ex = load_scenario(path)
    case = load_scenario(three_sites_dict("nearest", outage=True, failover_delay_s=120))
    assert ex.workloads == case.workloads
    assert ex.sites == case.sites


def test_a_regional_outage_of_two_sites_sends_everything_to_the_third() -> None:
    d = three_sites_dict("nearest", failover_delay_s=0.0)
    for s in d["sites"][:2]:  # Virginia and Oregon share a (hypothetical) grid region
        s["grid"].update(import_capacity_mw=50.0, region="us-grid")
    d["grid_regions"] = [
        {
            "name": "us-grid",
            "curtailment_windows": [
                {"start": "2026-07-01T10:00:00", "end": "2026-07-01T12:00:00", "cap_frac": 0.0}
            ],
        }
    ]
    r = gigawatt.simulate(d)
    ts = r.timeseries
    win = slice(
        ts.index.get_loc(pd.Timestamp("2026-07-01T10:00:00")),
        ts.index.get_loc(pd.Timestamp("2026-07-01T12:00:00")),
    )
    assert_allclose(ts["chat@frankfurt:demand_rps"].iloc[win], ts["chat:demand_rps"].iloc[win], rtol=1e-12)
    assert_allclose(ts["chat:dropped_rps"].iloc[win], 0.0, atol=1e-9)  # no delay, Frankfurt has room
    assert r.summary()["chat:failover_events"] == 2
    assert set(r.events.loc[r.events["kind"] == "failover", "placement"]) == {"virginia", "oregon"}


def test_power_capping_below_the_threshold_fails_over_like_a_dark_hall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Capping that leaves under ``failover_below_frac`` of Virginia's hall running (set directly on the
    controller's record, 10:00-11:00) counts as down: a failover event with that cause, nothing routed there
    after the delay, and the capped hall's throughput in force for what is served there before."""
    from gigawatt.engine.workloads.multisite import MultiSiteInferenceHandler

    original = MultiSiteInferenceHandler.before_finalize

    def capped(self: MultiSiteInferenceHandler) -> None:
        ctl = self.ctx.extras["controller"]
        ctl.running_frac_hall[120:132, int(self.halls[0])] = 0.3  # 10:00-11:00 on 5-minute steps
        original(self)

    monkeypatch.setattr(MultiSiteInferenceHandler, "before_finalize", capped)
    r = gigawatt.simulate(three_sites_dict("nearest", failover_delay_s=0.0))
    ev = r.events[r.events["kind"] == "failover"]
    assert list(ev["cause"]) == ["power capping below failover_below_frac"]
    assert_allclose(ev["duration_s"].iloc[0], 3600.0, rtol=1e-12)
    ts = r.timeseries
    assert_allclose(ts["chat@virginia:demand_rps"].iloc[120:133], 0.0, atol=1e-12)  # + one step of recovery
    assert (ts["chat@oregon:demand_rps"].iloc[120:133] > 0.5 * ts["chat:demand_rps"].iloc[120:133]).all()


def test_a_placement_not_yet_commissioned_gets_no_traffic_and_no_failover() -> None:
    d = three_sites_dict("nearest")
    d["sites"][2]["halls"][0]["racks"][0]["commission_date"] = "2026-07-01T12:00:00"  # Frankfurt at noon
    r = gigawatt.simulate(d)
    ts = r.timeseries
    noon = int(ts.index.get_loc(pd.Timestamp("2026-07-01T12:00:00")))
    assert_allclose(ts["chat@frankfurt:demand_rps"].iloc[:noon], 0.0, atol=1e-12)
    assert (ts["chat@frankfurt:demand_rps"].iloc[noon + 1 :] > 0).all()
    assert r.summary()["chat:failover_events"] == 0


def test_lowest_price_follows_a_time_of_use_tariff_step_by_step() -> None:
    """Virginia's peak price 14:00-20:00 local (UTC-5: 19:00-01:00 UTC) sends the service to Oregon then."""
    d = three_sites_dict("lowest_price")
    d["sites"][0]["grid"]["tariff"] = {
        "kind": "time_of_use",
        "base_price_usd_per_mwh": 60.0,
        "periods": [{"price_usd_per_mwh": 200.0, "start_hour": 14, "end_hour": 20}],
    }
    r = gigawatt.simulate(d)
    ts = r.timeseries
    hours = ts.index.hour
    peak = (hours >= 19) | (hours < 1)
    assert_allclose(ts.loc[peak, "chat@virginia:demand_rps"], 0.0, atol=1e-12)
    assert_allclose(ts.loc[peak, "chat@oregon:demand_rps"], ts.loc[peak, "chat:demand_rps"], rtol=1e-12)
    assert_allclose(ts.loc[~peak, "chat@virginia:demand_rps"], ts.loc[~peak, "chat:demand_rps"], rtol=1e-12)


def test_a_multisite_service_next_to_a_training_pool_lets_the_controller_sleep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service placed on several sites (profiles only) beside one training pool: the controller sleeps
    through decided blocks (the pool's engine visits the boundaries), and the run is the one of a controller
    waking at every block."""
    d = three_sites_dict()
    d["workloads"].append(
        {
            "kind": "training",
            "name": "research",
            "target": {"hall": "oregon/air", "gpus": 160},
            "jobs": [
                {"name": f"j{i}", "gpus": 32, "duration_h": 3.0, "submit_h": 1.5 * i} for i in range(10)
            ],
            "reliability": {"failures": "none"},
        }
    )
    visits: list[float] = []
    orig = FacilityController._visit

    def counted(self: FacilityController, t_next_s: float) -> bool:
        visits.append(t_next_s)
        return orig(self, t_next_s)

    monkeypatch.setattr(FacilityController, "_visit", counted)
    asleep = gigawatt.simulate(d)
    assert visits
    monkeypatch.setattr(FacilityController, "sleep_between_changes", False)
    awake = gigawatt.simulate(d)
    pd.testing.assert_frame_equal(asleep.timeseries, awake.timeseries, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(asleep.jobs, awake.jobs, rtol=1e-12, atol=1e-12)
