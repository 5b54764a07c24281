"""The capacity gap: demand against online capacity per period, over the build-out draws.

For period [t₀, t₁) of length Δ = t₁ − t₀ weeks and draw d::

    C_d  = u · Σ_p G_p · |[max(t₀, on_{d,p}), min(t₁, off_p))| / Δ     mean usable GPUs online in the period
    D    = (1/Δ) ∫ D(t) dt                                              mean demand [GPUs] (exact)
    U_d  = max(D − C_d, 0) · 168 Δ                                      unmet demand [GPU-hours]
    cost = Σ_periods price · U_d                                       cloud bridging cost [USD]

with G_p the phase's GPUs, u = ``capacity_usable_frac`` and off_p its decommission week. Taking the maximum
of period means (not the mean of the instantaneous shortfall) under-counts unmet demand inside a period in
which a phase comes online; shorter periods reduce this (docs/models/buildout.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.buildout.demand import HOURS_PER_WEEK, demand_period_mean_gpus, period_edges
from gigawatt.buildout.montecarlo import BuildoutDraws
from gigawatt.scenario.buildout import Demand

__all__ = ["GapResult", "PriceLike", "capacity_gap", "period_capacity_gpus"]


def period_capacity_gpus(draws: BuildoutDraws, edges: Any, usable_frac: float = 1.0) -> np.ndarray:
    """Mean usable GPUs online in each period, ``(draws, periods)`` (phases online part of a period count
    pro rata)."""
    e = np.asarray(edges, dtype=float)
    t0, t1 = e[:-1][None, :], e[1:][None, :]
    dt = t1 - t0
    dec = draws.decommission_weeks()
    out = np.zeros((draws.n_draws, e.size - 1))
    for k, ph in enumerate(draws.plan.phases):
        if ph.gpus == 0:
            continue
        on = draws.online_week[:, k, None]
        overlap = np.clip(np.minimum(t1, dec[k]) - np.maximum(t0, on), 0.0, None)
        out += ph.gpus * overlap / dt
    return usable_frac * out


@dataclass
class GapResult:
    """Demand, capacity and unmet demand per period over the draws."""

    edges_week: np.ndarray
    """Period boundaries [weeks from start_date]."""
    start_date: Any
    demand: pd.DataFrame
    """Mean demand per period [GPUs] by curve, training, inference, total."""
    capacity_gpus: np.ndarray
    """Mean usable GPUs online per period, ``(draws, periods)``."""
    unmet_gpu_h: np.ndarray
    """Unmet demand per period [GPU-hours], ``(draws, periods)``."""
    cloud_usd_per_gpu_h: np.ndarray | float = 0.0
    """Price of bridging unmet demand in a cloud [USD per GPU-hour]: one number, or one per period."""

    @property
    def period_h(self) -> np.ndarray:
        """Length of each period [h]."""
        return np.diff(self.edges_week) * HOURS_PER_WEEK

    @property
    def gap_gpus(self) -> np.ndarray:
        """Shortfall per period [GPUs] (demand − capacity, ≥ 0), ``(draws, periods)``."""
        return self.unmet_gpu_h / self.period_h[None, :]

    @property
    def total_unmet_gpu_h(self) -> np.ndarray:
        """Unmet demand over the horizon per draw [GPU-hours]."""
        return self.unmet_gpu_h.sum(axis=1)

    def cloud_cost_usd(self, usd_per_gpu_h: PriceLike | None = None) -> np.ndarray:
        """Cost of bridging the unmet demand in a cloud, per draw [USD] (price as in :func:`capacity_gap`)."""
        price = self.cloud_usd_per_gpu_h if usd_per_gpu_h is None else _price(usd_per_gpu_h, self.edges_week)
        return (self.unmet_gpu_h * np.broadcast_to(price, self.period_h.shape)[None, :]).sum(axis=1)

    def table(self, q: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Per period: demand, capacity and unmet-demand quantiles over the draws."""
        idx = pd.Index(self.edges_week[:-1], name="week")
        df = pd.DataFrame(index=idx)
        df["date"] = pd.Timestamp(self.start_date) + pd.to_timedelta(self.edges_week[:-1] * 7.0, unit="D")
        df["demand_gpus"] = self.demand["total"].to_numpy()
        for x in q:
            df[f"capacity_p{round(x * 100):02d}_gpus"] = np.quantile(self.capacity_gpus, x, axis=0)
        df["unmet_mean_gpu_h"] = self.unmet_gpu_h.mean(axis=0)
        for x in q:
            df[f"unmet_p{round(x * 100):02d}_gpu_h"] = np.quantile(self.unmet_gpu_h, x, axis=0)
        df["p_short_frac"] = (self.unmet_gpu_h > 0).mean(axis=0)
        return df

    def kpis(self, from_week: float | None = None) -> dict[str, float]:
        """Flat KPIs: expected and P90 unmet GPU-hours, P90 peak gap, P(any shortfall), cloud cost.

        ``from_week`` counts only the periods that start at or after it (e.g. the years after the build-out
        is due, when the early shortfall no decision can change is not of interest).
        """
        keep = (
            np.ones(self.period_h.size, dtype=bool)
            if from_week is None
            else self.edges_week[:-1] >= from_week
        )
        unmet = self.unmet_gpu_h[:, keep]
        tot = unmet.sum(axis=1)
        gap = unmet / self.period_h[None, keep] if keep.any() else np.zeros((tot.size, 1))
        price = np.broadcast_to(self.cloud_usd_per_gpu_h, self.period_h.shape)[keep]
        cost = (unmet * price[None, :]).sum(axis=1)
        return {
            "unmet_gpu_h_mean": float(tot.mean()),
            "unmet_gpu_h_p50": float(np.quantile(tot, 0.5)),
            "unmet_gpu_h_p90": float(np.quantile(tot, 0.9)),
            "gap_gpus_peak_p90": float(np.quantile(gap.max(axis=1), 0.9)),
            "p_any_shortfall_frac": float(np.mean(tot > 0)),
            "cloud_bridge_usd_mean": float(cost.mean()),
            "cloud_bridge_usd_p90": float(np.quantile(cost, 0.9)),
        }


