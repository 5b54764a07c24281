"""Correlated outages: stochastic grid events drawn once per grid region (``sites[].grid.region``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

import gigawatt
from gigawatt.engine.clock import Clock
from gigawatt.engine.energy import SupplyStage, regional_curtailment_events
from gigawatt.engine.weather import site_weather
from gigawatt.rng import stream_rng
from gigawatt.scenario.site import Site

CLOCK = Clock(pd.Timestamp("2026-01-01"), 3600, 24 * 365)


def _site(name: str, region: str | None, cap_frac: float = 0.0, rate: float = 20.0) -> Site:
    d = gigawatt.load_scenario("reference").sites[0].model_dump(mode="json")
    d["name"] = name
    d["grid"].update(
        import_capacity_mw=100.0,
        region=region,
        stochastic_curtailment={"rate_per_year": rate, "mean_duration_h": 3.0, "cap_frac": cap_frac},
    )
    return Site.model_validate(d)


def _stage(sites: list[Site], seed: int) -> SupplyStage:
    weather = [site_weather(s, CLOCK) for s in sites]
    return SupplyStage(
        sites,
        CLOCK,
        weather,
        lambda name: stream_rng(seed, "energy", name),
        rng_for_region=lambda region: stream_rng(seed, "grid", region, "curtailment"),
    )


def _starts(stage: SupplyStage, i: int) -> np.ndarray:
    return stage.sites[i].events["time"].to_numpy()


def test_sites_of_one_region_share_event_times_others_draw_their_own():
    sites = [_site("a", "ERCOT"), _site("b", "ERCOT", cap_frac=0.5), _site("c", "PJM"), _site("d", None)]
    st = _stage(sites, seed=3)
    a, b, c, d = (_starts(st, i) for i in range(4))
    assert len(a) > 5  # 20 events a year expected
    assert np.array_equal(a, b)
    assert_allclose(st.sites[0].events["duration_s"], st.sites[1].events["duration_s"], rtol=1e-12)
    # each site keeps its own cap fraction: a is disconnected, b keeps half its import cap
    assert_allclose(st.sites[0].events["cap_frac"], 0.0, atol=1e-12)
    assert_allclose(st.sites[1].events["cap_frac"], 0.5, rtol=1e-12)
    hit = st.sites[0].grid_cap_mw < 100.0 - 1e-9
    assert hit.any()
    assert np.array_equal(hit, st.sites[1].grid_cap_mw < 100.0 - 1e-9)
    assert_allclose(st.sites[1].grid_cap_mw[hit], 100.0 - 50.0 * (1 - st.sites[0].grid_cap_mw[hit] / 100.0))
    # another region and a site without a region: independent draws
    assert not np.array_equal(a[: min(len(a), len(c))], c[: min(len(a), len(c))])
    assert not np.array_equal(a[: min(len(a), len(d))], d[: min(len(a), len(d))])
    assert "grid region ERCOT" in st.sites[0].events["cause"].iloc[0]


def test_regional_draw_is_deterministic_and_independent_of_site_order_and_names():
    sites = [_site("a", "ERCOT"), _site("b", "ERCOT")]
    one = _stage(sites, seed=11)
    again = _stage(list(reversed(sites)), seed=11)
    assert np.array_equal(_starts(one, 0), _starts(again, 0))
    alone = _stage([_site("zz", "ERCOT")], seed=11)  # the stream is named by the region, not the site
    assert np.array_equal(_starts(one, 0), _starts(alone, 0))
    other = _stage(sites, seed=12)
    assert not np.array_equal(_starts(one, 0)[:3], _starts(other, 0)[:3])


def test_region_statistics_come_from_the_region_and_sites_without_curtailment_are_spared():
    ev = regional_curtailment_events(
        [_site("a", "R", rate=0.0), _site("b", "R2", rate=50.0)],
        CLOCK,
        lambda region: stream_rng(5, "grid", region, "curtailment"),
    )
    assert ev["R"] == [] and len(ev["R2"]) > 20
    plain = _site("c", "R2").model_copy(update={"grid": _site("c", "R2").grid.model_copy(
        update={"stochastic_curtailment": None})})  # fmt: skip
    st = _stage([_site("b", "R2", rate=50.0), plain], seed=5)
    assert len(st.sites[1].events) == 0
    assert_allclose(st.sites[1].grid_cap_mw, 100.0, rtol=1e-12)


def test_scheduled_region_windows_apply_to_every_site_of_the_region():
    from gigawatt.scenario.energy import CurtailmentWindow

    w = CurtailmentWindow(start="2026-03-01T10:00:00", end="2026-03-01T16:00:00", cap_frac=0.25)
    sites = [_site("a", "ERCOT", rate=0.0), _site("b", "ERCOT", rate=0.0), _site("c", "PJM", rate=0.0)]
    st = SupplyStage(
        sites,
        CLOCK,
        [site_weather(s, CLOCK) for s in sites],
        lambda name: stream_rng(0, "energy", name),
        region_windows={"ERCOT": [w]},
    )
    t = CLOCK.times
    inside = (t >= "2026-03-01 10:00") & (t < "2026-03-01 16:00")
    assert inside.sum() == 6
    for i in (0, 1):
        assert_allclose(st.sites[i].grid_cap_mw[inside], 25.0, rtol=1e-12)
        assert_allclose(st.sites[i].grid_cap_mw[~inside], 100.0, rtol=1e-12)
        assert "grid region ERCOT" in st.sites[i].events["cause"].iloc[0]
    assert_allclose(st.sites[2].grid_cap_mw, 100.0, rtol=1e-12)
    assert len(st.sites[2].events) == 0


def test_simulate_wires_region_windows_and_stochastic_events():
    import copy

    from tests.conftest import small_scenario_dict

    d = small_scenario_dict(horizon_h=24)
    b = copy.deepcopy(d["sites"][0])
    b["name"] = "site-b"
    d["sites"].append(b)
    for s in d["sites"]:
        s["grid"].update(import_capacity_mw=5.0, region="ERCOT")
    d["grid_regions"] = [
        {
            "name": "ERCOT",
            "curtailment_windows": [{"start": "2026-07-01T10:00:00", "end": "2026-07-01T12:00:00"}],
        }
    ]
    d["workloads"][0]["target"] = {"hall": "site-a/liquid"}
    d["workloads"][1]["target"] = {"hall": "site-b/air", "gpus": 160}
    ts = gigawatt.simulate(d).timeseries
    inside = (ts.index >= "2026-07-01 10:00") & (ts.index < "2026-07-01 12:00")
    for s in ("site-a", "site-b"):
        assert_allclose(ts.loc[inside, f"{s}:grid_import_mw"], 0.0, atol=1e-9)
        assert (ts.loc[~inside, f"{s}:grid_import_mw"] > 0.1).all()
