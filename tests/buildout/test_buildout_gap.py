"""The capacity gap against hand-computed unmet demand."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.buildout._plans import two_hall_plan

from gigawatt.buildout import capacity_gap, load_buildout, run_buildout
from gigawatt.scenario.buildout import Demand


def _demand(**over):
    d = {
        "horizon_weeks": 120,
        "period_weeks": 10,
        "curves": [{"name": "flat", "workload": "inference", "growth": "constant", "start_value": 1200}],
    }
    d.update(over)
    return Demand.model_validate(d)


def test_unmet_gpu_hours_hand_computed() -> None:
    r = run_buildout(load_buildout(two_hall_plan()))  # hall-a (1000) online week 80, hall-b (500) at 100
    g = capacity_gap(r, _demand(), cloud_usd_per_gpu_h=2.0)
    per = g.unmet_gpu_h[0]
    # weeks 0-80: short 1200 GPUs; 80-100: short 200; from 100: none (1500 >= 1200)
    want = np.array([1200.0] * 8 + [200.0, 200.0, 0.0, 0.0]) * 10 * 168
    assert_allclose(per, want, rtol=1e-12, atol=1e-6)
    k = g.kpis()
    assert k["unmet_gpu_h_mean"] == pytest.approx(want.sum(), rel=1e-12)
    assert k["cloud_bridge_usd_mean"] == pytest.approx(2.0 * want.sum(), rel=1e-12)
    assert k["p_any_shortfall_frac"] == pytest.approx(1.0, abs=1e-12)
    assert k["gap_gpus_peak_p90"] == pytest.approx(1200.0, rel=1e-12)


def test_pro_rata_period_and_usable_fraction() -> None:
    r = run_buildout(load_buildout(two_hall_plan()))
    g = capacity_gap(r, _demand(period_weeks=15, capacity_usable_frac=0.5))
    # period [75, 90): hall-a online from 80 -> 1000 · 10/15 · 0.5 usable GPUs on average
    assert_allclose(g.capacity_gpus[0, 5], 1000 * 10 / 15 * 0.5, rtol=1e-12, atol=1e-9)
    t = g.table()
    assert list(t.columns[:2]) == ["date", "demand_gpus"]
    assert (t["unmet_p10_gpu_h"] <= t["unmet_p90_gpu_h"] + 1e-9).all()


def test_gap_needs_demand() -> None:
    r = run_buildout(load_buildout(two_hall_plan()))
    with pytest.raises(ValueError, match="no demand"):
        capacity_gap(r)
    with pytest.raises(ValueError, match="cloud_usd_per_gpu_h"):
        capacity_gap(r, _demand(), cloud_usd_per_gpu_h=-1)