PriceLike = float | Callable[[np.ndarray], Any]


def _price(price: PriceLike, edges: np.ndarray) -> np.ndarray | float:
    """A price per GPU-hour: a number, or a function of the period start week returning one per period."""
    if callable(price):
        out = np.asarray(price(edges[:-1]), dtype=float)
        out = np.broadcast_to(out, (edges.size - 1,)).astype(float)
    else:
        out = np.asarray(float(price))
    if np.any(~np.isfinite(out)) or np.any(out < 0):
        raise ValueError("cloud_usd_per_gpu_h must be >= 0 and finite in every period")
    return out if out.ndim else float(out)


def capacity_gap(
    draws: BuildoutDraws, demand: Demand | None = None, *, cloud_usd_per_gpu_h: PriceLike = 0.0
) -> GapResult:
    """Unmet demand per period and draw for a build-out's draws against demand curves.

    Parameters
    ----------
    draws
        From :func:`~gigawatt.buildout.montecarlo.run_buildout`.
    demand
        Demand curves and period grid; default ``draws.plan.demand``.
    cloud_usd_per_gpu_h
        Price of a cloud GPU-hour used to bridge the gap [USD/GPU-h]: a number, or a function of the period
        start week (array) returning the price per period (e.g. a declining rental price). The economics
        package prices it in full.

    Raises
    ------
    ValueError
        When no demand is given and the plan has none.
    """
    dem = demand if demand is not None else draws.plan.demand
    if dem is None:
        raise ValueError("no demand: pass demand=... or set the plan's demand field")
    edges = period_edges(dem)
    price = _price(cloud_usd_per_gpu_h, edges)
    d = demand_period_mean_gpus(dem, edges)
    cap = period_capacity_gpus(draws, edges, dem.capacity_usable_frac)
    hours = np.diff(edges) * HOURS_PER_WEEK
    unmet = np.maximum(d["total"].to_numpy()[None, :] - cap, 0.0) * hours[None, :]
    return GapResult(edges, draws.plan.start_date, d, cap, unmet, price)
