"""Multi-cloud allocation LP/MILP against cases solved by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.economics.allocation import allocate, allocation_sensitivity, frontier_lab_example


def _case(prices: dict[str, float], capacity: dict[str, float] | None = None, outage=None):  # type: ignore[no-untyped-def]
    names = list(prices)
    offers = pd.DataFrame(
        {"provider": names, "accelerator": "H100-SXM", "usd_per_gpu_hour": list(prices.values())}
    )
    rate, dur = outage or ({n: 0.0 for n in names}, {n: 1.0 for n in names})
    providers = pd.DataFrame(
        {
            "outage_rate_per_year": [rate[n] for n in names],
            "mean_outage_h": [dur[n] for n in names],
            "capacity_gpus": [(capacity or {}).get(n, 1e9) for n in names],
        },
        index=pd.Index(names, name="provider"),
    )
    return offers, providers


def _shares(a) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return dict(zip(a.providers["provider"], a.providers["gpu_hours_per_year"], strict=True))


def test_cheapest_provider_up_to_the_share_cap() -> None:
    # by hand: D = 100; A at 1, B at 2; A may hold 70 % -> A 70, B 30, cost 130
    offers, providers = _case({"A": 1.0, "B": 2.0})
    a = allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.7)
    assert_allclose(list(_shares(a).values()), [70.0, 30.0], rtol=1e-9)
    assert_allclose(a.kpis["total_cost_usd_per_year"], 130.0, rtol=1e-9)
    # capacity binds first: A holds at most 50 GPU-h (capacity 50/8760 GPUs) -> A 50, B 50, cost 150
    offers, providers = _case({"A": 1.0, "B": 2.0}, capacity={"A": 50.0 / 8760})
    a = allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.7)
    assert_allclose(list(_shares(a).values()), [50.0, 50.0], rtol=1e-9)
    assert_allclose(a.kpis["total_cost_usd_per_year"], 150.0, rtol=1e-9)


def test_expected_outage_cost_reorders_providers() -> None:
    # A unavailable half the year (1 outage of 4,380 h): effective price 1 + 0.5 c_out; with c_out = 4 it is 3 > 2
    outage = ({"A": 1.0, "B": 0.0}, {"A": 4380.0, "B": 1.0})
    offers, providers = _case({"A": 1.0, "B": 2.0}, outage=outage)
    a = allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.7, outage_cost_usd_per_gpu_hour=4.0)
    assert_allclose(list(_shares(a).values()), [30.0, 70.0], rtol=1e-9)
    assert_allclose(a.kpis["total_cost_usd_per_year"], 30 * 3.0 + 70 * 2.0, rtol=1e-9)
    assert_allclose(a.kpis["expected_outage_cost_usd_per_year"], 30 * 0.5 * 4.0, rtol=1e-9)


def test_worst_outage_term_spreads_capacity() -> None:
    # no expected cost (rate 0); an outage of A lasts 8,760 h: its loss is c_out * x_A; w = 2 -> A costs 1 + 2 = 3
    outage = ({"A": 0.0, "B": 0.0}, {"A": 8760.0, "B": 1e-9})
    offers, providers = _case({"A": 1.0, "B": 2.0}, outage=outage)
    a = allocate(
        {"H100-SXM": 100.0},
        offers,
        providers,
        max_share_frac=0.7,
        outage_cost_usd_per_gpu_hour=1.0,
        risk_weight=2.0,
    )
    assert_allclose(list(_shares(a).values()), [30.0, 70.0], rtol=1e-6)
    assert_allclose(a.kpis["total_cost_usd_per_year"], 30 + 140 + 2 * 30, rtol=1e-6)


def test_fixed_onboarding_cost_is_a_milp() -> None:
    # by hand: share cap 0.5 -> two providers; B is cheaper than C by 0.1 x 50 = 5 but costs 100 to onboard
    offers, providers = _case({"A": 1.0, "B": 1.1, "C": 1.2})
    base = allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.5)
    assert_allclose(list(_shares(base).values()), [50.0, 50.0, 0.0], atol=1e-6)
    a = allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.5, fixed_cost_usd={"B": 100.0})
    assert_allclose(list(_shares(a).values()), [50.0, 0.0, 50.0], atol=1e-6)
    assert list(a.providers["used"]) == [True, False, True]
    assert_allclose(a.kpis["total_cost_usd_per_year"], 50 + 60, rtol=1e-9)


def test_infeasible_and_bad_input_are_clear() -> None:
    offers, providers = _case({"A": 1.0, "B": 2.0})
    with pytest.raises(ValueError, match=r"infeasible.*max_share_frac"):
        allocate({"H100-SXM": 100.0}, offers, providers, max_share_frac=0.3)
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        allocate({"H100-SXM": 1.0}, offers.assign(usd_per_gpu_hour=-1.0), providers)
    with pytest.raises(ValueError, match="no offer"):
        allocate({"B200": 1.0}, offers, providers)
    with pytest.raises(ValueError, match="missing from the providers"):
        allocate({"H100-SXM": 1.0}, offers, providers.drop(index="B"))


def test_frontier_example_sensitivity_to_outage_risk() -> None:
    offers, providers, sens = frontier_lab_example()
    shares = sens.filter(like="share_frac:")
    assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-9)
    assert (shares.to_numpy() <= 0.6 + 1e-9).all()
    # risk-neutral: the cheapest provider takes as much as its capacity allows (700k of 1.2M GPUs)
    assert_allclose(shares.iloc[0]["share_frac:provider_a"], 700 / 1200, rtol=1e-9)
    # costly outages move capacity away from the provider with the longest outages, at a higher spend
    assert shares.iloc[-1]["share_frac:provider_a"] < shares.iloc[0]["share_frac:provider_a"]
    assert sens["spend_usd_per_year"].iloc[-1] > sens["spend_usd_per_year"].iloc[0]
    # five years of the risk-neutral plan: a ~$300 billion commitment
    assert 2.5e11 < 5 * sens["spend_usd_per_year"].iloc[0] < 3.5e11
    again = allocation_sensitivity(
        {"GB200": 1.2e6 * 8760}, offers, providers, [0.0], max_share_frac=0.6, risk_weight=5.0
    )
    assert_allclose(again["total_cost_usd_per_year"], sens["total_cost_usd_per_year"].iloc[:1], rtol=1e-9)
