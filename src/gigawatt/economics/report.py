"""``costs(result, prices) -> CostReport``: capex, opex, TCO and cost per unit from a Result.

Economics is a pure function of a Result and prices: nothing here re-simulates, so re-pricing is cheap.
Equations and sources: ``docs/models/economics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from gigawatt.economics.capex import CAPEX_CLASSES, HallInfo, campus_inventory, capex_rows
from gigawatt.economics.catalog import PriceBook
from gigawatt.economics.finance import annualized_capex_usd, book_value_usd, irr, npv_usd
from gigawatt.economics.opex import OPEX_CLASSES, opex_rows, workload_halls
from gigawatt.errors import ScenarioError
from gigawatt.scenario.economics import Economics

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gigawatt.result import Result
    from gigawatt.scenario.economics import Economics

__all__ = ["TABLE_COLUMNS", "CostReport", "costs", "resolve_economics"]

HOURS_PER_YEAR = 8760.0
#: Columns of :attr:`CostReport.table`.
TABLE_COLUMNS = [
    "item",
    "category",
    "asset_class",
    "site",
    "hall",
    "quantity",
    "quantity_unit",
    "unit_price",
    "price_unit",
    "capex_usd",
    "life_years",
    "residual_frac",
    "annual_usd",
    "currency",
    "price_year",
    "is_estimate",
    "source",
]
_LIFE_ITEM = {
    "accelerators": "life_accelerators_years",
    "servers": "life_servers_years",
    "network": "life_network_years",
    "storage": "life_storage_years",
    "racks": "life_racks_years",
    "facility": "life_facility_years",
    "grid": "life_grid_years",
    "energy_plant": "life_energy_plant_years",
}


def resolve_economics(result: Result, prices: Economics | Mapping[str, Any] | None) -> Economics:
    """The economics settings to use.

    ``None``: the scenario's ``economics`` section, else catalog defaults. An :class:`Economics` model: used as
    is. A mapping: applied on top of the scenario's section (nested mappings such as ``prices`` merged key by
    key) and validated like it, so a price sweep can vary one field and keep the scenario's other prices.
    """
    if prices is None:
        return result.scenario.economics or Economics()
    if isinstance(prices, Economics):
        return prices
    base = result.scenario.economics
    data: dict[str, Any] = base.model_dump(exclude_unset=True) if base is not None else {}
    for key, value in prices.items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        return Economics.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = [p for p in e["loc"] if p != "[key]"]
            path = "economics" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
            problems.append((path, e["msg"].removeprefix("Value error, ")))
        raise ScenarioError(problems, "economics prices") from None


@dataclass
class CostReport:
    """Costs of one simulated campus.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cost item (columns :data:`TABLE_COLUMNS`): capex rows carry ``capex_usd``, life,
        residual and their equivalent annual cost; opex rows their cost per year. Every row has its
        ``currency``, ``price_year``, ``is_estimate`` and ``source``.
    kpis : pandas.Series
        Flat KPIs with units in the names (``tco_usd_per_gpu_hour``, ...) for sweeps and solvers.
    halls : pandas.DataFrame
        Per hall: GPUs, GPU-hours per year (allocated, busy, useful), annual cost and cost per GPU-hour.
    jobs, services : pandas.DataFrame or None
        Cost per training job (``cost_usd``) and per inference service (``usd_per_million_tokens``).
    cash_flows_usd : numpy.ndarray
        Yearly cash flows used for NPV/IRR (when a revenue price is given), index 0 = construction.
    """

    table: pd.DataFrame
    kpis: pd.Series
    halls: pd.DataFrame
    jobs: pd.DataFrame | None = None
    services: pd.DataFrame | None = None
    cash_flows_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    currency: str = "USD"
    price_year: int = 2025

    def by_class(self) -> pd.Series:
        """Annual cost by asset/cost class [USD/year], capex classes first."""
        s = self.table.groupby("asset_class")["annual_usd"].sum()
        order = [c for c in (*CAPEX_CLASSES, *OPEX_CLASSES) if c in s.index]
        return s.reindex(order)

    def to_dir(self, path: str | Path, *, plots: bool = True) -> Path:
        """Write ``costs.csv`` (the table), ``cost_kpis.csv`` (``metric,value``), ``cost_halls.csv``,
        ``cost_jobs.csv``/``cost_services.csv`` when present, and ``plots/cost_waterfall.png`` and
        ``plots/cost_per_gpu_hour.png``."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_csv(out / "costs.csv", index=False)
        self.kpis.to_csv(out / "cost_kpis.csv", header=True)
        self.halls.to_csv(out / "cost_halls.csv", index=False)
        for name, df in (("cost_jobs", self.jobs), ("cost_services", self.services)):
            if df is not None:
                df.to_csv(out / f"{name}.csv", index=False)
        if plots:
            import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

            (out / "plots").mkdir(exist_ok=True)
            for fname, draw in (
                ("cost_waterfall", self.plot_waterfall),
                ("cost_per_gpu_hour", self.plot_cost_per_unit),
            ):
                fig, ax = plt.subplots(figsize=(9, 4))
                draw(ax=ax)
                fig.tight_layout()
                fig.savefig(out / "plots" / f"{fname}.png", dpi=120)
                plt.close(fig)
        return out

    def plot_waterfall(self, ax: Axes | None = None) -> Axes:
        """Waterfall of the annual cost by class up to the TCO [USD M/year]."""
        import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 4))
        s = self.by_class() / 1e6
        s = s[s.abs() > 0]
        bottoms = np.concatenate([[0.0], np.cumsum(s.to_numpy())[:-1]])
        capex = [c in CAPEX_CLASSES for c in s.index]
        colors = ["#4c72b0" if c else "#dd8452" for c in capex]
        ax.bar(range(len(s)), s.to_numpy(), bottom=bottoms, color=colors)
        total = float(s.sum())
        ax.bar(len(s), total, color="#55a868")
        ax.set_xticks(range(len(s) + 1), [*s.index, "TCO"], rotation=45, ha="right")
        ax.set_ylabel(f"Annual cost [{self.currency} M/year, {self.price_year} prices]")
        ax.set_title("Annualised capex (blue) and opex (orange)")
        return ax

    def plot_cost_per_unit(self, ax: Axes | None = None, cloud: pd.DataFrame | None = None) -> Axes:
        """Cost per allocated, busy and useful GPU-hour per hall [USD/GPU-h]; cloud prices (a frame with
        ``accelerator``, ``provider``, ``pricing``, ``usd_per_gpu_hour``) as markers when given."""
        import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        h = self.halls
        x = np.arange(len(h))
        w = 0.27
        for i, (col, label) in enumerate(
            (
                ("tco_usd_per_gpu_hour", "allocated"),
                ("tco_usd_per_busy_gpu_hour", "busy"),
                ("tco_usd_per_useful_gpu_hour", "useful"),
            )
        ):
            ax.bar(x + (i - 1) * w, h[col], width=w, label=label)
        if cloud is not None:
            for j, acc in enumerate(h["accelerators"]):
                sub = cloud[cloud["accelerator"] == acc]
                ax.scatter(
                    np.full(len(sub), x[j] + 1.5 * w), sub["usd_per_gpu_hour"], marker="_", s=200, c="k"
                )
        ax.set_xticks(x, [f"{k}\n{a}" for k, a in zip(h["hall"], h["accelerators"], strict=True)])
        ax.set_ylabel(f"Cost [{self.currency}/GPU-h, {self.price_year} prices]")
        ax.legend(title="per GPU-hour")
        return ax


