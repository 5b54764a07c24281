"""Build-out Monte Carlo against order statistics and closed forms; lead-time catalog against its sources.

The Monte Carlo resolves the plan's network by vectorised max (parallel items) and sums (chains). Its draws
are checked against what probability theory says about them: the online date of a phase whose items arrive
independently is the maximum of their lead times, whose CDF is the product of theirs; along a chain the
lead times add, so means and variances add; the share of draws in which an item is critical is P(it is the
latest); a shared market factor gives the rank correlation of a Gaussian copula. Demand curves are replayed exactly. The catalog rows are checked to reproduce the published central
figures they were set from (calibrated: no evidence that the spreads are right).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

from gigawatt.buildout import latest_order_weeks, lead_time, load_buildout, run_buildout
from gigawatt.buildout.demand import crossover_week, curve_period_mean_gpus, curve_value
from gigawatt.scenario.buildout import WEEKS_PER_YEAR, DemandCurve

N = 20_000


def _plan(items: list[dict], **phase: object) -> dict:
    return {
        "start_date": "2026-01-05",
        "seed": 11,
        "draws": N,
        "phases": [{"name": "p", "gpus": 1, "items": items, **phase}],
    }


def test_max_of_independent_triangulars_is_product_of_cdfs(validation) -> None:
    names = ["utility-transformer", "mv-switchgear", "standby-generator"]
    r = run_buildout(load_buildout(_plan([{"name": n, "lead_time": n} for n in names])))
    x = np.sort(r.online_week[:, 0])
    grid = np.linspace(40, 150, 221)
    emp = np.searchsorted(x, grid, side="right") / N
    theory = np.prod([lead_time(n).cdf(grid) for n in names], axis=0)
    sup = float(np.max(np.abs(emp - theory)))
    band = math.sqrt(math.log(2 / 1e-3) / (2 * N))  # Dvoretzky-Kiefer-Wolfowitz, 99.9 %
    validation(
        "online date of a phase with 3 independent triangular items (transformer, switchgear, generators): "
        f"sup |F_MC - prod F_i| over {N:,} draws",
        model=sup,
        reference=0.0,
        tolerance=f"DKW 99.9 % band {band:.4f}",
        source="order statistics: P(max_i L_i <= t) = prod_i F_i(t) for independent L_i; DKW inequality "
        "(Massart, Ann. Probab. 18(3), 1990)",
        kind="theory",
        within=sup <= band,
    )
    assert sup <= band
    mean_theory = (
        40
        + integrate.quad(
            lambda t: 1 - float(np.prod([lead_time(n).cdf(t) for n in names])), 40, 150, limit=200
        )[0]
    )
    se = float(x.std() / math.sqrt(N))
    validation(
        "mean online week of the same phase vs integral of 1 - prod F_i",
        model=float(x.mean()),
        reference=mean_theory,
        tolerance=f"± 4 standard errors ({4 * se:.3f} weeks)",
        source="E[X] = a + ∫_a^b (1 - F(t)) dt for a variable on [a, b]",
        kind="theory",
        within=abs(x.mean() - mean_theory) <= 4 * se,
    )
    assert abs(x.mean() - mean_theory) <= 4 * se


def test_chain_means_and_variances_add(validation) -> None:
    items = [
        {"name": "interconnection", "lead_time": "grid-interconnection"},
        {"name": "transformer", "lead_time": "utility-transformer", "after": ["interconnection"]},
        {
            "name": "build",
            "lead_time": {"distribution": "pert", "low_weeks": 52, "mode_weeks": 70, "high_weeks": 110},
            "after": ["transformer"],
        },
        {"name": "slip", "lead_time": "construction-slip", "after": ["build"]},
    ]
    plan = load_buildout(_plan(items))
    r = run_buildout(plan)
    x = r.online_week[:, 0]
    dists = [lead_time(it.lead_time) for it in plan.phases[0].items]
    mean, var = sum(d.mean_weeks for d in dists), sum(d.var_weeks2 for d in dists)
    se_mean = math.sqrt(var / N)
    c = (x - x.mean()) ** 2
    se_var = float(c.std() / math.sqrt(N))
    validation(
        "chain grid -> transformer -> construction (PERT) -> slip: mean online week = sum of means",
        model=float(x.mean()),
        reference=mean,
        tolerance=f"± 4 standard errors ({4 * se_mean:.2f} weeks)",
        source="linearity of expectation: E[sum L_i] = sum E[L_i]",
        kind="theory",
        within=abs(x.mean() - mean) <= 4 * se_mean,
    )
    validation(
        "same chain: variance of the online week = sum of variances (independent lead times)",
        model=float(x.var()),
        reference=var,
        tolerance=f"± 4 standard errors of the sample variance ({4 * se_var:.0f} weeks²)",
        source="Bienaymé: Var[sum L_i] = sum Var[L_i] for independent L_i",
        kind="theory",
        within=abs(x.var() - var) <= 4 * se_var,
    )
    assert abs(x.mean() - mean) <= 4 * se_mean
    assert abs(x.var() - var) <= 4 * se_var


def test_criticality_index_is_probability_of_being_latest(validation) -> None:
    a = {"distribution": "uniform", "low_weeks": 0, "high_weeks": 10}
    b = {"distribution": "triangular", "low_weeks": 5, "mode_weeks": 6, "high_weeks": 12}
    r = run_buildout(load_buildout(_plan([{"name": "a", "lead_time": a}, {"name": "b", "lead_time": b}])))
    got = float(r.criticality().loc["p/a", "p"])
    db = lead_time(r.plan.phases[0].items[1].lead_time)
    want = integrate.quad(lambda t: float(db.cdf(t)) / 10.0, 0, 10)[0]  # P(A > B) = ∫ f_A(t) F_B(t) dt
    se = math.sqrt(want * (1 - want) / N)
    validation(
        "criticality index of item A in max(A, B), A ~ U(0, 10), B ~ Tri(5, 6, 12)",
        model=got,
        reference=want,
        tolerance=f"± 4 binomial standard errors ({4 * se:.4f})",
        source="P(A is critical) = P(A > B) = ∫ f_A F_B; Van Slyke, Operations Research 11(5), 1963",
        kind="theory",
        within=abs(got - want) <= 4 * se,
    )
    assert abs(got - want) <= 4 * se


def test_market_factor_gives_gaussian_copula_rank_correlation(validation) -> None:
    rho = 0.5
    d = _plan(
        [
            {"name": "a", "lead_time": "utility-transformer"},
            {"name": "b", "lead_time": "grid-interconnection"},
        ]
    )
    d["lead_time_correlation"] = rho
    lw = run_buildout(load_buildout(d)).lead_weeks
    got = float(stats.spearmanr(lw[:, 0], lw[:, 1]).statistic)
    want = 6 / math.pi * math.asin(rho / 2)
    tol = 4 / math.sqrt(N)  # 4 × the null standard error of Spearman's rho, conservative under dependence
    validation(
        f"rank correlation of two items' lead times with market correlation {rho} (transformer, grid)",
        model=got,
        reference=want,
        tolerance=f"± {tol:.3f} (4/sqrt(N))",
        source="Gaussian copula: Spearman's rho = (6/π) arcsin(ρ/2) (Kruskal, JASA 53, 1958)",
        kind="theory",
        within=abs(got - want) <= tol,
    )
    assert abs(got - want) <= tol


def test_latest_order_week_meets_p90_exactly(validation) -> None:
    plan = load_buildout("examples/buildout/campus_1gw.yaml")
    r = run_buildout(plan)
    lo = latest_order_weeks(r, prob=0.9)
    x = float(lo.loc["grid/interconnection", "latest_order_week"])
    k = r.phase_names.index(lo.loc["grid/interconnection", "binding_phase"])
    t = r.target_weeks()[k]
    at = float(np.mean(run_buildout(plan, order_weeks={"grid/interconnection": x}).online_week[:, k] <= t))
    after = float(
        np.mean(run_buildout(plan, order_weeks={"grid/interconnection": x + 1e-6}).online_week[:, k] <= t)
    )
    validation(
        "latest interconnection request week for P90 on time (1 GW campus): P(on time) there and 1e-6 weeks later",
        model=f"{at:.4f} / {after:.4f}",
        reference=">= 0.9 / < 0.9",
        tolerance="exact on the draws",
        source="max-plus linearity of the plan network in one order date (docs/models/buildout.md)",
        kind="invariant",
    )
    assert at >= 0.9 > after


def test_growth_curves_replayed_exactly(validation) -> None:
    table = DemandCurve(
        name="t",
        workload="inference",
        growth="table",
        table_weeks=[0, 52, 104, 208],
        table_values=[10, 40, 50, 200],
    )
    at_points = curve_value(table, [0, 52, 104, 208])
    seg_means = curve_period_mean_gpus(table, [0, 52, 104, 208])
    trapezoids = np.array([(10 + 40) / 2, (40 + 50) / 2, (50 + 200) / 2])
    exp = DemandCurve(
        name="e", workload="training", growth="exponential", start_value=1000, annual_growth_frac=0.6
    )
    k = math.log(1.6) / WEEKS_PER_YEAR
    edges = np.array([0.0, 13.0, 52.0, 300.0])
    exact = 1000 * (np.exp(k * edges[1:]) - np.exp(k * edges[:-1])) / k / np.diff(edges)
    err = max(
        float(np.max(np.abs(at_points - [10, 40, 50, 200]))),
        float(np.max(np.abs(seg_means - trapezoids))),
        float(np.max(np.abs(curve_period_mean_gpus(exp, edges) / exact - 1))),
        float(abs(curve_value(exp, WEEKS_PER_YEAR) - 1600.0)),
    )
    validation(
        "demand table and exponential growth replayed: values at table points, period means, (1+g)^years",
        model=err,
        reference=0.0,
        tolerance="1e-9",
        source="replay of the input curves (table points; trapezoids; v0 (e^{k t1} - e^{k t0}) / k)",
        kind="invariant",
    )
    assert err <= 1e-9


def test_catalog_reproduces_published_central_figures(validation) -> None:
    r = run_buildout(
        load_buildout(
            _plan(
                [
                    {"name": "equipment", "lead_time": "datacenter-equipment"},
                    {"name": "transformer", "lead_time": "utility-transformer"},
                    {"name": "grid", "lead_time": "grid-interconnection"},
                    {"name": "slip", "lead_time": "construction-slip"},
                ]
            )
        )
    )
    lw = r.lead_weeks
    cases = [
        (
            "mean equipment lead time [weeks]",
            float(lw[:, 0].mean()),
            33.0,
            0.5,
            "JLL global average equipment lead time (33 weeks, 50 % above pre-2020), as reported by SecondWatt (2026)",
        ),
        (
            "median grid interconnection wait [weeks]",
            float(np.median(lw[:, 2])),
            208.0,
            5.0,
            "JLL 2026 Global Data Center Outlook (2026-01): > 4 years in primary markets",
        ),
        (
            "share of projects that slip",
            float(np.mean(lw[:, 3] > 0)),
            0.36,
            0.015,
            "Sightline Climate via Semafor (2026-02-24): 26 % delayed + 10 % revised of 110 projects due in 2025",
        ),
    ]
    for what, model, ref, tol, src in cases:
        validation(
            what + " (Monte Carlo draws of the catalog row)",
            model=model,
            reference=ref,
            tolerance=f"± {tol:g}",
            source=src,
            kind="calibrated",
            within=abs(model - ref) <= tol,
        )
        assert abs(model - ref) <= tol
    mode = float(lead_time("utility-transformer").mode_weeks or 0)
    validation(
        "most likely utility transformer lead time [weeks]",
        model=mode,
        reference=120.0,
        tolerance="exact (the row's mode)",
        source="Wood Mackenzie, Power transformers: supply shortage and high lead times (2024-04): ~120 weeks average",
        kind="calibrated",
        within=mode == 120.0,
    )


def test_example_demand_crosses_over_in_2027(validation) -> None:
    plan = load_buildout("examples/buildout/campus_1gw.yaml")
    assert plan.demand is not None
    week = crossover_week(plan.demand)
    assert week is not None
    year = int(run_buildout(plan, draws=1).to_date(week).year)
    validation(
        "example 1 GW campus demand: year inference demand overtakes training",
        model=str(year),
        reference="2027",
        tolerance="same calendar year",
        source="JLL 2026 Global Data Center Outlook (2026-01): inference could overtake training as the dominant "
        "AI requirement in 2027 (Deloitte TMT Predictions 2026 put the crossing earlier, in 2025-2026)",
        kind="calibrated",
        within=year == 2027,
    )
    assert year == 2027
