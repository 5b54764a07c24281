"""Simulation clock: simpy time is seconds since the scenario start; physics runs on a fixed control step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gigawatt.physics.timebase import local_clock, solar_utc_offset_h
from gigawatt.physics.weather import climate_info, weather_file_tz_offset_h
from gigawatt.scenario.site import NamedClimate, Site, WeatherFileClimate

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Clock", "site_utc_offset_h", "wall_clock_offset_h"]


def site_utc_offset_h(site: Site, resolve_path: Callable[[str], Path] | None = None) -> float:
    """Local standard time of a site = UTC + this [h]: ``location.utc_offset_h``, else the time zone of the
    named climate's station or of the weather file (a relative path resolved by ``resolve_path``, the
    scenario's :meth:`~gigawatt.Scenario.resolve_path`), else ``round(longitude / 15)``."""
    if site.location.utc_offset_h is not None:
        return float(site.location.utc_offset_h)
    if isinstance(site.climate, NamedClimate):
        return float(climate_info(site.climate.name).tz_offset_h)
    if isinstance(site.climate, WeatherFileClimate):
        path = resolve_path(site.climate.path) if resolve_path is not None else site.climate.path
        return weather_file_tz_offset_h(path)
    return solar_utc_offset_h(site.location.longitude_deg)


def wall_clock_offset_h(
    wall_clock: str, site: Site | None, resolve_path: Callable[[str], Path] | None = None
) -> float:
    """Offset [h] from UTC of the wall clock that hour-of-day rules use (``Scenario.wall_clock``)."""
    if wall_clock == "utc" or site is None:
        return 0.0
    return site_utc_offset_h(site, resolve_path)


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

    def local_times(self, utc_offset_h: float) -> pd.DatetimeIndex:
        """Start time of every step on a wall clock ``UTC + utc_offset_h`` (naive)."""
        return local_clock(self.times, utc_offset_h)

    def timestamp(self, t_s: float) -> pd.Timestamp:
        """Wall-clock timestamp of simulation time ``t_s`` [s]."""
        return self.start + pd.Timedelta(seconds=float(t_s))
