"""Plots of results: each ``plot_*(result, ax=None, ...) -> Axes``; matplotlib is imported lazily.

Labels come from the one variable registry (:mod:`gigawatt.units`). Plotting never computes physics: it
reads :class:`~gigawatt.Result` tables. Long series are averaged to a readable resolution (hourly beyond
two weeks, daily beyond two years) — the averaging is stated in the title.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gigawatt.pareto import pareto_front
from gigawatt.units import label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gigawatt.result import Result

__all__ = [
    "DEFAULT_PLOTS",
    "plot_energy_supply",
    "plot_inference",
    "plot_job_timeline",
    "plot_pareto",
    "plot_power",
    "plot_pue",
    "plot_sobol",
    "plot_tornado",
    "save_default_plots",
]


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

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
        # column by column: resampling the frame would first stack its columns into one block (a year at
        # 15-s steps: 17 MB a column copied at once); the means are the same
        means = {col: df[col].resample(resample).mean() for col in df.columns}
        out = pd.concat(means, axis=1) if means else df.resample(resample).mean()
        return out, f" ({resample} means)"
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
    # only the columns drawn (resampling the whole frame would first copy every column into one block)
    cols = [c for c in ("facility_power_mw", "it_power_mw", "ambient_dry_bulb_c") if c in frame.columns]
    df, note = _readable(frame[cols], resample)
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


def plot_energy_supply(
    result: Result,
    ax: Axes | None = None,
    *,
    scope: str | None = None,
    resample: str | None = None,
    window: str | tuple[str, str] | None = "auto",
) -> Axes:
    """Where the power comes from: stacked grid import, on-site generation and battery discharge [MW];
    battery charging and export below zero; facility demand at full throughput and the power actually
    drawn as lines (the gap is unserved demand: power capping or shedding).

    Parameters
    ----------
    result
        A simulation result with energy-supply columns.
    ax
        Axes to draw on (new figure when ``None``).
    scope
        ``"<site>"`` for one site of a multi-site campus; campus totals by default.
    resample
        pandas offset alias for averaging; chosen automatically for long horizons.
    window
        ``(start, end)`` to zoom on; ``"auto"`` (default) shows the 7 days around the peak facility demand
        when the horizon is longer than two weeks (stated in the title); ``None`` shows everything.
    """
    ax = _axes(ax)
    frame = _frame(result, scope)
    zoom = ""
    if window == "auto":
        span = frame.index[-1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(0)
        if span > pd.Timedelta(days=14):
            col = "facility_demand_mw" if "facility_demand_mw" in frame.columns else "facility_power_mw"
            t_peak = pd.Timestamp(frame.index[int(np.argmax(frame[col].to_numpy()))])
            start = max(frame.index[0], t_peak - pd.Timedelta(days=3.5))
            end = min(frame.index[-1], start + pd.Timedelta(days=7))
            frame, zoom = frame.loc[start:end], ", week of peak demand"
    elif window is not None:
        frame = frame.loc[window[0] : window[1]]
    gen_cols = [
        c for c in frame.columns if c.startswith("generation_") and c.endswith("_mw") and ":" not in c
    ]
    supply = ["grid_import_mw", *gen_cols, "battery_discharge_mw"]
    sinks = [c for c in ("battery_charge_mw", "grid_export_mw", "curtailed_mw") if c in frame.columns]
    lines = [c for c in ("facility_demand_mw", "facility_power_mw") if c in frame.columns]
    df, note = _readable(frame[[c for c in supply if c in frame.columns] + sinks + lines], resample)
    # fixed colours per role so that several results compare at a glance; all-zero series are left out
    palette = ["tab:green", "tab:red", "tab:purple", "tab:brown", "tab:olive", "gold", "tab:cyan"]
    colors = {"grid_import_mw": "tab:blue", "battery_discharge_mw": "tab:orange"}
    colors |= {c: palette[i % len(palette)] for i, c in enumerate(gen_cols)}
    colors |= {"battery_charge_mw": "tab:orange", "grid_export_mw": "tab:blue", "curtailed_mw": "tab:gray"}
    present = [c for c in supply if c in df.columns and bool((df[c].abs() > 0).any())]
    sinks = [c for c in sinks if bool((df[c].abs() > 0).any())]
    names = {c: c[len("generation_") : -len("_mw")] for c in gen_cols}
    ax.stackplot(
        df.index,
        *(df[c].to_numpy() for c in present),
        labels=[names.get(c, label(c).split(" [")[0]) for c in present],
        colors=[colors[c] for c in present],
        alpha=0.8,
    )
    if sinks:
        ax.stackplot(
            df.index,
            *(-df[c].to_numpy() for c in sinks),
            labels=[label(c).split(" [")[0] for c in sinks],
            colors=[colors[c] for c in sinks],
            alpha=0.35,
        )
    styles = {"facility_demand_mw": ("k", "--"), "facility_power_mw": ("k", "-")}
    for c in lines:
        color, ls = styles[c]
        ax.plot(df.index, df[c].to_numpy(), color=color, ls=ls, lw=0.8, label=label(c).split(" [")[0])
    ax.set_ylabel("Power [MW]")
    ax.set_title(f"{result.scenario.name}{' — ' + scope if scope else ''}: energy supply{zoom}{note}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.margins(x=0)
    ax.grid(alpha=0.3)
    return ax


def plot_job_timeline(
    result: Result, ax: Axes | None = None, *, workload: str | None = None, max_jobs: int = 40
) -> Axes:
    """Training job timeline: one bar per job from start to end (queue wait thin, running thick), the
    jobs with the most GPU-hours first, interruptions marked.

    Parameters
    ----------
    result
        A simulation result with a training ``jobs`` table.
    ax
        Axes to draw on (new figure when ``None``).
    workload
        Only this training workload's jobs (all by default).
    max_jobs
        Number of jobs drawn (largest by GPU-hours); the title says how many were left out.
    """
    import matplotlib.dates as mdates  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

    ax = _axes(ax, figsize=(10, 5))
    jobs = result.jobs
    if jobs is None or "start_time" not in jobs.columns:
        raise ValueError("the result has no training jobs table (add a `kind: training` workload)")
    if workload is not None:
        jobs = jobs[jobs["workload"] == workload]
    end_of_run = result.timeseries.index[-1] + pd.Timedelta(seconds=result.scenario.step_s)
    shown = jobs.nlargest(max_jobs, "gpu_hours").sort_values("submit_s")
    colors = {"finished": "C0", "running": "C2", "queued": "C1", "failed": "C3"}
    for y, (_, job) in enumerate(shown.iterrows()):
        start = job["start_time"] if pd.notna(job["start_time"]) else end_of_run
        end = job["end_time"] if pd.notna(job["end_time"]) else end_of_run
        ax.hlines(y, mdates.date2num(job["submit_time"]), mdates.date2num(start), color="0.7", lw=1.5)
        ax.hlines(y, mdates.date2num(start), mdates.date2num(end), color=colors.get(job["state"], "C7"), lw=6)
    ev = result.events
    if ev is not None and len(shown):
        pos = {(w, j): y for y, (w, j) in enumerate(zip(shown["workload"], shown["job"], strict=True))}
        hits = ev[ev["kind"].isin(["failure", "maintenance", "preemption", "power_loss", "spot_reclaim"])]
        ys = [pos.get((w, j)) for w, j in zip(hits["workload"], hits["job"], strict=True)]
        keep = [y is not None for y in ys]
        if any(keep):
            ax.plot(
                mdates.date2num(hits["time"][keep]),
                [y for y in ys if y is not None],
                "|",
                color="C3",
                ms=7,
                mew=0.6,
                alpha=0.6,
                label="interruption",
            )
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels(
        [f"{j} ({n:,} GPUs)" for j, n in zip(shown["job"], shown["n_gpus"], strict=True)], fontsize="x-small"
    )
    ax.invert_yaxis()
    ax.xaxis_date()
    left_out = len(jobs) - len(shown)
    note = f" (largest {len(shown)} of {len(jobs)} jobs by GPU-hours)" if left_out > 0 else ""
    ax.set_title(f"{result.scenario.name}: training job timeline{note}")
    from matplotlib.lines import Line2D  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

    names = {"finished": "ran (finished)", "running": "ran (still running)", "failed": "ran (failed)"}
    handles = [Line2D([], [], color="0.7", lw=1.5, label="queued")] + [
        Line2D([], [], color=c, lw=6, label=names.get(k, k))
        for k, c in colors.items()
        if k in set(shown["state"]) and k != "queued"
    ]
    handles.append(Line2D([], [], color="C3", marker="|", ls="", ms=7, label="interruption"))
    ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.9)
    ax.grid(alpha=0.3, axis="x")
    return ax


def plot_inference(
    result: Result, ax: Axes | None = None, *, service: str | None = None, resample: str | None = None
) -> Axes:
    """Inference service: demand and served requests/s, replicas (right axis) and p99 TTFT (outer axis).

    Parameters
    ----------
    result
        A simulation result with an inference service (``<service>:demand_rps`` columns).
    ax
        Axes to draw on (new figure when ``None``).
    service
        Service name (default: the first one in ``result.services``).
    resample
        Pandas offset alias for averaging (default: automatic, see module docstring).
    """
    ax = _axes(ax)
    services = result.services
    if services is None or not len(services):
        raise ValueError("the result has no inference services (add a `kind: inference` workload)")
    name = str(services["service"].iloc[0]) if service is None else service
    cols = [f"{name}:{c}" for c in ("demand_rps", "served_rps", "replicas", "ttft_p99_s")]
    if cols[0] not in result.timeseries.columns:
        raise ValueError(f"no inference service named {name!r}; services: {list(services['service'])}")
    raw = result.timeseries[cols]
    span = raw.index[-1] - raw.index[0] if len(raw) > 1 else pd.Timedelta(0)
    rule = resample if resample is not None else ("1D" if span > pd.Timedelta(days=14) else None)
    if rule:  # daily (or given) bins: demand mean with its min-max band, replicas and p99 TTFT at their max
        grp = raw.resample(rule)
        mean, lo, hi = grp.mean(), grp.min(), grp.max()
        ax.fill_between(
            mean.index, lo[cols[0]], hi[cols[0]], color="C0", alpha=0.2, lw=0, label="demand range"
        )
        ax.plot(mean.index, mean[cols[0]], color="C0", lw=1.2, label="demand (mean)")
        ax.plot(mean.index, mean[cols[1]], color="C0", lw=0.8, ls="--", label="served (mean)")
        reps, ttft = hi[cols[2]], hi[cols[3]]
        note = f" ({rule} bins; replicas and TTFT at their max)"
    else:
        ax.plot(raw.index, raw[cols[0]], color="C0", lw=1.2, label="demand")
        ax.plot(raw.index, raw[cols[1]], color="C0", lw=0.8, ls="--", label="served")
        reps, ttft, note = raw[cols[2]], raw[cols[3]], ""
    ax.set_ylabel(label(cols[0]))
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(reps.index, reps, color="C1", lw=1.2, label="replicas")
    ax2.set_ylabel(label(cols[2]), color="C1")
    ax2.set_ylim(bottom=0)
    ax3 = ax.twinx()
    ax3.spines["right"].set_position(("axes", 1.1))
    ax3.plot(ttft.index, ttft, color="C3", lw=0.9, label="p99 TTFT")
    ax3.set_ylabel(label(cols[3]), color="C3")
    ax3.set_ylim(bottom=0)
    handles = [*ax.get_lines(), *ax2.get_lines(), *ax3.get_lines()]
    ax.legend(
        handles=handles, labels=[str(h.get_label()) for h in handles], loc="upper left", fontsize="small"
    )
    ax.set_title(f"{result.scenario.name}: inference service {name!r}{note}")
    ax.margins(x=0)
    ax.grid(alpha=0.3)
    return ax


def _has_inference(result: Result) -> bool:
    return result.services is not None and len(result.services) > 0


def _has_training_jobs(result: Result) -> bool:
    return result.jobs is not None and "start_time" in result.jobs.columns and len(result.jobs) > 0


def _has_energy_supply(result: Result) -> bool:
    ts = result.timeseries
    cols = ts.columns
    if "battery_charge_mw" not in cols:
        return False
    onsite = any(c.startswith("generation_") for c in cols) or bool(ts["battery_charge_mw"].abs().sum() > 0)
    return onsite or bool(ts["unserved_mw"].sum() > 0)


#: ``(file stem, plot function, applies-to-result predicate)``: what :meth:`Result.to_dir` draws.
DEFAULT_PLOTS: list[tuple[str, Callable[..., Any], Callable[[Result], bool]]] = [
    ("power", plot_power, lambda r: True),
    ("pue", plot_pue, lambda r: True),
    ("energy_supply", plot_energy_supply, _has_energy_supply),
    ("job_timeline", plot_job_timeline, _has_training_jobs),
    ("inference", plot_inference, _has_inference),
]


def save_default_plots(result: Result, folder: str | Path) -> list[Path]:
    """Draw every applicable default plot into ``folder`` as PNG (Agg backend, figures closed)."""
    import matplotlib  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.5 s to import and plotting is optional

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


# ------------------------------------------------------------------------------------------- planning plots
def plot_pareto(
    table: pd.DataFrame,
    objectives: dict[str, str],
    *,
    color: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Two objectives of a sweep table, every row as a dot and the non-dominated front as a line.

    Parameters
    ----------
    table
        Rows of a sweep (``SweepResult.ok`` or a per-variant summary with plain columns).
    objectives
        ``{column: "min" | "max"}``: the first two are plotted (x, y); the front is computed over all of them
        (:func:`gigawatt.pareto_front`).
    color
        Optional column to colour the dots by (an axis of the sweep).
    """
    cols = list(objectives)
    if len(cols) < 2:
        raise ValueError("plot_pareto needs at least two objectives")
    ax = _axes(ax, (6, 4.5))
    x, y = cols[0], cols[1]
    c = table[color] if color is not None else None
    sc = ax.scatter(table[x], table[y], c=c, s=18, alpha=0.6, label="variants")
    if color is not None:
        ax.figure.colorbar(sc, ax=ax, label=label(color))
    front = pareto_front(table, objectives).sort_values(x)
    ax.plot(front[x], front[y], "o-", color="tab:red", ms=5, lw=1.5, label=f"non-dominated ({len(front)})")
    ax.set_xlabel(f"{label(x)} ({objectives[x]})")
    ax.set_ylabel(f"{label(y)} ({objectives[y]})")
    ax.set_title("Pareto front")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_tornado(tornado_table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """One-at-a-time sensitivity (:func:`gigawatt.solve.tornado`): a bar per input from the KPI at its low
    value to the KPI at its high value, around the base value, largest swing on top."""
    t = tornado_table.sort_values("swing")
    lo_col = next(c for c in t.columns if c.endswith("_at_low"))
    hi_col = next(c for c in t.columns if c.endswith("_at_high"))
    kpi = lo_col.removesuffix("_at_low")
    ax = _axes(ax, (7, 0.5 + 0.45 * len(t)))
    base = float(t["base"].iloc[0])
    y = np.arange(len(t))
    ax.barh(y, t[lo_col] - base, left=base, color="tab:blue", label="input at low")
    ax.barh(y, t[hi_col] - base, left=base, color="tab:orange", label="input at high")
    ax.axvline(base, color="k", lw=0.8)
    ax.set_yticks(y, [f"{r.input}  [{r.low} → {r.high}]" for r in t.itertuples()])
    ax.set_xlabel(label(kpi))
    ax.set_title("One-at-a-time sensitivity")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_sobol(indices: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Sobol' first-order and total indices per input (:func:`gigawatt.solve.sobol_indices`)."""
    t = indices.sort_values("total_order", ascending=False)
    ax = _axes(ax, (7, 3.5))
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["first_order"], 0.4, label="first order")
    ax.bar(x + 0.2, t["total_order"], 0.4, label="total")
    ax.set_xticks(x, t["input"], rotation=20, ha="right")
    ax.set_ylabel("Sobol' index [0-1]")
    ax.set_ylim(0, max(1.0, float(np.nanmax(t[["first_order", "total_order"]].to_numpy())) * 1.05))
    ax.set_title("Variance-based sensitivity")
    ax.legend(fontsize="small")
    return ax
