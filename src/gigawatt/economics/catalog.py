"""Cost and cloud-price catalogs shipped with gigawatt (``gigawatt/data/costs.csv``, ``cloud_prices.csv``,
``cloud_providers.csv``): every row with a ``source``, an estimate flag and a price year or date. The cost
items themselves are :func:`gigawatt.catalog.cost_catalog` (the scenario validates prices against them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from gigawatt.catalog import data_path

__all__ = ["PriceBook", "cloud_prices", "cloud_providers"]


@cache
def _read(name: str, index: str | None) -> pd.DataFrame:
    with data_path(name).open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh)
    return df.set_index(index, drop=False) if index else df


def cloud_prices() -> pd.DataFrame:
    """Cloud GPU prices: ``provider``, ``accelerator``, ``pricing`` (on_demand, commit_1y, commit_3y, spot),
    ``usd_per_gpu_hour``, ``interruption_rate_per_hour`` (per 8-GPU instance, spot), ``price_date``,
    ``is_estimate``, ``source``."""
    return _read("cloud_prices.csv", None).copy()


def cloud_providers() -> pd.DataFrame:
    """Cloud providers: ``outage_rate_per_year``, ``mean_outage_h``, ``capacity_gpus`` (estimates), ``source``."""
    return _read("cloud_providers.csv", "provider").copy()


@cache
def _cost_records() -> dict[str, dict[str, Any]]:
    recs = _read("costs.csv", "name").to_dict(orient="index")
    return {str(k): {str(c): x for c, x in v.items()} for k, v in recs.items()}


@dataclass(frozen=True)
class Price:
    """One resolved price with its provenance."""

    value: float
    unit: str
    price_year: int
    is_estimate: bool
    source: str


class PriceBook:
    """Catalog prices with a scenario's (or caller's) overrides applied; ``book["facility_usd_per_mw"]``.

    Parameters
    ----------
    overrides
        ``{item: value}`` in the item's unit (validated by :class:`gigawatt.scenario.economics.Economics`).
    price_year
        Year of the overrides.
    """

    def __init__(self, overrides: dict[str, float] | None = None, price_year: int = 2025) -> None:
        self._table = _cost_records()
        self._overrides = dict(overrides or {})
        self.price_year = price_year

    def __getitem__(self, name: str) -> float:
        return self.get(name).value

    def get(self, name: str) -> Price:
        row = self._table[name]
        if name in self._overrides:
            return Price(
                float(self._overrides[name]), str(row["unit"]), self.price_year, False, "user-supplied"
            )
        return Price(
            float(row["value"]),
            str(row["unit"]),
            int(row["price_year"]),
            bool(row["is_estimate"]),
            str(row["source"]),
        )

    def provenance(self, name: str) -> dict[str, Any]:
        p = self.get(name)
        return {"price_year": p.price_year, "is_estimate": p.is_estimate, "source": p.source}