def _hall_series(result: Result, key: str, col: str, n_halls: int) -> np.ndarray:
    ts = result.timeseries
    name = f"{key}:{col}" if n_halls > 1 else col
    return ts[name].to_numpy(dtype=float) if name in ts.columns else np.zeros(len(ts))


def costs(result: Result, prices: Economics | Mapping[str, Any] | None = None) -> CostReport:
    """Capex, opex, TCO and cost per unit of a simulated campus.

    Parameters
    ----------
    result : Result
        A simulation result; energy, water, utilisation, goodput, failures, tokens come from it.
    prices : Economics or mapping, optional
        Prices and finance assumptions (the scenario's ``economics`` section by default; catalog
        defaults when neither is given). A mapping is validated like the scenario section.

    Returns
    -------
    CostReport

    Raises
    ------
    ScenarioError
        An accelerator without a catalog price and no ``accelerator_prices_usd`` entry, or invalid prices.

    Notes
    -----
    Opex over the simulated horizon ``H`` is scaled to a year by ``8760 / H``; capex is annualised with the
    capital recovery factor over each asset class's useful life (``docs/models/economics.md``).
    """
    econ = resolve_economics(result, prices)
    sc = result.scenario
    book = PriceBook(econ.prices, econ.price_year)
    halls, problems = campus_inventory(sc, econ)
    if problems:
        raise ScenarioError(problems, f"economics of {sc.name!r}")
    ts = result.timeseries
    horizon_h = len(ts) * result.step_h
    per_year = HOURS_PER_YEAR / horizon_h
    rate = econ.discount_rate_frac if econ.discount_rate_frac is not None else book["discount_rate_frac"]
    multi_site = len(sc.sites) > 1
    peak_site = {
        s.name: float(ts[f"{s.name}:facility_power_mw" if multi_site else "facility_power_mw"].max())
        for s in sc.sites
    }

    cap = pd.DataFrame(capex_rows(sc, halls, book, econ, peak_site), columns=TABLE_COLUMNS)
    life = np.array(
        [math.inf if c == "land" else book[_LIFE_ITEM[c]] for c in cap["asset_class"]], dtype=float
    )
    resid = np.where(cap["asset_class"] == "accelerators", book["residual_accelerators_frac"], 0.0)
    cap["life_years"], cap["residual_frac"] = life, resid
    cap["annual_usd"] = (
        annualized_capex_usd(cap["capex_usd"].to_numpy(), rate, life, resid) if len(cap) else []
    )
    opx = pd.DataFrame(opex_rows(result, halls, book, econ, cap, per_year), columns=TABLE_COLUMNS)
    table = pd.concat([cap, opx], ignore_index=True)
    table["currency"] = econ.currency

    hall_df = _hall_table(result, halls, table, per_year)
    kpis = _kpis(result, halls, table, hall_df, econ, book, rate, per_year)
    jobs = _job_costs(result, hall_df)
    services = _service_costs(result, hall_df)
    for df, key, col in ((jobs, "job", "cost_usd"), (services, "service", "usd_per_million_tokens")):
        if df is not None and col == "usd_per_million_tokens":
            for _, r in df.iterrows():
                kpis[f"{r[key]}:usd_per_million_tokens"] = float(r[col])
    cash = np.zeros(0)
    if econ.revenue_usd_per_gpu_hour is not None:
        cash = _cash_flows(table, kpis, econ, book)
        kpis["npv_usd"] = npv_usd(cash, rate)
        kpis["irr_frac"] = irr(cash)
    s = pd.Series(kpis, dtype=float, name="value")
    s.index.name = "metric"
    return CostReport(table, s, hall_df, jobs, services, cash, econ.currency, econ.price_year)


