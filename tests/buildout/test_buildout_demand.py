"""Demand curves: values, exact period means, conversions to GPUs, training/inference crossover."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate

from gigawatt.buildout.demand import (
    crossover_week,
    curve_gpus,
    curve_period_mean_gpus,
    curve_value,
    demand_period_mean_gpus,
    gpus_per_unit,
    period_edges,
)
from gigawatt.scenario.buildout import WEEKS_PER_YEAR, Demand, DemandCurve

CURVES = [
    DemandCurve(name="e", workload="training", growth="exponential", start_value=100, annual_growth_frac=0.5),
    DemandCurve(
        name="l",
        workload="inference",
        growth="logistic",
        start_value=100,
        annual_growth_frac=2.0,
        saturation_value=5000,
    ),
    DemandCurve(
        name="l2",
        workload="inference",
        growth="logistic",
        start_value=900,
        annual_growth_frac=0.3,
        saturation_value=500,
    ),
    DemandCurve(
        name="t", workload="training", growth="table", table_weeks=[10, 30, 80], table_values=[5, 50, 20]
    ),
    DemandCurve(name="c", workload="training", growth="constant", start_value=7),
]


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
def test_period_means_match_quadrature(curve: DemandCurve) -> None:
    edges = np.array([-5.0, 0.0, 3.0, 10.0, 25.0, 30.0, 55.0, 100.0, 160.0])
    got = curve_period_mean_gpus(curve, edges)
    want = [
        integrate.quad(
            lambda t: float(curve_gpus(curve, t)),
            a,
            b,
            points=[10, 30, 80] if curve.growth == "table" else None,
        )[0]
        / (b - a)
        for a, b in itertools.pairwise(edges)
    ]
    assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_growth_shapes() -> None:
    e = CURVES[0]
    assert_allclose(
        curve_value(e, [0.0, WEEKS_PER_YEAR, 2 * WEEKS_PER_YEAR]), [100, 150, 225], rtol=1e-12, atol=0
    )
    lg = CURVES[1]
    assert float(curve_value(lg, 0.0)) == pytest.approx(100, rel=1e-12)
    assert float(curve_value(lg, 5000.0)) == pytest.approx(5000, rel=1e-9)
    assert float(curve_value(lg, 1.0) / curve_value(lg, 0.0)) == pytest.approx(
        3.0 ** (1 / WEEKS_PER_YEAR), rel=1e-3
    )
    t = CURVES[3]
    assert_allclose(
        curve_value(t, [0.0, 10.0, 20.0, 30.0, 55.0, 80.0, 500.0]),
        [5, 5, 27.5, 50, 35, 20, 20],
        rtol=1e-12,
        atol=1e-12,
    )


def test_quantity_conversions() -> None:
    base = {"name": "x", "workload": "inference", "growth": "constant", "start_value": 1.0}
    assert gpus_per_unit(DemandCurve(**base, quantity="gpu_hours_per_week")) == pytest.approx(
        1 / 168, rel=1e-12
    )
    assert gpus_per_unit(
        DemandCurve(**base, quantity="tokens_per_s", tokens_per_s_per_gpu=2000)
    ) == pytest.approx(5e-4, rel=1e-12)
    assert gpus_per_unit(
        DemandCurve(**base, quantity="requests_per_s", tokens_per_s_per_gpu=2000, tokens_per_request=500)
    ) == pytest.approx(0.25, rel=1e-12)
    flop = DemandCurve(**base, quantity="flop_per_week", gpu_flop_per_s=1e15, mfu_frac=0.4)
    assert gpus_per_unit(flop) * 1e15 * 0.4 * 604800 == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ValueError, match="tokens_per_s_per_gpu is required"):
        DemandCurve(**base, quantity="tokens_per_s")


def test_period_grid_and_table() -> None:
    dem = Demand(curves=CURVES[:2], horizon_weeks=10, period_weeks=4)
    assert_allclose(period_edges(dem), [0, 4, 8, 10], rtol=0, atol=0)
    df = demand_period_mean_gpus(dem)
    assert_allclose(df["total"], df["training"] + df["inference"], rtol=1e-12, atol=0)
    assert_allclose(df["period_weeks"], [4, 4, 2], rtol=0, atol=0)


def test_crossover_week() -> None:
    tr = DemandCurve(
        name="tr", workload="training", growth="exponential", start_value=300, annual_growth_frac=0.2
    )
    inf = DemandCurve(
        name="in", workload="inference", growth="exponential", start_value=100, annual_growth_frac=1.0
    )
    dem = Demand(curves=[tr, inf], horizon_weeks=520)
    want = np.log(3.0) / (np.log(2.0) - np.log(1.2)) * WEEKS_PER_YEAR  # 100·2^y = 300·1.2^y
    assert crossover_week(dem) == pytest.approx(want, abs=0.01)
    assert crossover_week(Demand(curves=[tr, inf], horizon_weeks=52)) is None
