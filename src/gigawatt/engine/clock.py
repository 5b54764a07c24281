"""Simulation clock: simpy time is seconds since the scenario start; physics runs on a fixed control step."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = ["Clock"]


@dataclass(frozen=True)
class Clock:
    """Fixed-step clock.

    Attributes
    ----------
    start : pandas.Timestamp
        Start of step 0 (UTC, timezone-naive).
    step_s : float
        Control step [s].
    n_steps : int
        Number of steps in the horizon.
    """

    start: pd.Timestamp
    step_s: float
    n_steps: int

    @property
    def horizon_s(self) -> float:
        """Simulated duration [s]."""
        return self.n_steps * self.step_s

    @property
    def step_h(self) -> float:
        """Control step [h]."""
        return self.step_s / 3600.0

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        """Start time of every step (the time-series index)."""
        return pd.date_range(
            self.start, periods=self.n_steps, freq=pd.Timedelta(seconds=self.step_s), name="time"
        )

    @cached_property
    def step_start_s(self) -> np.ndarray:
        """Start of every step in simulation seconds."""
        return np.arange(self.n_steps, dtype=float) * self.step_s

    def step_of(self, t_s: float) -> int:
        """Index of the step containing simulation time ``t_s`` (clipped to the horizon)."""
        return int(min(max(t_s // self.step_s, 0), self.n_steps - 1))

    def timestamp(self, t_s: float) -> pd.Timestamp:
        """Wall-clock timestamp of simulation time ``t_s`` [s]."""
        return self.start + pd.Timedelta(seconds=float(t_s))
