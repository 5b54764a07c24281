"""Plots of results: each ``plot_*(result, ax=None, ...) -> Axes``; matplotlib is imported lazily.

Labels come from the one variable registry (:mod:`gigawatt.units`). Plotting never computes physics: it
reads :class:`~gigawatt.Result` tables. Long series are averaged to a readable resolution (hourly beyond
two weeks, daily beyond two years) — the averaging is stated in the title.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gigawatt.units import label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gigawatt.result import Result

__all__ = ["DEFAULT_PLOTS", "plot_power", "plot_pue", "save_default_plots"]


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _frame(result: Result, scope: str | None) -> pd.DataFrame:
    return result.timeseries if scope is None else result.scope(scope)


def _readable(df: pd.DataFrame, resample: str | None) -> tuple[pd.DataFrame, str]:
    if resample is None:
        span = df.index[-1] - df.index[0] if len(df) > 1 else pd.Timedelta(0)
        if span > pd.Timedelta(days=730):
            resample = "1D"
        elif span > pd.Timedelta(days=14):
            resample = "1h"
    if resample:
        return df.resample(resample).mean(), f" ({resample} means)"
    return df, ""


def plot_power(
    result: Result, ax: Axes | None = None, *, scope: str | None = None, resample: str | None = None
) -> Axes:
    """Stacked facility power: IT, cooling, electrical losses, other [MW].

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on (new figure when ``None``).
    scope
        ``"<site>"`` or ``"<site>/<hall>"`` for one part of the campus; campus totals by default.
    resample
        pandas offset alias for averaging (``"1h"``, ``"1D"``); chosen automatically for long horizons.
    """
    ax = _axes(ax)
    cols = ["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]
    df, note = _readable(_frame(result, scope)[cols], resample)
    ax.stackplot(
        df.index,
        *(df[c].to_numpy() for c in cols),
        labels=[label(c).split(" [")[0] for c in cols],
        alpha=0.85,
    )
    ax.set_ylabel(label("facility_power_mw"))
    ax.set_title(f"{result.scenario.name}{' — ' + scope if scope else ''}: facility power{note}")
    ax.legend(loc="upper left", fontsize="small", ncol=4)
    ax.margins(x=0)
    ax.grid(alpha=0.3)
    return ax


def plot_pue(
    result: Result, ax: Axes | None = None, *, scope: str | None = None, resample: str | None = None
) -> Axes:
    """PUE over time, with the ambient dry-bulb temperature on a second axis when available."""
    ax = _axes(ax)
    frame = _frame(result, scope)
    df, note = _readable(frame, resample)
    pue = df["facility_power_mw"] / df["it_power_mw"]  # energy-weighted within each averaging window
    ax.plot(df.index, pue.to_numpy(), color="C3", lw=1.0, label="PUE")
    ax.set_ylabel(label("pue"))
    ax.set_title(f"{result.scenario.name}{' — ' + scope if scope else ''}: PUE{note}")
    ax.margins(x=0)
    ax.grid(alpha=0.3)
    if "ambient_dry_bulb_c" in df.columns:
        ax2 = ax.twinx()
        ax2.plot(df.index, df["ambient_dry_bulb_c"].to_numpy(), color="C0", lw=0.6, alpha=0.6)
        ax2.set_ylabel(label("ambient_dry_bulb_c"), color="C0")
    return ax


#: ``(file stem, plot function, applies-to-result predicate)``: what :meth:`Result.to_dir` draws.
DEFAULT_PLOTS: list[tuple[str, Callable[..., Any], Callable[[Result], bool]]] = [
    ("power", plot_power, lambda r: True),
    ("pue", plot_pue, lambda r: True),
]


def save_default_plots(result: Result, folder: str | Path) -> list[Path]:
    """Draw every applicable default plot into ``folder`` as PNG (Agg backend, figures closed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fn, applies in DEFAULT_PLOTS:
        if not applies(result):
            continue
        ax = fn(result)
        path = folder / f"{stem}.png"
        ax.figure.savefig(path, dpi=110)
        plt.close(ax.figure)
        written.append(path)
    return written
