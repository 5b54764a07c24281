"""Operating expenditure read from a Result: energy, water, replacement parts (from the simulated failures),
maintenance, staff, insurance, property tax and lease. Equations in ``docs/models/economics.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gigawatt.economics.capex import HallInfo, row
from gigawatt.economics.catalog import PriceBook
from gigawatt.scenario.resolve import resolve_hall

if TYPE_CHECKING:
    from gigawatt.result import Result
    from gigawatt.scenario.economics import Economics

__all__ = ["OPEX_CLASSES", "opex_rows", "workload_halls"]

#: Operating cost classes, in the order of the cost table and the waterfall.
OPEX_CLASSES = ("energy", "water", "maintenance", "parts", "staff", "insurance", "tax", "lease")
_IT_CLASSES = ("servers", "network", "storage", "racks")
_FACILITY_CLASSES = ("facility", "grid")
_TAXED_CLASSES = ("facility", "grid", "energy_plant", "land")


def workload_halls(result: Result) -> dict[str, str]:
    """Workload name → ``site/hall`` key of its target (inference: its decode/main target)."""
    sc = result.scenario
    out: dict[str, str] = {}
    for w in sc.workloads:
        target = getattr(w, "target", None)
        if target is None:
            continue
        try:
            si, hi = resolve_hall(sc, target.hall)
        except KeyError:
            continue
        out[w.name] = f"{sc.sites[si].name}/{sc.sites[si].halls[hi].name}"
    return out


def _opex(
    item: str,
    asset_class: str,
    annual_usd: float,
    *,
    quantity: float,
    q_unit: str,
    unit_price: float,
    p_unit: str,
    prov: dict[str, Any],
    **where: Any,
) -> dict[str, Any]:
    return row(
        item,
        "opex",
        asset_class,
        quantity=quantity,
        quantity_unit=q_unit,
        unit_price=unit_price,
        price_unit=p_unit,
        annual_usd=annual_usd,
        **prov,
        **where,
    )


def opex_rows(
    result: Result,
    halls: list[HallInfo],
    book: PriceBook,
    econ: Economics,
    capex: pd.DataFrame,
    per_year: float,
) -> list[dict[str, Any]]:
    """Operating cost rows [USD/year]; horizon totals are scaled by ``per_year = 8760 h / horizon_h``."""
    rows: list[dict[str, Any]] = []
    sc = result.scenario
    kp = result.extra_kpis
    sim = {"price_year": sc.start.year, "is_estimate": False, "source": "simulated (Result)"}
    multi_site = len(sc.sites) > 1

    def site_kpi(site: str, key: str) -> float | None:
        k = f"{site}:{key}" if multi_site else key
        v = kp.get(k)
        return None if v is None else float(v)

    # ---- energy: from the simulation, optionally re-priced
    ts = result.timeseries
    for site in sc.sites:
        where = {"site": site.name}
        col = f"{site.name}:energy_cost_usd" if multi_site else "energy_cost_usd"
        total = float(ts[col].sum()) if col in ts.columns else float(ts["energy_cost_usd"].sum())
        grid = site_kpi(site.name, "grid_energy_cost_usd")
        parts = {
            "demand_charges": site_kpi(site.name, "demand_charges_usd"),
            "ppa_settlement": site_kpi(site.name, "ppa_settlement_usd"),
            "fuel": site_kpi(site.name, "fuel_cost_usd"),
        }
        gcol = f"{site.name}:grid_import_mw" if multi_site else "grid_import_mw"
        grid_mwh = float(ts[gcol].sum() * result.step_h)
        if grid is None:  # no breakdown: one energy row
            rows.append(
                _opex(
                    "energy (simulated)",
                    "energy",
                    total * per_year,
                    quantity=grid_mwh * per_year,
                    q_unit="MWh/year",
                    unit_price=total / grid_mwh if grid_mwh > 0 else 0.0,
                    p_unit="USD/MWh",
                    prov=sim,
                    **where,
                )
            )
            continue
        if econ.energy_price_usd_per_mwh is not None:
            grid = grid_mwh * econ.energy_price_usd_per_mwh
            prov = {
                "price_year": econ.price_year,
                "is_estimate": False,
                "source": "user-supplied (re-priced)",
            }
        else:
            prov = sim
        rows.append(
            _opex(
                "grid energy",
                "energy",
                grid * per_year,
                quantity=grid_mwh * per_year,
                q_unit="MWh/year",
                unit_price=grid / grid_mwh if grid_mwh > 0 else 0.0,
                p_unit="USD/MWh",
                prov=prov,
                **where,
            )
        )
        # demand charges are billed per calendar month: a partial-year run scales by 12 / months simulated
        idx = pd.DatetimeIndex(ts.index)
        n_months = len(set(zip(idx.year, idx.month, strict=True))) if len(ts) else 1
        scale = {"demand_charges": 12.0 / max(n_months, 1)}
        for name, v in parts.items():
            if v:
                f = scale.get(name, per_year)
                rows.append(
                    _opex(name.replace("_", " "), "energy", v * f, quantity=1.0, q_unit="site",
                          unit_price=v * f, p_unit="USD/year", prov=sim, **where)
                )  # fmt: skip

    # ---- water
    p = book.get("water_usd_per_m3")
    prov = book.provenance("water_usd_per_m3")
    for site in sc.sites:
        col = f"{site.name}:water_use_m3" if multi_site else "water_use_m3"
        if col in ts.columns:
            m3 = float(ts[col].sum()) * per_year
            rows.append(
                _opex("water", "water", m3 * p.value, quantity=m3, q_unit="m3/year", unit_price=p.value,
                      p_unit=p.unit, prov=prov, site=site.name)
            )  # fmt: skip

    # ---- maintenance: shares of capex per class
    by = capex.groupby(["asset_class", "site", "hall"], dropna=False)["capex_usd"].sum()
    for item, classes in (
        ("maintenance_it_frac_per_year", _IT_CLASSES),
        ("maintenance_facility_frac_per_year", _FACILITY_CLASSES),
        ("maintenance_energy_plant_frac_per_year", ("energy_plant",)),
    ):
        frac, prov = book[item], book.provenance(item)
        for key, c in by.items():
            cls, site_name, hall = (str(x) for x in key)  # type: ignore[attr-defined]
            if cls in classes and c > 0:
                rows.append(
                    _opex(item, "maintenance", frac * c, quantity=c, q_unit="USD capex", unit_price=frac,
                          p_unit="1/year", prov=prov, site=site_name, hall=hall)
                )  # fmt: skip

    # ---- replacement parts from the simulated failures
    rows.extend(_parts_rows(result, halls, book, per_year))

    # ---- staff, lease (per MW of IT nameplate), insurance and property tax (shares of capex)
    for h in halls:
        where = {"site": h.site, "hall": h.key}
        pr = book.get("staff_usd_per_mw_per_year")
        rows.append(
            _opex("staff", "staff", h.nameplate_mw * pr.value, quantity=h.nameplate_mw, q_unit="MW",
                  unit_price=pr.value, p_unit=pr.unit, prov=book.provenance("staff_usd_per_mw_per_year"), **where)
        )  # fmt: skip
        if econ.facility == "lease":
            pr = book.get("colocation_lease_usd_per_kw_month")
            kw = h.nameplate_mw * 1e3
            rows.append(
                _opex("colocation lease", "lease", kw * pr.value * 12.0, quantity=kw, q_unit="kW",
                      unit_price=pr.value, p_unit=pr.unit,
                      prov=book.provenance("colocation_lease_usd_per_kw_month"), **where)
            )  # fmt: skip
    by_loc = capex.groupby(["site", "hall"], dropna=False)["capex_usd"].sum()
    taxed = capex[capex["asset_class"].isin(_TAXED_CLASSES)].groupby(["site", "hall"], dropna=False)[
        "capex_usd"
    ]
    taxed_sum = taxed.sum()
    ins, tax = book["insurance_frac_per_year"], book["property_tax_frac_per_year"]
    for key, c in by_loc.items():
        site_name, hall = (str(x) for x in key)  # type: ignore[attr-defined]
        rows.append(
            _opex("insurance", "insurance", ins * c, quantity=c, q_unit="USD capex", unit_price=ins,
                  p_unit="1/year", prov=book.provenance("insurance_frac_per_year"), site=site_name, hall=hall)
        )  # fmt: skip
        t = float(taxed_sum.get((site_name, hall), 0.0))
        if t > 0:
            rows.append(
                _opex("property tax", "tax", tax * t, quantity=t, q_unit="USD capex", unit_price=tax,
                      p_unit="1/year", prov=book.provenance("property_tax_frac_per_year"), site=site_name,
                      hall=hall)
            )  # fmt: skip
    return rows


def _parts_rows(
    result: Result, halls: list[HallInfo], book: PriceBook, per_year: float
) -> list[dict[str, Any]]:
    """Parts = Σ_jobs (n_gpu_interruptions · f_replace · p_accelerator + n_host · p_host + n_network · p_net)."""
    jobs = result.jobs
    if jobs is None or not len(jobs) or "workload" not in jobs.columns:
        return []
    wl_hall = workload_halls(result)
    by_key = {h.key: h for h in halls}
    rows = []
    f_gpu = book["gpu_replacement_frac"]
    p_host, p_net = book["host_part_usd_per_failure"], book["network_part_usd_per_failure"]
    for wl, grp in jobs.groupby("workload"):
        key = wl_hall.get(str(wl))
        if key is None or key not in by_key:
            continue
        h = by_key[key]
        priced = [g for g in h.groups if g.price_usd is not None]
        p_gpu = float(np.mean([g.price_usd for g in priced])) if priced else 0.0
        where = {"site": h.site, "hall": h.key}
        for col, item, unit_price, prov in (
            (
                "n_interruptions_gpu",
                "GPU replacements",
                f_gpu * p_gpu,
                book.provenance("gpu_replacement_frac"),
            ),
            ("n_interruptions_host", "host parts", p_host, book.provenance("host_part_usd_per_failure")),
            (
                "n_interruptions_network",
                "network parts",
                p_net,
                book.provenance("network_part_usd_per_failure"),
            ),
        ):
            if col not in grp.columns:
                continue
            n = float(grp[col].sum()) * per_year
            if n > 0:
                rows.append(
                    _opex(f"{item} ({wl})", "parts", n * unit_price, quantity=n, q_unit="failures/year",
                          unit_price=unit_price, p_unit="USD/failure", prov=prov, **where)
                )  # fmt: skip
    return rows