def _hall_table(result: Result, halls: list[HallInfo], table: pd.DataFrame, per_year: float) -> pd.DataFrame:
    """Per hall: GPU-hours and the annual cost allocated to it."""
    n_h = len(halls)
    dt_h = result.step_h
    losses = _training_losses_by_hall(result)
    rec = []
    fac_energy = {}
    for h in halls:
        util = _hall_series(result, h.key, "gpu_utilization_frac", n_h)
        thr = _hall_series(result, h.key, "throughput_frac", n_h)
        fac_energy[h.key] = float(_hall_series(result, h.key, "facility_power_mw", n_h).sum() * dt_h)
        busy = float(util.sum() * dt_h * h.n_gpus)
        useful = max(float((util * thr).sum() * dt_h * h.n_gpus) - losses.get(h.key, 0.0), 0.0)
        tflops = float(
            np.average([g.bf16_dense_tflops for g in h.groups], weights=[g.n_gpus for g in h.groups])
        )
        rec.append(
            {
                "hall": h.key,
                "site": h.site,
                "accelerators": h.accelerators,
                "n_gpus": h.n_gpus,
                "nameplate_it_mw": h.nameplate_mw,
                "bf16_dense_tflops": tflops,
                "gpu_hours_per_year": h.n_gpus * HOURS_PER_YEAR,
                "busy_gpu_hours_per_year": busy * per_year,
                "useful_gpu_hours_per_year": useful * per_year,
            }
        )
    df = pd.DataFrame(rec)
    # allocation matrix (rows x halls): a hall row to its hall; site/campus rows by IT nameplate share, energy
    # and water by facility-energy share within the site
    keys = list(df["hall"])
    idx = {k: i for i, k in enumerate(keys)}
    sites = df["site"].to_numpy()
    mw = df["nameplate_it_mw"].to_numpy(dtype=float)
    energy = np.array([fac_energy[k] for k in keys])
    alloc = np.zeros((len(table), len(keys)))
    for i, (hall, site, cls) in enumerate(
        zip(table["hall"], table["site"], table["asset_class"], strict=True)
    ):
        if hall:
            alloc[i, idx[hall]] = 1.0
            continue
        mask = (sites == site) if site else np.ones(len(keys), dtype=bool)
        w = np.where(mask, energy if cls in ("energy", "water") and energy[mask].sum() > 0 else mw, 0.0)
        alloc[i] = w / w.sum() if w.sum() > 0 else mask / max(mask.sum(), 1)
    annual_rows = table["annual_usd"].to_numpy(dtype=float)
    var_rows = np.where(table["asset_class"].isin(["energy", "water", "parts"]).to_numpy(), annual_rows, 0.0)
    df["annual_cost_usd"] = annual_rows @ alloc
    df["variable_cost_usd"] = var_rows @ alloc
    annual, variable = df["annual_cost_usd"], df["variable_cost_usd"]

    def ratio(a: pd.Series, b: pd.Series) -> pd.Series:
        return a / b.where(b > 0)

    df["tco_usd_per_gpu_hour"] = ratio(annual, df["gpu_hours_per_year"])
    df["tco_usd_per_busy_gpu_hour"] = ratio(annual, df["busy_gpu_hours_per_year"])
    df["tco_usd_per_useful_gpu_hour"] = ratio(annual, df["useful_gpu_hours_per_year"])
    df["fixed_usd_per_gpu_year"] = (annual - variable) / df["n_gpus"]
    df["variable_usd_per_busy_gpu_hour"] = ratio(variable, df["busy_gpu_hours_per_year"]).fillna(0.0)
    return df


