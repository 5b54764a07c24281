"""costs(result, prices): table, KPIs, re-pricing without re-simulation, costs read from what happened."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.economics.conftest import mixed_scenario_dict

import gigawatt as gw
from gigawatt import economics
from gigawatt.economics import TABLE_COLUMNS, cost_catalog


@pytest.fixture(scope="module")
def report(mixed_result: gw.Result) -> economics.CostReport:
    return economics.costs(mixed_result)


def test_table_rows_carry_currency_year_and_source(report: economics.CostReport) -> None:
    t = report.table
    assert list(t.columns) == TABLE_COLUMNS
    assert (t["currency"] == "USD").all()
    assert t["price_year"].between(2015, 2030).all()
    assert t["source"].str.len().gt(0).all()
    assert set(t["category"]) == {"capex", "opex"}
    assert_allclose(t.loc[t["category"] == "opex", "capex_usd"], 0.0, atol=1e-12)


def test_kpi_identities(report: economics.CostReport, mixed_result: gw.Result) -> None:
    k, t = report.kpis, report.table
    assert_allclose(k["capex_usd"], t["capex_usd"].sum(), rtol=1e-12)
    assert_allclose(
        k["tco_usd_per_year"], k["annualized_capex_usd_per_year"] + k["opex_usd_per_year"], rtol=1e-12
    )
    assert_allclose(k["tco_usd_per_gpu_hour"] * k["gpu_hours_per_year"], k["tco_usd_per_year"], rtol=1e-12)
    # per-hall allocation is complete: hall costs add up to the TCO
    assert_allclose(report.halls["annual_cost_usd"].sum(), k["tco_usd_per_year"], rtol=1e-9)
    assert k["gpu_hours_per_year"] == pytest.approx(mixed_result.n_accelerators * 8760.0, rel=1e-12)
    assert k["useful_gpu_hours_per_year"] <= k["busy_gpu_hours_per_year"] <= k["gpu_hours_per_year"]
    assert k["tco_usd_per_gpu_hour"] < k["tco_usd_per_busy_gpu_hour"] <= k["tco_usd_per_useful_gpu_hour"]
    # training lost work, checkpoints and restarts make useful < busy on the training hall
    gb = report.halls.set_index("accelerators").loc["GB200"]
    assert gb["useful_gpu_hours_per_year"] < gb["busy_gpu_hours_per_year"]
    # all KPI names carry units
    units = ("_usd", "_frac", "_mw", "_hours", "_hour", "_year", "_eflop", "_tokens", "price_year")
    assert all(any(u in name for u in units) for name in k.index), list(k.index)


def test_capex_from_inventory_and_catalog(report: economics.CostReport) -> None:
    k, cat = report.kpis, cost_catalog()
    # 288 GB200 at $35k, 320 H100 at $27.5k (catalog list prices)
    assert_allclose(k["capex_accelerators_usd"], 288 * 35000 + 320 * 27500, rtol=1e-12)
    # facility per MW of IT nameplate: both halls of the small scenario use the default 2N electrical chain;
    # the dlc hall adds the liquid-cooling adder
    names = (
        "facility_usd_per_mw",
        "liquid_cooling_usd_per_mw",
        "electrical_share_frac",
        "redundancy_2n_factor",
    )
    fac, liq, share, k2n = (float(cat.loc[n, "value"]) for n in names)
    mw_liquid = 4 * 18 * (4 * 1200 + 2200) / 1e6
    mw_air = 10 * 4 * (8 * 700 + 4600) / 1e6
    expected = (mw_liquid + mw_air) * fac * (1 + share * (k2n - 1)) + mw_liquid * liq
    assert_allclose(k["capex_facility_usd"], expected, rtol=1e-9)
    assert_allclose(k["it_nameplate_mw"], mw_liquid + mw_air, rtol=1e-12)


def test_repricing_without_resimulation(mixed_result: gw.Result, report: economics.CostReport) -> None:
    base = report.kpis
    cheap = economics.costs(mixed_result, {"accelerator_prices_usd": {"GB200": 17500, "H100-SXM": 13750}})
    assert_allclose(cheap.kpis["capex_accelerators_usd"], base["capex_accelerators_usd"] / 2, rtol=1e-12)
    assert cheap.kpis["tco_usd_per_gpu_hour"] < base["tco_usd_per_gpu_hour"]
    # parts scale with the accelerator price (GPU replacements)
    assert_allclose(cheap.kpis["opex_parts_usd_per_year"], base["opex_parts_usd_per_year"] / 2, rtol=1e-9)
    # flat re-pricing of grid energy: grid import x price, scaled to a year
    grid_mwh = float(mixed_result.timeseries["grid_import_mw"].sum() * mixed_result.step_h)
    rep = economics.costs(mixed_result, {"energy_price_usd_per_mwh": 100.0})
    per_year = 8760.0 / mixed_result.scenario.horizon_h
    grid = rep.table.loc[rep.table["item"] == "grid energy", "annual_usd"].sum()
    assert_allclose(grid, grid_mwh * 100.0 * per_year, rtol=1e-9)
    assert_allclose(
        base.loc["opex_energy_usd_per_year"], mixed_result.summary()["energy_cost_usd"] * per_year, rtol=1e-9
    )


def test_parts_follow_simulated_failures(mixed_result: gw.Result, report: economics.CostReport) -> None:
    jobs = mixed_result.jobs
    assert jobs is not None
    cat = cost_catalog()
    per_year = 8760.0 / mixed_result.scenario.horizon_h
    expected = per_year * (
        jobs["n_interruptions_gpu"].sum() * cat.loc["gpu_replacement_frac", "value"] * 35000
        + jobs["n_interruptions_host"].sum() * cat.loc["host_part_usd_per_failure", "value"]
        + jobs["n_interruptions_network"].sum() * cat.loc["network_part_usd_per_failure", "value"]
    )
    assert expected > 0  # the fixture's failure rate is scaled up so that failures happen
    assert_allclose(report.kpis["opex_parts_usd_per_year"], expected, rtol=1e-9)


def test_cost_per_job_and_per_million_tokens(mixed_result: gw.Result, report: economics.CostReport) -> None:
    jobs, svc = report.jobs, report.services
    assert jobs is not None and svc is not None
    assert_allclose(jobs["cost_usd"], jobs["gpu_hours"] * jobs["usd_per_busy_gpu_hour"], rtol=1e-12)
    assert (jobs["usd_per_useful_gpu_hour"].dropna() >= jobs["usd_per_busy_gpu_hour"].min() - 1e-9).all()
    row = svc.set_index("service").loc["chat"]
    h100 = report.halls.set_index("accelerators").loc["H100-SXM", "tco_usd_per_busy_gpu_hour"]
    assert_allclose(
        row["usd_per_million_tokens"], row["gpu_hours"] * h100 / row["output_tokens"] * 1e6, rtol=1e-9
    )
    assert report.kpis["chat:usd_per_million_tokens"] == pytest.approx(
        row["usd_per_million_tokens"], rel=1e-12
    )


def test_lease_replaces_facility_capex(mixed_result: gw.Result, report: economics.CostReport) -> None:
    rep = economics.costs(mixed_result, {"facility": "lease"})
    k = rep.kpis
    assert_allclose(k[["capex_facility_usd", "capex_land_usd", "capex_grid_usd"]], 0.0, atol=1e-9)
    lease = cost_catalog().loc["colocation_lease_usd_per_kw_month", "value"]
    assert_allclose(k["opex_lease_usd_per_year"], k["it_nameplate_mw"] * 1e3 * lease * 12, rtol=1e-9)
    assert_allclose(k["capex_accelerators_usd"], report.kpis["capex_accelerators_usd"], rtol=1e-12)


def test_npv_irr_with_revenue(mixed_result: gw.Result) -> None:
    lo = economics.costs(mixed_result, {"revenue_usd_per_gpu_hour": 5.0})
    hi = economics.costs(mixed_result, {"revenue_usd_per_gpu_hour": 50.0})
    assert "npv_usd" not in economics.costs(mixed_result).kpis.index
    assert hi.kpis["npv_usd"] > lo.kpis["npv_usd"]
    assert len(hi.cash_flows_usd) == 6  # accelerators' 5-year life + construction year
    r = hi.kpis["irr_frac"]
    assert math.isfinite(r)
    assert_allclose(economics.npv_usd(hi.cash_flows_usd, r), 0.0, atol=1e-3 * hi.kpis["capex_usd"])


def test_scenario_section_is_used(mixed_result: gw.Result) -> None:
    d = mixed_scenario_dict(economics={"prices": {"facility_usd_per_mw": 9.3e6}, "price_year": 2025})
    sc = gw.load_scenario(d)
    assert sc.economics is not None
    res = gw.Result(scenario=sc, seed=sc.seed, timeseries=mixed_result.timeseries, jobs=mixed_result.jobs,
                    services=mixed_result.services, extra_kpis=mixed_result.extra_kpis,
                    n_accelerators=mixed_result.n_accelerators)  # fmt: skip
    a, b = economics.costs(res).kpis, economics.costs(mixed_result).kpis
    assert a["capex_facility_usd"] < b["capex_facility_usd"]
    row = economics.costs(res).table.query("item == 'facility_usd_per_mw'").iloc[0]
    assert row["source"] == "user-supplied" and not row["is_estimate"]


@pytest.mark.parametrize(
    ("prices", "needle"),
    [
        ({"prices": {"facility_usd_per_mw": -1.0}}, "economics.prices.facility_usd_per_mw"),
        ({"prices": {"facility_usd_per_kw": 11700.0}}, "did you mean facility_usd_per_mw"),
        ({"prices": {"battery_energy_usd_per_kwh": 250000.0}}, "check the unit"),
        ({"prices": {"facility_usd_per_mw": 12.0}}, "check the unit"),
        ({"discount_rate_frac": 2.0}, "economics.discount_rate_frac"),
        ({"currency": "EUR"}, "economics.currency"),
    ],
)
def test_bad_prices_are_clear_errors(mixed_result: gw.Result, prices: dict, needle: str) -> None:
    with pytest.raises(gw.ScenarioError, match=needle.replace(".", r"\.")):
        economics.costs(mixed_result, prices)


def test_unpriced_accelerator_is_a_clear_error() -> None:
    d = mixed_scenario_dict()
    d["workloads"] = []
    d["sites"][0]["halls"][1]["racks"][0]["server"]["accelerator"] = "B300"
    d["sites"][0]["halls"][1]["cooling"] = {"technology": "dlc"}
    d["horizon_h"] = 1
    res = gw.simulate(d)
    with pytest.raises(gw.ScenarioError, match=r"economics\.accelerator_prices_usd\.B300"):
        economics.costs(res)
    rep = economics.costs(res, {"accelerator_prices_usd": {"B300": 45000}})
    row = rep.table.query("item == 'accelerator B300'").iloc[0]
    assert row["unit_price"] == pytest.approx(45000, rel=1e-12) and row["source"] == "user-supplied"


def test_bad_economics_in_scenario_file_names_the_path() -> None:
    d = mixed_scenario_dict(economics={"prices": {"water_usd_per_m3": -2}, "facility": "rent"})
    with pytest.raises(gw.ScenarioError) as exc:
        gw.load_scenario(d)
    text = str(exc.value)
    assert "economics.prices.water_usd_per_m3" in text and "economics.facility" in text


def test_plots(report: economics.CostReport) -> None:
    ax = report.plot_waterfall()
    n = int((report.by_class().abs() > 0).sum())
    assert len(ax.patches) == n + 1
    assert "USD" in ax.get_ylabel()
    ax2 = report.plot_cost_per_unit(cloud=economics.cloud_prices())
    assert len(ax2.patches) == 3 * len(report.halls)
    plt.close("all")
    assert np.isfinite(report.by_class().to_numpy()).all()


def test_prices_are_sweepable_by_dotted_path(mixed_result: gw.Result) -> None:
    sc = mixed_result.scenario.updated(
        {"economics.prices.facility_usd_per_mw": 9.3e6, "economics.discount_rate_frac": 0.1}
    )
    assert sc.value_at("economics.prices.facility_usd_per_mw") == pytest.approx(9.3e6, rel=1e-12)
    with pytest.raises(gw.ScenarioError, match=r"economics\.prices\.facility_usd_per_kw: unknown cost item"):
        mixed_result.scenario.updated({"economics.prices.facility_usd_per_kw": 9300.0})
    # a sweep over prices re-uses the Result: same scenario section given directly as prices
    assert sc.economics is not None
    rep = economics.costs(mixed_result, sc.economics)
    assert rep.kpis["discount_rate_frac"] == pytest.approx(0.1, rel=1e-12)


def test_demand_charges_scale_by_months() -> None:
    d = mixed_scenario_dict(horizon_h=24)
    d["workloads"] = [{"kind": "utilization", "name": "u", "target": {"hall": "air"},
                       "profile": {"kind": "constant", "utilization_frac": 0.5}}]  # fmt: skip
    d["sites"][0]["grid"]["demand_charge_usd_per_kw_month"] = 10.0
    res = gw.simulate(d)
    rep = economics.costs(res)
    row = rep.table.query("item == 'demand charges'")
    # one calendar month simulated: its demand charge is paid 12 times a year, not 365 times
    assert_allclose(row["annual_usd"].sum(), 12 * res.extra_kpis["demand_charges_usd"], rtol=1e-12)
    assert res.extra_kpis["demand_charges_usd"] > 0


def test_accelerator_prices_carry_their_year(report: economics.CostReport) -> None:
    t = report.table.set_index("item")
    # H100: Raymond James estimate (2023); GB200: HSBC estimate (2024) -- from the accelerator catalog notes
    assert t.loc["accelerator H100-SXM", "price_year"] == 2023
    assert t.loc["accelerator GB200", "price_year"] == 2024
    k = report.kpis
    assert k["price_year_min"] <= 2023 and k["price_year_max"] >= 2025


def test_price_mapping_updates_the_scenario_section(mixed_result: gw.Result) -> None:
    sc = mixed_result.scenario.updated({"economics.prices.facility_usd_per_mw": 9.3e6})
    res = gw.Result(scenario=sc, seed=sc.seed, timeseries=mixed_result.timeseries, jobs=mixed_result.jobs,
                    services=mixed_result.services, extra_kpis=mixed_result.extra_kpis,
                    n_accelerators=mixed_result.n_accelerators)  # fmt: skip
    econ = economics.resolve_economics(res, {"prices": {"water_usd_per_m3": 3.0}, "discount_rate_frac": 0.1})
    assert econ.prices == {
        "facility_usd_per_mw": pytest.approx(9.3e6),
        "water_usd_per_m3": pytest.approx(3.0),
    }
    assert econ.discount_rate_frac == pytest.approx(0.1)
    assert economics.resolve_economics(res, None) is sc.economics


def test_report_to_dir(report: economics.CostReport, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    out = report.to_dir(tmp_path / "costs")
    table = pd.read_csv(out / "costs.csv")
    assert_allclose(table["annual_usd"].sum(), report.kpis["tco_usd_per_year"], rtol=1e-9)
    kpis = pd.read_csv(out / "cost_kpis.csv", index_col=0)["value"]
    assert_allclose(kpis["tco_usd_per_gpu_hour"], report.kpis["tco_usd_per_gpu_hour"], rtol=1e-12)
    assert (out / "plots" / "cost_waterfall.png").stat().st_size > 0
    assert (out / "cost_jobs.csv").exists() and (out / "cost_services.csv").exists()
