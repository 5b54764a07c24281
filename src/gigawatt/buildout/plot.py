"""Plots of a build-out Monte Carlo: each ``plot_*(..., ax=None) -> Axes``; matplotlib is imported lazily.

Plotting never computes the model: it reads :class:`~gigawatt.buildout.montecarlo.BuildoutDraws` and
:class:`~gigawatt.buildout.gap.GapResult` answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gigawatt.buildout.demand import demand_gpus

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gigawatt.buildout.gap import GapResult
    from gigawatt.buildout.montecarlo import BuildoutDraws

__all__ = ["plot_capacity_fan", "plot_driving_items", "plot_online_probability", "plot_unmet_demand"]

_LABEL = {"gpus": "GPUs online", "it_power_mw": "IT power online [MW]"}


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_online_probability(
    draws: BuildoutDraws, phases: str | Sequence[str] | None = None, ax: Axes | None = None
) -> Axes:
    """P(phase online by date): one empirical CDF per phase, targets marked with a dotted line."""
    ax = _axes(ax)
    idx = draws._phase_index(phases)
    lo = float(np.min(draws.online_week[:, idx]))
    hi = float(np.max(draws.online_week[:, idx]))
    weeks = np.linspace(lo - 4, hi + 4, 400)
    p = draws.p_online_by(weeks, [draws.phase_names[j] for j in idx])
    dates = draws.to_date(weeks)
    tgt = draws.target_weeks()
    for j in idx:
        name = draws.phase_names[j]
        (line,) = ax.plot(dates, p[name].to_numpy(), label=name)
        if np.isfinite(tgt[j]):
            ax.axvline(draws.to_date(tgt[j]), color=line.get_color(), ls=":", lw=1)
    ax.axhline(0.9, color="0.5", lw=0.8, ls="--")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("P(online by date)")
    ax.set_title(f"Phase online dates over {draws.n_draws:,} draws (dotted: targets; dashed: P = 0.9)")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_capacity_fan(
    draws: BuildoutDraws,
    what: str = "gpus",
    demand: Any = None,
    ax: Axes | None = None,
    horizon_weeks: float | None = None,
) -> Axes:
    """Fan chart of capacity online over time (P10-P90 and P25-P75 bands, median), with optional demand.

    ``demand`` is a :class:`~gigawatt.scenario.buildout.Demand` (drawn in GPUs; only with ``what="gpus"``).
    """
    ax = _axes(ax)
    dem = demand if demand is not None else (draws.plan.demand if what == "gpus" else None)
    h = horizon_weeks or (dem.horizon_weeks if dem is not None else float(np.max(draws.online_week)) + 8)
    weeks = np.linspace(0.0, h, 300)
    fan = draws.capacity_fan(weeks, what)
    dates = draws.to_date(weeks)
    ax.fill_between(dates, fan["p10"], fan["p90"], alpha=0.2, color="C0", label="P10-P90", step="post")
    ax.fill_between(dates, fan["p25"], fan["p75"], alpha=0.35, color="C0", label="P25-P75", step="post")
    ax.plot(dates, fan["p50"], color="C0", drawstyle="steps-post", label="median")
    if dem is not None and what == "gpus":
        ax.plot(
            dates,
            demand_gpus(dem, weeks) / dem.capacity_usable_frac,
            color="C3",
            label="demand (GPUs needed)",
        )
        if any(c.workload == "inference" for c in dem.curves):
            ax.plot(
                dates,
                demand_gpus(dem, weeks, "inference") / dem.capacity_usable_frac,
                color="C3",
                ls="--",
                lw=1,
                label="inference",
            )
            ax.plot(
                dates,
                demand_gpus(dem, weeks, "training") / dem.capacity_usable_frac,
                color="C3",
                ls=":",
                lw=1,
                label="training",
            )
    ax.set_ylabel(_LABEL.get(what, what))
    ax.set_title(f"Capacity online over {draws.n_draws:,} draws")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_unmet_demand(gap: GapResult, ax: Axes | None = None) -> Axes:
    """Unmet demand per period [GPU-hours]: mean and P10-P90 band over the draws."""
    ax = _axes(ax)
    t = gap.table()
    x = t["date"]
    ax.fill_between(
        x,
        t["unmet_p10_gpu_h"] / 1e6,
        t["unmet_p90_gpu_h"] / 1e6,
        alpha=0.25,
        color="C3",
        step="post",
        label="P10-P90",
    )
    ax.plot(x, t["unmet_mean_gpu_h"] / 1e6, color="C3", drawstyle="steps-post", label="mean")
    ax.set_ylabel("Unmet demand [million GPU-h per period]")
    ax.set_title("Capacity gap per period")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_driving_items(
    draws: BuildoutDraws,
    phases: str | Sequence[str] | None = None,
    late_only: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Share of (late) draws in which each item drives each phase's online date, as grouped bars."""
    ax = _axes(ax, (10, 3.5))
    idx = draws._phase_index(phases)
    crit = draws.criticality(late_only=late_only, driving=True)[[draws.phase_names[j] for j in idx]]
    crit = crit.fillna(0.0)
    crit = crit[crit.max(axis=1) > 0.01]
    x = np.arange(len(crit.index))
    width = 0.8 / max(1, crit.shape[1])
    for k, col in enumerate(crit.columns):
        ax.bar(x + (k - (crit.shape[1] - 1) / 2) * width, crit[col].to_numpy(), width, label=col)
    ax.set_xticks(x, list(crit.index), rotation=20, ha="right", fontsize="small")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("share of late draws" if late_only else "share of draws")
    ax.set_title("Item driving the online date" + (" when the phase is late" if late_only else ""))
    ax.legend(fontsize="small")
    return ax
