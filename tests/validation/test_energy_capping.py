"""A grid cap below peak demand: dispatch + power capping (issue 6 validation).

Facility model: a linear PUE, so the DVFS power fraction that fits under the cap is analytic,
p = (cap / PUE − base) / dynamic: the capping solver's bisection must find it (theory), and the facility must
never exceed the cap (invariant). The throughput that follows, 1 − g(p), is computed by the solver as g of
its power fraction, so re-asserting it would be a tautology and is not checked here.
"""

import numpy as np
from numpy.testing import assert_allclose

from gigawatt.physics.capping import LoadBlock, solve_power_cap
from gigawatt.physics.dispatch import DispatchInputs, dispatch

STEP_H = 5 / 60
PUE = 1.2


def test_grid_cap_solver_finds_the_analytic_dvfs_fraction(validation):
    n = 288 * 7
    hours = np.arange(n) * STEP_H
    # a hot-afternoon facility: IT dynamic power peaks mid-afternoon
    base_it = np.full((n, 1), 30.0)
    dyn = 70.0 + 15.0 * np.clip(np.sin(2 * np.pi * (hours - 9) / 24), 0, None)
    demand = PUE * (base_it[:, 0] + dyn)
    cap = 125.0  # below the 138 MW afternoon peak, above the 120 MW off-peak demand
    supply = dispatch(demand, DispatchInputs(STEP_H, cap))
    assert supply.unserved_mw.max() > 0
    assert 0 < int((supply.unserved_mw > 0).sum()) < n  # binds on afternoons only
    available = demand - supply.unserved_mw

    def curve(p):
        return 0.2 + 0.8 * p  # an affine DVFS curve: 20 % of throughput is power-insensitive

    r = solve_power_cap(
        base_it,
        [LoadBlock(0, "training", 0, dyn, "job")],
        available,
        lambda it, idx: PUE * it.sum(axis=1),
        order=("dvfs",),
        min_power_frac=0.3,
        throughput_of_power_frac=curve,
    )
    capped = supply.unserved_mw > 0
    p_expected = np.where(capped, (cap / PUE - base_it[:, 0]) / dyn, 1.0)
    loss = 1.0 - r.hall_throughput_frac[:, 0]
    src = "analytic: linear PUE, p = (cap/PUE − base)/dynamic (docs/models/energy.md)"
    validation(
        "Peak facility power over a week under a 125 MW grid cap (138 MW unconstrained peak) [MW]",
        model=float(r.facility_power_mw.max()),
        reference=cap,
        tolerance="≤ cap + 1e-9 at every step; = cap on capped steps (rel. 1e-9)",
        source="constraint of the capping solver (exact invariant)",
        kind="invariant",
    )
    validation(
        f"DVFS power fraction on the {int(capped.sum())} capped 5-min steps, largest deviation from analytic",
        model=float(np.abs(r.power_frac - p_expected).max()),
        reference=0.0,
        tolerance="≤ 1e-9",
        source=src,
        kind="theory",
    )
    # no step exceeds the cap
    assert np.all(r.facility_power_mw <= cap + 1e-9)
    assert np.array_equal(capped, r.capped)
    assert_allclose(r.power_frac, p_expected, atol=1e-9)
    # throughput falls on capped steps only
    assert np.all(loss[capped] > 0) and np.all(loss[~capped] < 1e-12)
    # the capped facility sits exactly at the cap on capped steps (binding constraint)
    assert_allclose(r.facility_power_mw[capped], cap, rtol=1e-9)
