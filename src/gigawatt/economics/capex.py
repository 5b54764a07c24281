"""Capital expenditure: what the scenario's campus costs to build (pure function of the scenario and prices).

Every row of the cost table carries its quantity, unit price, price year, estimate flag and source; the
equations are in ``docs/models/economics.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from gigawatt import catalog
from gigawatt.economics.catalog import PriceBook

if TYPE_CHECKING:
    from gigawatt.scenario.economics import Economics
    from gigawatt.scenario.root import Scenario

__all__ = ["CAPEX_CLASSES", "HallInfo", "campus_inventory", "capex_rows", "row"]

#: Asset classes of capital cost, in the order of the cost table and the waterfall.
CAPEX_CLASSES = (
    "accelerators",
    "servers",
    "network",
    "storage",
    "racks",
    "facility",
    "grid",
    "energy_plant",
    "land",
)
#: Cooling technologies that take the liquid-cooling facility adder; rdhx takes its own.
LIQUID_TECHNOLOGIES = ("dlc", "immersion")
#: Rated power of one NREL 5-MW reference turbine [kW] (Jonkman et al. 2009), as in the wind generator model.
WIND_TURBINE_KW = 5000.0
#: Link speed at which the per-GPU network prices are quoted [Gb/s].
NETWORK_REFERENCE_GBPS = 400.0


@dataclass
class GroupInfo:
    """One rack group: its accelerator, counts and price."""

    name: str
    accelerator: str
    n_gpus: int
    n_racks: int
    gpus_per_rack: int
    price_usd: float | None
    price_source: str
    price_is_estimate: bool
    bf16_dense_tflops: float


@dataclass
class HallInfo:
    """A hall as economics sees it: key ``site/hall``, nameplate, cooling, electrical, fabric, rack groups."""

    key: str
    site: str
    nameplate_mw: float
    cooling: str
    redundancy: str
    fabric: str
    link_speed_gbps: float
    oversubscription: float
    groups: list[GroupInfo] = field(default_factory=list)

    @property
    def n_gpus(self) -> int:
        return sum(g.n_gpus for g in self.groups)

    @property
    def accelerators(self) -> str:
        return "+".join(sorted({g.accelerator for g in self.groups}))


def campus_inventory(scenario: Scenario, econ: Economics) -> tuple[list[HallInfo], list[tuple[str, str]]]:
    """Halls with their priced rack groups, and ``(path, message)`` problems (unpriced accelerators)."""
    halls: list[HallInfo] = []
    problems: list[tuple[str, str]] = []
    for s in scenario.sites:
        for h in s.halls:
            info = HallInfo(
                key=f"{s.name}/{h.name}",
                site=s.name,
                nameplate_mw=h.design_it_capacity_mw or h.nameplate_it_power_mw(),
                cooling=h.cooling.technology,
                redundancy=h.electrical.redundancy,
                fabric=h.fabric.kind,
                link_speed_gbps=h.fabric.link_speed_gbps,
                oversubscription=h.fabric.oversubscription,
            )
            for rg in h.racks:
                spec = rg.server.accelerator_spec()
                price = econ.accelerator_prices_usd.get(spec.name, spec.list_price_usd)
                source = "user-supplied" if spec.name in econ.accelerator_prices_usd else spec.source
                est = spec.name not in econ.accelerator_prices_usd and _price_is_estimate(spec.name)
                if price is None:
                    problems.append(
                        (
                            f"economics.accelerator_prices_usd.{spec.name}",
                            f"no list price for accelerator {spec.name} (hall {info.key}) in the catalog; "
                            f"give one, e.g. economics: {{accelerator_prices_usd: {{{spec.name}: 30000}}}}",
                        )
                    )
                info.groups.append(
                    GroupInfo(
                        name=rg.name,
                        accelerator=spec.name,
                        n_gpus=rg.n_accelerators,
                        n_racks=rg.count,
                        gpus_per_rack=rg.servers_per_rack * rg.server.accelerators_per_server,
                        price_usd=price,
                        price_source=source,
                        price_is_estimate=est,
                        bf16_dense_tflops=spec.bf16_dense_tflops,
                    )
                )
            halls.append(info)
    return halls, problems


@cache
def accelerator_price_year(name: str) -> int:
    """Year of an accelerator's catalog price: the first year quoted after "price" in its ``notes`` (e.g.
    "Raymond James analyst estimate (2023)"), else the latest year in its ``source``, else 2025."""
    table = catalog.accelerators()
    if name not in table.index:
        return 2025
    row = table.loc[name]
    notes, source = str(row.get("notes", "")), str(row.get("source", ""))
    i = notes.lower().find("price")
    m = re.search(r"(20\d\d)", notes[i:]) if i >= 0 else None
    if m:
        return int(m.group(1))
    years = [int(y) for y in re.findall(r"(20\d\d)", source)]
    return max(years) if years else 2025


@cache
def _price_is_estimate(name: str) -> bool:
    table = catalog.accelerators()
    if name in table.index and "price_is_estimate" in table.columns:
        return bool(table.loc[name, "price_is_estimate"])
    return True


def row(
    item: str,
    category: str,
    asset_class: str,
    *,
    hall: str = "",
    site: str = "",
    quantity: float,
    quantity_unit: str,
    unit_price: float,
    price_unit: str,
    price_year: int,
    is_estimate: bool,
    source: str,
    capex_usd: float = 0.0,
    annual_usd: float = 0.0,
    life_years: float = math.nan,
    residual_frac: float = 0.0,
    currency: str = "USD",
) -> dict[str, Any]:
    """One cost-table row (see :class:`gigawatt.economics.CostReport` for the columns)."""
    return {
        "item": item,
        "category": category,
        "asset_class": asset_class,
        "site": site,
        "hall": hall,
        "quantity": quantity,
        "quantity_unit": quantity_unit,
        "unit_price": unit_price,
        "price_unit": price_unit,
        "capex_usd": capex_usd,
        "life_years": life_years,
        "residual_frac": residual_frac,
        "annual_usd": annual_usd,
        "currency": currency,
        "price_year": price_year,
        "is_estimate": is_estimate,
        "source": source,
    }


def _priced(book: PriceBook, name: str, quantity: float, q_unit: str, asset_class: str, **kw: Any) -> dict:
    p = book.get(name)
    scale = kw.pop("scale", 1.0)
    return row(
        name,
        "capex",
        asset_class,
        quantity=quantity,
        quantity_unit=q_unit,
        unit_price=p.value * scale,
        price_unit=p.unit,
        price_year=p.price_year,
        is_estimate=p.is_estimate,
        source=p.source,
        capex_usd=quantity * p.value * scale,
        **kw,
    )


def capex_rows(
    scenario: Scenario,
    halls: list[HallInfo],
    book: PriceBook,
    econ: Economics,
    peak_site_mw: dict[str, float],
) -> list[dict[str, Any]]:
    """Capital cost rows per hall and site.

    Accelerators: ``N · price``; servers: ``N · host share`` (NVL72-class when a rack holds 72 GPUs, else
    HGX-class); network: ``N · p_fabric · sqrt(link/400 Gb/s) · (0.5 + 0.5/oversubscription)``; storage:
    ``N · p``; racks: ``racks · p_rack`` (liquid racks for dlc/immersion); facility (owned):
    ``MW · p_facility · (1 + s_el (k_redundancy − 1))`` plus the liquid adder ``MW · p_liquid``; land:
    ``MW · acres/MW · p_acre``; grid: ``MW_import · p_MW + p_project``; on-site energy plant per kW or kWh.
    """
    rows: list[dict[str, Any]] = []
    own = econ.facility == "own"
    for h in halls:
        for g in h.groups:
            where = {"hall": h.key, "site": h.site}
            if g.price_usd is not None:
                rows.append(
                    row(
                        f"accelerator {g.accelerator}",
                        "capex",
                        "accelerators",
                        quantity=g.n_gpus,
                        quantity_unit="GPU",
                        unit_price=g.price_usd,
                        price_unit="USD/GPU",
                        price_year=econ.price_year
                        if g.price_source == "user-supplied"
                        else accelerator_price_year(g.accelerator),
                        is_estimate=g.price_is_estimate,
                        source=g.price_source,
                        capex_usd=g.n_gpus * g.price_usd,
                        hall=h.key,
                        site=h.site,
                    )
                )
            server_item = "server_nvl72_usd_per_gpu" if g.gpus_per_rack == 72 else "server_hgx_usd_per_gpu"
            rows.append(_priced(book, server_item, g.n_gpus, "GPU", "servers", **where))
            rows.append(_priced(book, "storage_usd_per_gpu", g.n_gpus, "GPU", "storage", **where))
            liquid_rack = h.cooling in LIQUID_TECHNOLOGIES
            rack_item = "rack_liquid_usd_per_rack" if liquid_rack else "rack_air_usd_per_rack"
            rows.append(_priced(book, rack_item, g.n_racks, "rack", "racks", **where))
        where = {"hall": h.key, "site": h.site}
        net_scale = math.sqrt(h.link_speed_gbps / NETWORK_REFERENCE_GBPS) * (0.5 + 0.5 / h.oversubscription)
        rows.append(
            _priced(
                book, f"network_{h.fabric}_usd_per_gpu", h.n_gpus, "GPU", "network", scale=net_scale, **where
            )
        )
        if own:
            k_red = book[
                {
                    "N": "redundancy_n_factor",
                    "N+1": "redundancy_n_plus_1_factor",
                    "2N": "redundancy_2n_factor",
                }[h.redundancy]
            ]
            factor = 1.0 + book["electrical_share_frac"] * (k_red - 1.0)
            rows.append(
                _priced(book, "facility_usd_per_mw", h.nameplate_mw, "MW", "facility", scale=factor, **where)
            )
            if h.cooling in LIQUID_TECHNOLOGIES:
                rows.append(
                    _priced(book, "liquid_cooling_usd_per_mw", h.nameplate_mw, "MW", "facility", **where)
                )
            elif h.cooling == "rdhx":
                rows.append(
                    _priced(book, "rdhx_cooling_usd_per_mw", h.nameplate_mw, "MW", "facility", **where)
                )
            acres = h.nameplate_mw * book["land_acres_per_mw"]
            rows.append(_priced(book, "land_usd_per_acre", acres, "acre", "land", **where))
    for s in scenario.sites:
        where = {"site": s.name}
        if own:
            cap_mw = s.grid.import_capacity_mw or peak_site_mw.get(s.name, 0.0)
            rows.append(_priced(book, "grid_interconnection_usd_per_mw", cap_mw, "MW", "grid", **where))
            rows.append(
                _priced(book, "grid_interconnection_usd_per_project", 1.0, "project", "grid", **where)
            )
        for gen in s.energy.generation:
            if gen.kind == "gas":
                rows.append(
                    _priced(
                        book,
                        "gas_generation_usd_per_kw",
                        gen.capacity_mw * 1e3,
                        "kW",
                        "energy_plant",
                        **where,
                    )
                )
            elif gen.kind == "solar":
                kw = gen.capacity_dc_mw * 1e3
                rows.append(_priced(book, "solar_usd_per_kw_dc", kw, "kW", "energy_plant", **where))
            elif gen.kind == "wind":
                kw = gen.n_turbines * WIND_TURBINE_KW
                rows.append(_priced(book, "wind_usd_per_kw", kw, "kW", "energy_plant", **where))
            elif gen.kind == "baseload":
                kw = gen.capacity_mw * 1e3
                rows.append(
                    _priced(book, "baseload_generation_usd_per_kw", kw, "kW", "energy_plant", **where)
                )
        bat = s.energy.battery
        if bat is not None:
            rows.append(
                _priced(
                    book, "battery_energy_usd_per_kwh", bat.energy_mwh * 1e3, "kWh", "energy_plant", **where
                )
            )
            rows.append(
                _priced(book, "battery_power_usd_per_kw", bat.power_mw * 1e3, "kW", "energy_plant", **where)
            )
    return rows
