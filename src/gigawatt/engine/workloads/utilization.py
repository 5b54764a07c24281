"""Utilisation workloads: a GPU group at a constant, daily or measured-trace utilisation (vectorised)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gigawatt.engine.clock import Clock
from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.physics.phases import Phase
from gigawatt.scenario.workloads import ConstantProfile, DailyProfile, TraceProfile, UtilizationWorkload

__all__ = ["UtilizationHandler", "utilization_profile"]


def _step_mid_hours(times: pd.DatetimeIndex, step_h: float) -> np.ndarray:
    t = times
    return (t.hour.to_numpy() + t.minute.to_numpy() / 60.0 + t.second.to_numpy() / 3600.0) + step_h / 2


def utilization_profile(
    profile: ConstantProfile | DailyProfile | TraceProfile,
    clock: Clock,
    base_dir=None,
    utc_offset_h: float = 0.0,
) -> np.ndarray:
    """Utilisation ``(n_steps,)`` in [0, 1] at the middle of each control step.

    Daily profiles are periodic-linear interpolations of values evenly spaced over 24 h (value ``i`` at
    ``i·24/n`` h) on the wall clock ``UTC + utc_offset_h`` (hours and weekends; ``Scenario.wall_clock``);
    traces carry absolute timestamps (UTC when naive) and are linearly interpolated in time (repeating with
    their own period when ``repeat``).
    """
    n = clock.n_steps
    if isinstance(profile, ConstantProfile):
        return np.full(n, profile.utilization_frac)
    if isinstance(profile, DailyProfile):
        vals = np.asarray(profile.utilization_frac, dtype=float)
        knots_h = np.arange(len(vals)) * 24.0 / len(vals)
        local = clock.local_times(utc_offset_h)
        hours = _step_mid_hours(local, clock.step_h) % 24.0
        u = np.interp(hours, np.append(knots_h, 24.0), np.append(vals, vals[0]))
        if profile.weekend_scale_frac != 1.0:
            u = np.where(local.day_of_week.to_numpy() >= 5, u * profile.weekend_scale_frac, u)
        return u
    if isinstance(profile, TraceProfile):
        path = Path(profile.path) if base_dir is None else base_dir(profile.path)
        df = pd.read_csv(path)
        missing = {"timestamp", "utilization_frac"} - set(df.columns)
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}; need timestamp,utilization_frac")
        ts = pd.to_datetime(df["timestamp"], utc=True).dt.tz_localize(None)
        t_trace_s = (ts - clock.start).dt.total_seconds().to_numpy() + profile.time_shift_h * 3600.0
        u_trace = df["utilization_frac"].to_numpy(dtype=float)
        if np.any((u_trace < 0) | (u_trace > 1)) or np.any(np.isnan(u_trace)):
            raise ValueError(f"{path}: utilization_frac must be within [0, 1] with no gaps")
        order = np.argsort(t_trace_s)
        t_trace_s, u_trace = t_trace_s[order], u_trace[order]
        t_mid = clock.step_start_s + clock.step_s / 2
        if profile.repeat and len(t_trace_s) > 1:
            period = t_trace_s[-1] - t_trace_s[0] + np.median(np.diff(t_trace_s))
            return np.interp(t_mid, t_trace_s, u_trace, period=period)
        return np.interp(t_mid, t_trace_s, u_trace)
    raise TypeError(type(profile).__name__)  # pragma: no cover


class UtilizationHandler(WorkloadHandler):
    """Adds ``u(t) · n`` active GPU-equivalents (phase UTIL) to its target groups, split by group size."""

    kind = "utilization"

    @property
    def runs_processes(self) -> bool:
        """Profiles only (added at the start)."""
        return False

    def start(self) -> None:
        spec: UtilizationWorkload = self.spec
        groups = self.ctx.groups_for(spec.target)
        caps = self.ctx.fleet.n_gpus[groups].astype(float)
        n = float(spec.target.gpus) if spec.target.gpus is not None else caps.sum()
        u = utilization_profile(
            spec.profile, self.ctx.clock, self.ctx.scenario.resolve_path, self.ctx.wall_clock_offset_h(groups)
        )
        self.gpus = n
        self.mean_utilization_frac = float(u.mean())
        fleet, clock = self.ctx.fleet, self.ctx.clock
        if not fleet.dated:
            for g, cap in zip(groups, caps, strict=True):
                self.ctx.ledger.add_profile(int(g), Phase.UTIL, u * n * cap / caps.sum())
            return
        # a fleet that changes over time: the profile applies to the installed GPUs (at most ``n`` of them),
        # split by installed GPUs per group
        inst = fleet.installed_frac(clock.step_start_s, clock.step_s)[:, groups] * caps  # (T, g) GPUs
        total = inst.sum(axis=1)
        active = u * np.minimum(n, total)
        share = np.divide(inst, total[:, None], out=np.zeros_like(inst), where=total[:, None] > 0)
        for j, g in enumerate(groups):
            self.ctx.ledger.add_profile(int(g), Phase.UTIL, active * share[:, j])

    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        return WorkloadOutput(kpis={})