def _training_losses_by_hall(result: Result) -> dict[str, float]:
    """GPU-hours of training lost to failures, checkpoints and restarts per hall (horizon)."""
    jobs = result.jobs
    if jobs is None or not len(jobs) or "workload" not in jobs.columns:
        return {}
    cols = [
        c for c in ("lost_work_gpu_hours", "checkpoint_gpu_hours", "restart_gpu_hours") if c in jobs.columns
    ]
    wl_hall = workload_halls(result)
    out: dict[str, float] = {}
    for wl, grp in jobs.groupby("workload"):
        key = wl_hall.get(str(wl))
        if key is not None:
            out[key] = out.get(key, 0.0) + float(grp[cols].to_numpy().sum())
    return out


def _kpis(
    result: Result,
    halls: list[HallInfo],
    table: pd.DataFrame,
    hall_df: pd.DataFrame,
    econ: Economics,
    book: PriceBook,
    rate: float,
    per_year: float,
) -> dict[str, float]:
    k: dict[str, float] = {}
    cap = table[table["category"] == "capex"]
    opx = table[table["category"] == "opex"]
    cap_by = cap.groupby("asset_class")["capex_usd"].sum().to_dict()
    for c in CAPEX_CLASSES:
        k[f"capex_{c}_usd"] = float(cap_by.get(c, 0.0))
    k["capex_usd"] = float(cap["capex_usd"].sum())
    mw = float(sum(h.nameplate_mw for h in halls))
    k["it_nameplate_mw"] = mw
    k["capex_usd_per_mw_it"] = k["capex_usd"] / mw if mw > 0 else math.nan
    k["facility_capex_usd_per_mw_it"] = k["capex_facility_usd"] / mw if mw > 0 else math.nan
    k["annualized_capex_usd_per_year"] = float(cap["annual_usd"].sum())
    opx_by = opx.groupby("asset_class")["annual_usd"].sum().to_dict()
    for c in OPEX_CLASSES:
        k[f"opex_{c}_usd_per_year"] = float(opx_by.get(c, 0.0))
    k["opex_usd_per_year"] = float(opx["annual_usd"].sum())
    tco = k["annualized_capex_usd_per_year"] + k["opex_usd_per_year"]
    k["tco_usd_per_year"] = tco
    alloc = float(hall_df["gpu_hours_per_year"].sum())
    busy = float(hall_df["busy_gpu_hours_per_year"].sum())
    useful = float(hall_df["useful_gpu_hours_per_year"].sum())
    k["gpu_hours_per_year"], k["busy_gpu_hours_per_year"], k["useful_gpu_hours_per_year"] = (
        alloc,
        busy,
        useful,
    )
    k["tco_usd_per_gpu_hour"] = tco / alloc if alloc > 0 else math.nan
    k["tco_usd_per_busy_gpu_hour"] = tco / busy if busy > 0 else math.nan
    k["tco_usd_per_useful_gpu_hour"] = tco / useful if useful > 0 else math.nan
    eflop = float(
        (hall_df["useful_gpu_hours_per_year"] * hall_df["bf16_dense_tflops"]).sum() * 3600e12 / 1e18
    )
    k["lcoc_usd_per_eflop"] = tco / eflop if eflop > 0 else math.nan
    k["tco_usd_per_mw_it_per_year"] = tco / mw if mw > 0 else math.nan
    for acc, grp in hall_df.groupby("accelerators"):
        a, b, u = (
            grp[c].sum()
            for c in ("gpu_hours_per_year", "busy_gpu_hours_per_year", "useful_gpu_hours_per_year")
        )
        cost = grp["annual_cost_usd"].sum()
        k[f"{acc}:tco_usd_per_gpu_hour"] = float(cost / a) if a > 0 else math.nan
        k[f"{acc}:tco_usd_per_busy_gpu_hour"] = float(cost / b) if b > 0 else math.nan
        k[f"{acc}:tco_usd_per_useful_gpu_hour"] = float(cost / u) if u > 0 else math.nan
    k["price_year"] = float(econ.price_year)
    k["price_year_min"] = float(table["price_year"].min()) if len(table) else math.nan
    k["price_year_max"] = float(table["price_year"].max()) if len(table) else math.nan
    k["discount_rate_frac"] = rate
    k["estimated_cost_share_frac"] = (
        float(table.loc[table["is_estimate"].astype(bool), "annual_usd"].sum() / tco) if tco > 0 else math.nan
    )
    return k


