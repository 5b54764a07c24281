"""A scenario carrying its build-out plan: the Monte Carlo of it, and the scenario of one outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from tests.buildout._plans import HALL_A_TARGET, HALL_B_TARGET, fleet_with_plan

import gigawatt as gw
from gigawatt.buildout import run_buildout, with_buildout


@pytest.fixture(scope="module")
def sc() -> gw.Scenario:
    return gw.load_scenario(fleet_with_plan())


def _day(week: float) -> pd.Timestamp:
    return (pd.Timestamp("2026-01-05") + pd.Timedelta(days=7 * float(week))).ceil("D")


def _dates(s: gw.Scenario) -> dict[str, object]:
    hall_a, hall_b = s.sites[0].halls
    racks = {rg.name: rg for rg in hall_b.racks}
    return {
        "hall-a": hall_a.commission_date,
        "new": racks["old-refresh1"].commission_date,
        "old-off": racks["old"].decommission_date,
        "keep": racks["keep"].commission_date,
    }


def test_run_buildout_takes_a_scenario(sc: gw.Scenario) -> None:
    res = run_buildout(sc)
    same = run_buildout(sc.buildout)
    assert res.scenario is sc and same.scenario is None
    assert_allclose(res.online_week, same.online_week, rtol=0, atol=0)
    ups = res.scenario_updates(5)
    k = res.phase_names.index("hall-a")
    assert ups == {
        "sites[campus].halls[hall-a].commission_date": _day(res.online_week[5, k]).date().isoformat(),
        "sites[campus].halls[hall-b].racks[old-refresh1].commission_date": _day(res.online_week[5, k + 1])
        .date()
        .isoformat(),
    }
    med = res.scenario_updates(quantile=0.5)
    q = np.quantile(res.online_week[:, k], 0.5)
    assert med["sites[campus].halls[hall-a].commission_date"] == _day(q).date().isoformat()
    with pytest.raises(ValueError, match="one of draw"):
        res.scenario_updates()
    with pytest.raises(IndexError, match="400 draws"):
        res.scenario_updates(400)
    d = fleet_with_plan()
    del d["buildout"]
    with pytest.raises(gw.ScenarioError, match="no build-out plan"):
        run_buildout(gw.load_scenario(d))


def test_one_draw_dates_the_fleet_and_retires_what_a_refresh_replaces(sc: gw.Scenario) -> None:
    res = run_buildout(sc)
    for i in (0, 7):
        out = sc.with_buildout(draw=i)
        got = _dates(out)
        assert pd.Timestamp(got["hall-a"]) == _day(res.online_week[i, 1])
        assert pd.Timestamp(got["new"]) == _day(res.online_week[i, 2])
        assert got["old-off"] == got["new"]  # the refreshed group leaves as its replacement arrives
        assert got["keep"] is None
        assert out.buildout is None and f"draw {i}" in out.description
        assert out == sc.with_buildout(draw=i)  # seeded: the same draw every time


def test_quantile_outcomes(sc: gw.Scenario) -> None:
    res = run_buildout(sc)
    p90 = sc.with_buildout("p90")
    assert pd.Timestamp(_dates(p90)["hall-a"]) == _day(np.quantile(res.online_week[:, 1], 0.9))
    assert _dates(sc.with_buildout("p50")) == _dates(sc.with_buildout(0.5))
    mean = sc.with_buildout("mean")
    assert pd.Timestamp(_dates(mean)["new"]) == _day(res.online_week[:, 2].mean())
    # a later quantile never has a phase earlier
    p10 = _dates(sc.with_buildout("p10"))
    assert all(p10[k] <= _dates(p90)[k] for k in ("hall-a", "new"))
    # fewer draws, another seed: another answer, reproducibly
    assert sc.with_buildout("p90", draws=50, seed=1) == with_buildout(sc, "p90", draws=50, seed=1)


def test_target_outcome_is_what_the_scenario_holds(sc: gw.Scenario) -> None:
    t = sc.with_buildout("target")
    assert _dates(t) == _dates(sc)
    assert str(_dates(t)["hall-a"].date()) == HALL_A_TARGET and str(_dates(t)["new"].date()) == HALL_B_TARGET
    assert t.buildout is None


def test_bad_outcomes(sc: gw.Scenario) -> None:
    with pytest.raises(ValueError, match="give one outcome"):
        sc.with_buildout()
    with pytest.raises(ValueError, match="give one outcome"):
        sc.with_buildout("p50", draw=1)
    with pytest.raises(ValueError, match="unknown outcome 'p500x'"):
        sc.with_buildout("p500x")
    with pytest.raises(ValueError, match="within"):
        sc.with_buildout(1.5)
    d = fleet_with_plan()
    del d["buildout"]
    with pytest.raises(gw.ScenarioError, match="no build-out plan"):
        gw.load_scenario(d).with_buildout("p50")


def test_simulate_uses_the_target_dates_and_an_outcome_its_own(sc: gw.Scenario) -> None:
    on = pd.Timestamp(HALL_A_TARGET)
    ts = gw.simulate(sc).timeseries
    col = ts["campus/hall-a:installed_gpus"]
    assert_allclose(col[col.index < on], 0.0, rtol=0, atol=1e-12)
    assert_allclose(col[col.index >= on], 64.0, rtol=0, atol=1e-12)  # 2 racks x 4 servers x 8 GPUs
    late = sc.with_buildout("p90")
    on90 = pd.Timestamp(_dates(late)["hall-a"])
    assert on90 != on  # (this plan's target is later than its P90: a conservative target)
    col = gw.simulate(late).timeseries["campus/hall-a:installed_gpus"]
    assert_allclose(col[col.index < on90], 0.0, rtol=0, atol=1e-12)
    assert_allclose(col[col.index >= on90], 64.0, rtol=0, atol=1e-12)


def test_the_example_campus_with_its_plan() -> None:
    sc = gw.load_scenario("examples/buildout/campus_with_plan.yaml")
    assert gw.checks.scenario_warnings(sc) == []
    site = sc.sites[0]
    assert str(site.grid.energisation_date.date()) == "2029-11-05"  # week 200
    assert str(site.energy.generation[0].commission_date.date()) == "2030-08-12"  # week 240
    racks = {rg.name: rg for rg in site.halls[0].racks}
    assert racks["gb300"].commission_date == racks["nvl72"].decommission_date
    p90 = sc.with_buildout("p90", draws=300)
    r90 = {rg.name: rg for rg in p90.sites[0].halls[0].racks}
    assert r90["gb300"].commission_date == r90["nvl72"].decommission_date  # the old racks wait for the new
    assert p90.sites[0].halls[0].commission_date != site.halls[0].commission_date
