"""Economics: optional prices, finance assumptions and cloud options of a scenario.

Declarative only. Costs are a pure function of a :class:`~gigawatt.Result` and these prices
(:func:`gigawatt.economics.costs`), so changing a price never needs a new simulation. Every price not given
here comes from the shipped cost catalog (``gigawatt/data/costs.csv``, a source and a price year on every
row); see ``docs/models/economics.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator

from gigawatt.catalog import cost_catalog, suggest
from gigawatt.scenario.base import StrictModel

__all__ = ["CloudOption", "Economics"]

#: A given price more than this factor away from the catalog's plausible range is rejected as a likely unit
#: mix-up (USD/kW given as USD/MW, millions given as units, ...).
UNIT_MIXUP_FACTOR = 30.0


def _known_item(name: str) -> str:
    names = [str(i) for i in cost_catalog().index]
    if name not in names:
        hint = suggest(name, names)
        raise ValueError(
            "unknown cost item"
            + (f"; did you mean {hint}?" if hint else "; see gigawatt.economics.cost_catalog()")
        )
    return name


CostItem = Annotated[str, AfterValidator(_known_item)]


class CloudOption(StrictModel):
    """Which cloud offer prices bursts and the all-cloud comparison (rows of ``data/cloud_prices.csv``)."""

    provider: str = "aws"
    """Provider name in the cloud price catalog (``gigawatt.economics.cloud_prices()``)."""
    pricing: Literal["on_demand", "commit_1y", "commit_3y", "spot"] = "on_demand"
    usd_per_gpu_hour: PositiveFloat | None = None
    """Override of the catalog price [USD/GPU-h] (every accelerator type)."""


class Economics(StrictModel):
    """Prices and finance assumptions for capex, opex and TCO (all in ``currency`` of ``price_year``).

    Catalog prices keep their own price year (shown per row of the cost table); figures you give here are
    taken to be in ``price_year``. No escalation between years is applied.
    """

    currency: Literal["USD"] = "USD"
    """Currency of every price and result (only USD is catalogued)."""
    price_year: int = Field(2025, ge=2000, le=2100)
    """Year of the prices given here (reported with every figure)."""
    prices: dict[CostItem, NonNegativeFloat] = Field(default_factory=dict)
    """Overrides of cost-catalog items by name, in the unit the name carries (``facility_usd_per_mw``,
    ``battery_energy_usd_per_kwh``, ``life_accelerators_years``, ...; see ``gigawatt.economics.cost_catalog()``).
    An unknown name, or a value far outside the item's plausible range (a likely unit mix-up such as USD/kW for
    USD/MW), is an error."""
    accelerator_prices_usd: dict[str, PositiveFloat] = Field(default_factory=dict)
    """Price of one accelerator by catalog name [USD]; default: the catalog's ``list_price_usd``."""
    facility: Literal["own", "lease"] = "own"
    """``own``: build (facility, grid connection and land are capex); ``lease``: colocation lease per kW-month
    of IT nameplate instead."""
    discount_rate_frac: float | None = Field(None, ge=0, le=0.5)
    """Discount rate / WACC [1/year]; default: the catalog's ``discount_rate_frac``."""
    analysis_years: PositiveInt | None = Field(None, le=60)
    """Period of the NPV/IRR cash flows [years]; default: the accelerators' useful life."""
    energy_price_usd_per_mwh: NonNegativeFloat | None = None
    """Re-price grid energy at this flat price [USD/MWh] without re-simulating (demand charges, PPA settlement
    and fuel stay as simulated; dispatch is not re-optimised). ``None``: the simulated energy cost."""
    revenue_usd_per_gpu_hour: PositiveFloat | None = None
    """Price earned per busy GPU-hour [USD/GPU-h]; enables NPV and IRR."""
    cloud: CloudOption = CloudOption()
    """Cloud offer used for hybrid bursts and the all-cloud comparison."""

    @field_validator("prices")
    @classmethod
    def _plausible(cls, prices: dict[str, float]) -> dict[str, float]:
        table = cost_catalog()
        problems = []
        for key, value in prices.items():
            row = table.loc[key].to_dict()
            low, high = float(row["low"]), float(row["high"])
            if value > 0 and (value < low / UNIT_MIXUP_FACTOR or value > high * UNIT_MIXUP_FACTOR):
                problems.append(
                    f"{key}: {value:g} {row['unit']} is far outside the plausible range "
                    f"[{low:g}, {high:g}] {row['unit']}; check the unit (the name says {row['unit']})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return prices