def _rates(result: Result, hall_df: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Cost per busy GPU-hour of each workload's hall (the campus average when it has none)."""
    by_hall = dict(zip(hall_df["hall"], hall_df["tco_usd_per_busy_gpu_hour"], strict=True))
    campus = float(hall_df["annual_cost_usd"].sum() / hall_df["busy_gpu_hours_per_year"].sum())
    wl_rate = {w: by_hall.get(h, campus) for w, h in workload_halls(result).items()}
    return names.astype(str).map(lambda w: wl_rate.get(w, campus)).to_numpy(dtype=float)


def _job_costs(result: Result, hall_df: pd.DataFrame) -> pd.DataFrame | None:
    """Cost per training job: its GPU-hours (wall, including restarts) at its hall's cost per busy GPU-hour."""
    jobs = result.jobs
    if jobs is None or not len(jobs) or "workload" not in jobs.columns:
        return None
    rate = _rates(result, hall_df, jobs["workload"])
    out = jobs[["workload", "job", "state", "n_gpus", "gpu_hours", "useful_gpu_hours"]].copy()
    out["usd_per_busy_gpu_hour"] = rate
    out["cost_usd"] = out["gpu_hours"] * rate
    out["usd_per_useful_gpu_hour"] = out["cost_usd"] / out["useful_gpu_hours"].where(
        out["useful_gpu_hours"] > 0
    )
    return out


def _service_costs(result: Result, hall_df: pd.DataFrame) -> pd.DataFrame | None:
    """Cost per inference service: its GPU-hours at its hall's cost per busy GPU-hour, per million tokens."""
    svc = result.services
    if svc is None or not len(svc):
        return None
    rate = _rates(result, hall_df, svc["service"])
    out = svc[["service", "accelerator", "gpu_hours", "output_tokens"]].copy()
    out["usd_per_busy_gpu_hour"] = rate
    out["cost_usd"] = out["gpu_hours"] * rate
    tok = out["output_tokens"].where(out["output_tokens"] > 0)
    out["usd_per_million_tokens"] = out["cost_usd"] / (tok / 1e6)
    return out


def _cash_flows(table: pd.DataFrame, kpis: dict[str, float], econ: Economics, book: PriceBook) -> np.ndarray:
    """Yearly cash flows: −capex at t = 0 and at each replacement (t = L, 2L, ... < n); revenue − opex in years
    1..n; straight-line book value of every asset returned at t = n."""
    n = econ.analysis_years or round(book["life_accelerators_years"])
    cf = np.zeros(n + 1)
    revenue = kpis["busy_gpu_hours_per_year"] * float(econ.revenue_usd_per_gpu_hour or 0.0)
    cf[1:] += revenue - kpis["opex_usd_per_year"]
    cap = table[table["category"] == "capex"]
    for c, life, res in zip(cap["capex_usd"], cap["life_years"], cap["residual_frac"], strict=True):
        if math.isinf(life):
            cf[0] -= c
            cf[n] += c
            continue
        step = max(round(life), 1)
        buys = list(range(0, n, step))
        for t in buys:
            cf[t] -= c
        cf[n] += book_value_usd(c, life, res, n - buys[-1])
    return cf
