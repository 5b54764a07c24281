"""The capacity gap: demand against online capacity per period, over the build-out draws.

For period [t₀, t₁) of length Δ = t₁ − t₀ weeks and draw d::

    C_d  = u · Σ_p G_p · |[max(t₀, on_{d,p}), min(t₁, off_p))| / Δ     mean usable GPUs online in the period
    D    = (1/Δ) ∫ D(t) dt                                              mean demand [GPUs] (exact)
    U_d  = max(D − C_d, 0) · 168 Δ                                      unmet demand [GPU-hours]
    cost = price_usd_per_gpu_h · U_d                                     cloud bridging cost [USD]

with G_p the phase's GPUs, u = ``capacity_usable_frac`` and off_p its decommission week. Taking the maximum
of period means (not the mean of the instantaneous shortfall) under-counts unmet demand inside a period in
which a phase comes online; shorter periods reduce this (docs/models/buildout.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.buildout.demand import HOURS_PER_WEEK, demand_period_mean_gpus, period_edges
from gigawatt.buildout.montecarlo import BuildoutDraws
from gigawatt.scenario.buildout import Demand

__all__ = ["GapResult", "capacity_gap", "period_capacity_gpus"]


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
    cloud_usd_per_gpu_h: float = 0.0
    """Price of bridging unmet demand in a cloud [USD per GPU-hour]."""

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

    def cloud_cost_usd(self, usd_per_gpu_h: float | None = None) -> np.ndarray:
        """Cost of bridging the unmet demand in a cloud, per draw [USD]."""
        price = self.cloud_usd_per_gpu_h if usd_per_gpu_h is None else usd_per_gpu_h
        return self.total_unmet_gpu_h * price

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

    def kpis(self) -> dict[str, float]:
        """Flat KPIs: expected and P90 unmet GPU-hours, P90 peak gap, P(any shortfall), cloud cost."""
        tot = self.total_unmet_gpu_h
        return {
            "unmet_gpu_h_mean": float(tot.mean()),
            "unmet_gpu_h_p50": float(np.quantile(tot, 0.5)),
            "unmet_gpu_h_p90": float(np.quantile(tot, 0.9)),
            "gap_gpus_peak_p90": float(np.quantile(self.gap_gpus.max(axis=1), 0.9)),
            "p_any_shortfall_frac": float(np.mean(tot > 0)),
            "cloud_bridge_usd_mean": float(self.cloud_cost_usd().mean()),
            "cloud_bridge_usd_p90": float(np.quantile(self.cloud_cost_usd(), 0.9)),
        }


def capacity_gap(
    draws: BuildoutDraws, demand: Demand | None = None, *, cloud_usd_per_gpu_h: float = 0.0
) -> GapResult:
    """Unmet demand per period and draw for a build-out's draws against demand curves.

    Parameters
    ----------
    draws
        From :func:`~gigawatt.buildout.montecarlo.run_buildout`.
    demand
        Demand curves and period grid; default ``draws.plan.demand``.
    cloud_usd_per_gpu_h
        Price of a cloud GPU-hour used to bridge the gap [USD/GPU-h] (a plain number here; the economics
        package prices it in full).

    Raises
    ------
    ValueError
        When no demand is given and the plan has none.
    """
    dem = demand if demand is not None else draws.plan.demand
    if dem is None:
        raise ValueError("no demand: pass demand=... or set the plan's demand field")
    if cloud_usd_per_gpu_h < 0:
        raise ValueError(f"cloud_usd_per_gpu_h must be >= 0 (got {cloud_usd_per_gpu_h})")
    edges = period_edges(dem)
    d = demand_period_mean_gpus(dem, edges)
    cap = period_capacity_gpus(draws, edges, dem.capacity_usable_frac)
    hours = np.diff(edges) * HOURS_PER_WEEK
    unmet = np.maximum(d["total"].to_numpy()[None, :] - cap, 0.0) * hours[None, :]
    return GapResult(edges, draws.plan.start_date, d, cap, unmet, float(cloud_usd_per_gpu_h))
