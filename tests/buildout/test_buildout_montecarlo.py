"""The build-out Monte Carlo: network resolution, seeding, answers per phase."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from tests.buildout._plans import tri, two_hall_plan

from gigawatt.buildout import load_buildout, run_buildout
from gigawatt.scenario.buildout import BuildoutPlan


def test_fixed_network_hand_computed() -> None:
    r = run_buildout(load_buildout(two_hall_plan()))
    # grid: -20 + 100 = 80; hall-a: transformer 10+60=70, gpus 50+20=70, commissioning max(70,70)+5 = 75,
    # online max(75, grid 80) = 80; hall-b gpus start max(0, hall-a/gpus 70) + 30 = 100, online max(100, 80)
    assert_allclose(r.online_week[0], [80.0, 80.0, 100.0], rtol=0, atol=1e-12)
    assert_allclose(r.online_week.std(axis=0), 0.0, rtol=0, atol=1e-12)
    q = r.online_quantiles()
    assert q.loc["hall-a", "p_on_time_frac"] == pytest.approx(1.0, abs=1e-12)
    assert q.loc["hall-a", "online_p50_date"] == pd.Timestamp("2026-01-05").date() + pd.Timedelta(weeks=80)
    crit = r.criticality()
    assert crit.loc["grid/interconnection", "hall-a"] == pytest.approx(1.0, abs=1e-12)
    assert crit.loc["hall-a/transformer", "hall-a"] == pytest.approx(0.0, abs=1e-12)
    assert crit.loc["hall-a/gpus", "hall-b"] == pytest.approx(1.0, abs=1e-12)
    assert crit.loc["hall-b/gpus", "hall-b"] == pytest.approx(1.0, abs=1e-12)
    drv = r.criticality(driving=True)
    assert drv.loc["hall-a/gpus", "hall-b"] == pytest.approx(1.0, abs=1e-12)  # head of hall-b's path
    assert drv.loc["hall-b/gpus", "hall-b"] == pytest.approx(0.0, abs=1e-12)


def test_capacity_and_decommission() -> None:
    r = run_buildout(load_buildout(two_hall_plan()))
    cap = r.capacity([79.0, 80.0, 100.0, 299.0, 300.0])
    assert_allclose(cap[0], [0, 1000, 1500, 1500, 1000], rtol=0, atol=1e-9)
    assert_allclose(r.capacity([100.0], "it_power_mw")[0], [3.0], rtol=0, atol=1e-12)
    assert r.p_capacity_by(1500, 100.0) == pytest.approx(1.0, abs=1e-12)
    assert r.p_capacity_by(1500, "2027-01-01") == pytest.approx(0.0, abs=1e-12)
    p = r.p_online_by([79.0, 80.0])
    assert_allclose(p["hall-a"].to_numpy(), [0.0, 1.0], rtol=0, atol=0)


def test_seeded_and_reproducible() -> None:
    d = two_hall_plan(draws=500)
    d["phases"][1]["items"][0]["lead_time"] = tri(40, 60, 90)
    a, b = run_buildout(load_buildout(d)), run_buildout(load_buildout(d))
    assert_allclose(a.online_week, b.online_week, rtol=0, atol=0)
    c = run_buildout(load_buildout(d), seed=4)
    assert not np.allclose(a.lead_weeks, c.lead_weeks)


def test_item_streams_do_not_depend_on_other_items() -> None:
    """Adding an item or moving an order date leaves every other item's draws unchanged."""
    d = two_hall_plan(draws=300)
    d["phases"][1]["items"][0]["lead_time"] = tri(40, 60, 90)
    a = run_buildout(load_buildout(d))
    d2 = two_hall_plan(draws=300)
    d2["phases"][1]["items"][0]["lead_time"] = tri(40, 60, 90)
    d2["phases"][1]["items"].insert(0, {"name": "switchgear", "lead_time": tri(40, 50, 65)})
    d2["phases"][1]["items"][1]["order_week"] = 0
    b = run_buildout(load_buildout(d2))
    ia, ib = a.item_names.index("hall-a/transformer"), b.item_names.index("hall-a/transformer")
    assert_allclose(a.lead_weeks[:, ia], b.lead_weeks[:, ib], rtol=0, atol=0)


