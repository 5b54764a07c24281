"""Demand curves: training and inference demand over time, in GPU-equivalents.

Growth shapes (t in weeks from the plan start, Y = 365.2425/7 weeks per year, k = ln(1 + g)/Y):

* constant      v(t) = v₀
* exponential   v(t) = v₀ (1 + g)^{t/Y} = v₀ e^{k t}
* logistic      v(t) = K / (1 + A e^{−k t}),  A = K/v₀ − 1   (v(0) = v₀; rate k while v ≪ K)
* table         linear between (tᵢ, vᵢ), constant beyond the ends

Period means use the exact antiderivatives (no quadrature error)::

    exponential  ∫ v dt = v₀ e^{k t} / k
    logistic     ∫ v dt = (K/k) ln(e^{k t} + A)
    table        trapezoids between break points (exact for a piecewise-linear curve)

The conversion to busy GPUs is linear (see :class:`~gigawatt.scenario.buildout.DemandCurve`), so the period
mean in GPUs is the period mean of the quantity times the conversion factor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.scenario.buildout import WEEKS_PER_YEAR, Demand, DemandCurve

__all__ = [
    "HOURS_PER_WEEK",
    "crossover_week",
    "curve_gpus",
    "curve_period_mean_gpus",
    "curve_value",
    "demand_gpus",
    "demand_period_mean_gpus",
    "gpus_per_unit",
    "period_edges",
]

HOURS_PER_WEEK = 168.0


def gpus_per_unit(curve: DemandCurve) -> float:
    """Busy GPUs per unit of the curve's ``quantity``."""
    q = curve.quantity
    if q == "gpus":
        return 1.0
    if q == "gpu_hours_per_week":
        return 1.0 / HOURS_PER_WEEK
    if q == "flop_per_week":
        assert curve.gpu_flop_per_s is not None and curve.mfu_frac is not None
        return 1.0 / (curve.gpu_flop_per_s * curve.mfu_frac * HOURS_PER_WEEK * 3600.0)
    assert curve.tokens_per_s_per_gpu is not None
    if q == "tokens_per_s":
        return 1.0 / curve.tokens_per_s_per_gpu
    assert curve.tokens_per_request is not None
    return curve.tokens_per_request / curve.tokens_per_s_per_gpu


def _rate_per_week(curve: DemandCurve) -> float:
    return math.log1p(curve.annual_growth_frac or 0.0) / WEEKS_PER_YEAR


def curve_value(curve: DemandCurve, weeks: Any) -> np.ndarray:
    """Demand at ``weeks`` in the curve's own unit (``quantity``)."""
    t = np.asarray(weeks, dtype=float)
    g = curve.growth
    if g == "table":
        assert curve.table_weeks is not None and curve.table_values is not None
        return np.interp(t, curve.table_weeks, curve.table_values)
    assert curve.start_value is not None
    v0 = curve.start_value
    if g == "constant":
        return np.full_like(t, v0)
    k = _rate_per_week(curve)
    if g == "exponential":
        return v0 * np.exp(k * t)
    assert curve.saturation_value is not None
    big_k = curve.saturation_value
    return big_k / (1.0 + (big_k / v0 - 1.0) * np.exp(-k * t))


def _antiderivative(curve: DemandCurve, t: np.ndarray) -> np.ndarray:
    g = curve.growth
    if g == "table":
        assert curve.table_weeks is not None and curve.table_values is not None
        tw = np.asarray(curve.table_weeks, dtype=float)
        tv = np.asarray(curve.table_values, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(np.diff(tw) * (tv[1:] + tv[:-1]) / 2)])
        tc = np.clip(t, tw[0], tw[-1])
        j = np.clip(np.searchsorted(tw, tc, side="right") - 1, 0, len(tw) - 1)
        v_at = np.interp(tc, tw, tv)
        inside = cum[j] + (tv[j] + v_at) / 2 * (tc - tw[j])
        return inside + tv[0] * np.minimum(t - tw[0], 0.0) + tv[-1] * np.maximum(t - tw[-1], 0.0)
    assert curve.start_value is not None
    v0 = curve.start_value
    if g == "constant":
        return v0 * t
    k = _rate_per_week(curve)
    if abs(k) < 1e-15:
        return v0 * t
    if g == "exponential":
        return v0 * np.expm1(k * t) / k
    assert curve.saturation_value is not None
    big_k = curve.saturation_value
    a = big_k / v0 - 1.0
    if a > 0:
        return (big_k / k) * (np.logaddexp(k * t, math.log(a)) - math.log1p(a))
    return (big_k / k) * (np.log(np.exp(k * t) + a) - math.log1p(a))


def curve_gpus(curve: DemandCurve, weeks: Any) -> np.ndarray:
    """Demand at ``weeks`` in busy GPUs."""
    return curve_value(curve, weeks) * gpus_per_unit(curve)


def curve_period_mean_gpus(curve: DemandCurve, edges: Any) -> np.ndarray:
    """Mean demand [GPUs] over each period ``[edges[i], edges[i+1])`` (exact, from the antiderivative)."""
    e = np.asarray(edges, dtype=float)
    big_f = _antiderivative(curve, e)
    return np.diff(big_f) / np.diff(e) * gpus_per_unit(curve)


def period_edges(demand: Demand) -> np.ndarray:
    """Period boundaries [weeks]: 0, period, 2·period, ..., horizon (the last period may be shorter)."""
    n = math.ceil(demand.horizon_weeks / demand.period_weeks - 1e-9)
    e = np.minimum(np.arange(n + 1) * demand.period_weeks, demand.horizon_weeks)
    return e


def demand_gpus(demand: Demand, weeks: Any, workload: str | None = None) -> np.ndarray:
    """Total demand at ``weeks`` [GPUs] (only ``training`` or ``inference`` curves if ``workload`` is set)."""
    t = np.asarray(weeks, dtype=float)
    out = np.zeros_like(t)
    for c in demand.curves:
        if workload is None or c.workload == workload:
            out = out + curve_gpus(c, t)
    return out


def demand_period_mean_gpus(demand: Demand, edges: Any | None = None) -> pd.DataFrame:
    """Mean demand per period [GPUs], one column per curve plus ``training``, ``inference`` and ``total``."""
    e = period_edges(demand) if edges is None else np.asarray(edges, dtype=float)
    cols: dict[str, np.ndarray] = {c.name: curve_period_mean_gpus(c, e) for c in demand.curves}
    df = pd.DataFrame(cols, index=pd.Index(e[:-1], name="week"))
    for wl in ("training", "inference"):
        names = [c.name for c in demand.curves if c.workload == wl]
        df[wl] = df[names].sum(axis=1) if names else 0.0
    df["total"] = df["training"] + df["inference"]
    df["period_weeks"] = np.diff(e)
    return df


def crossover_week(demand: Demand, horizon_weeks: float | None = None) -> float | None:
    """First week at which inference demand [GPUs] reaches training demand (``None`` if never within the
    horizon; 0 if it already does at week 0). Found on a weekly grid, refined by linear interpolation."""
    h = demand.horizon_weeks if horizon_weeks is None else horizon_weeks
    t = np.linspace(0.0, h, max(2, round(h * 7)) + 1)  # daily grid
    d = demand_gpus(demand, t, "inference") - demand_gpus(demand, t, "training")
    if d[0] >= 0:
        return 0.0
    idx = np.flatnonzero(d >= 0)
    if idx.size == 0:
        return None
    j = int(idx[0])
    return float(t[j - 1] + (t[j] - t[j - 1]) * (-d[j - 1]) / (d[j] - d[j - 1]))