def test_online_is_monotone_in_order_dates() -> None:
    plan = load_buildout("examples/buildout/campus_1gw.yaml")
    a = run_buildout(plan, draws=2000)
    later = plan.updated({"phases[hall-3].items[gpus].order_week": 200.0})
    b = run_buildout(later, draws=2000)
    k = a.phase_names.index("hall-3")
    assert np.all(b.online_week[:, k] >= a.online_week[:, k] - 1e-9)
    assert np.any(b.online_week[:, k] > a.online_week[:, k])


def test_scenario_updates_from_one_draw() -> None:
    d = two_hall_plan()
    d["phases"][1]["scenario_path"] = "sites[a].halls[hall-a].commission_date"
    r = run_buildout(load_buildout(d))
    ups = r.scenario_updates(0)
    assert ups == {"sites[a].halls[hall-a].commission_date": "2027-07-19"}  # 2026-01-05 + 80 weeks
    assert r.scenario_updates(0, {"hall-b": "x.y"}) == {"x.y": "2027-12-06"}
    assert set(r.draw_online_dates(0)) == {"grid", "hall-a", "hall-b"}


def test_lead_weeks_can_be_replayed() -> None:
    plan = BuildoutPlan.model_validate(two_hall_plan())
    lw = np.tile([[100.0, 60.0, 20.0, 5.0, 30.0]], (4, 1))
    lw[1, 0] = 130.0  # a late grid in draw 1
    r = run_buildout(plan, lead_weeks=lw)
    assert_allclose(r.online_week[:, 1], [80.0, 110.0, 80.0, 80.0], rtol=0, atol=1e-12)
    assert r.criticality(late_only=True).loc["grid/interconnection", "hall-a"] == pytest.approx(
        1.0, abs=1e-12
    )


def test_summary_names_critical_item() -> None:
    r = run_buildout(load_buildout("examples/buildout/campus_1gw.yaml"), draws=2000)
    s = r.summary()
    assert s.loc["hall-1", "driving_item"] == "turbines/gas-turbines"
    assert s.loc["hall-3", "driving_item"] == "grid/interconnection"
    assert s.loc["grid", "driving_item"] == "grid/interconnection"  # not the energisation step that closes it
    drv = r.criticality(driving=True)
    assert_allclose(drv["hall-1"].sum(), 1.0, rtol=0, atol=1e-12)  # one driving item per draw
    assert (s["online_p10_week"] <= s["online_p90_week"]).all()


def test_market_correlation_keeps_marginals_and_seeds() -> None:
    d = two_hall_plan(draws=20_000, lead_time_correlation=0.5)
    d["phases"][1]["items"][0]["lead_time"] = tri(40, 60, 90)
    d["phases"][1]["items"][1]["lead_time"] = "gpu-servers"
    plan = load_buildout(d)
    a, b = run_buildout(plan), run_buildout(plan)
    assert_allclose(a.lead_weeks, b.lead_weeks, rtol=0, atol=0)
    from gigawatt.buildout import lead_time

    i = a.item_names.index("hall-a/transformer")
    x = np.sort(a.lead_weeks[:, i])
    grid = np.linspace(41, 89, 49)
    emp = np.searchsorted(x, grid, side="right") / x.size
    dist = lead_time(plan.phases[1].items[0].lead_time)
    assert np.max(np.abs(emp - dist.cdf(grid))) < 0.0138  # DKW 99.9 % band, n = 20,000
    j = a.item_names.index("hall-a/gpus")
    assert np.corrcoef(a.lead_weeks[:, i], a.lead_weeks[:, j])[0, 1] > 0.3
    indep = run_buildout(plan.updated({"lead_time_correlation": 0.0}))
    assert abs(np.corrcoef(indep.lead_weeks[:, i], indep.lead_weeks[:, j])[0, 1]) < 0.05


def test_tidy_table_and_dates() -> None:
    r = run_buildout(load_buildout(two_hall_plan(draws=5)))
    df = r.to_frame()
    assert len(df) == 15 and list(df["phase"][:3]) == ["grid", "hall-a", "hall-b"]
    assert df.loc[df["phase"] == "hall-a", "on_time"].all()  # online week 80 <= target 90
    assert not df.loc[df["phase"] == "hall-b", "on_time"].any()  # no target
    p = r.p_online_by(["2027-07-18", "2027-07-19"])
    assert isinstance(p.index, pd.DatetimeIndex)
    assert_allclose(p["hall-a"].to_numpy(), [0.0, 1.0], rtol=0, atol=0)  # online 2026-01-05 + 80 weeks
