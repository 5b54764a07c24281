"""Ambient conditions per site on the simulation clock (vectorised over the whole horizon).

Named climates and weather files are typical years (:mod:`gigawatt.physics.weather`) mapped onto the clock at
the middle of each step (clock times are UTC; the weather's local standard time comes from its metadata).
Climates from user-stated monthly normals (``kind: normals``) are synthesized into a typical year with the
same method as the bundled normals climates, then mapped like them. Synthetic and constant climates are
evaluated directly. Every climate yields ``dry_bulb_c``,
``relative_humidity_frac``, ``wet_bulb_c`` and ``pressure_pa``; named climates and files add wind and
irradiance (``wind_speed_m_per_s``, ``ghi_w_per_m2``, ``dni_w_per_m2``, ``dhi_w_per_m2``).

Typical years are mapped column by column on first use (:class:`ClockWeather`): a run reads only a few of
the columns (the facility the dry and wet bulb, the supply stage irradiance and wind when it has solar,
wind or a synthetic carbon profile), and a year at 15-s steps takes 17 MB per column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gigawatt.engine.clock import Clock, site_utc_offset_h
from gigawatt.physics import psychrometrics as psy
from gigawatt.physics import weather as wx
from gigawatt.scenario.site import (
    ConstantClimate,
    NamedClimate,
    NormalsClimate,
    Site,
    SyntheticClimate,
    WeatherFileClimate,
)

__all__ = ["ClockWeather", "site_weather"]


class ClockWeather(Mapping[str, np.ndarray]):
    """A typical year's weather on the simulation clock, each column interpolated on first use.

    A read-only mapping ``column name -> array (n_steps,)`` with the weather's columns as keys. The
    position of every step on the typical year is found once (:class:`gigawatt.physics.weather.ClockInterpolation`);
    a column is interpolated when first read and then kept (reading it again returns the same array), so
    the columns nobody reads are never built. The numbers are those of
    :func:`gigawatt.physics.weather.to_simulation_clock`.

    Parameters
    ----------
    weather : pandas.DataFrame
        Hourly typical-year weather (canonical columns).
    times : pandas.DatetimeIndex
        Simulation times (tz-aware).
    tz_offset_h : float
        The weather's local standard time offset from UTC [h].
    """

    def __init__(self, weather: pd.DataFrame, times: pd.DatetimeIndex, tz_offset_h: float) -> None:
        self._hourly = {c: weather[c].to_numpy(dtype=float) for c in weather.columns}
        self._interp = wx.ClockInterpolation(pd.DatetimeIndex(weather.index), times, tz_offset_h)
        self._columns: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        col = self._columns.get(key)
        if col is None:
            col = self._columns[key] = self._interp.column(self._hourly[key])
        return col

    def __iter__(self) -> Iterator[str]:
        return iter(self._hourly)

    def __len__(self) -> int:
        return len(self._hourly)

    def __contains__(self, key: object) -> bool:
        return key in self._hourly

    @property
    def built_columns(self) -> tuple[str, ...]:
        """The columns interpolated so far (in the order they were first read)."""
        return tuple(self._columns)


def _mid_step_times(clock: Clock) -> pd.DatetimeIndex:
    return clock.times + pd.Timedelta(seconds=clock.step_s / 2)


def _with_psychrometrics(site: Site, dry: np.ndarray, rh: np.ndarray) -> dict[str, np.ndarray]:
    p = np.full(dry.shape, float(psy.pressure_at_altitude_pa(site.location.elevation_m)))
    return {
        "dry_bulb_c": dry,
        "relative_humidity_frac": rh,
        "wet_bulb_c": psy.wet_bulb_c(dry, rh, p),
        "pressure_pa": p,
    }


def site_weather(
    site: Site, clock: Clock, resolve_path: Callable[[str], Path] | None = None
) -> Mapping[str, np.ndarray]:
    """Weather arrays ``(n_steps,)`` for ``site`` (see the module docstring for the keys).

    Named, normals and weather-file climates return a :class:`ClockWeather` (columns interpolated on first
    use); constant and synthetic climates a dict.

    The synthetic climate evaluates its sinusoids at the middle of each step in local solar time
    (UTC + longitude/15 h), with the daily maximum at 15:00 solar time; pressure follows the site elevation
    (standard atmosphere) and the wet bulb the psychrometric solution. ``resolve_path`` resolves a weather
    file's relative path (``Scenario.resolve_path``: against the scenario file's folder).
    """
    clim = site.climate
    n = clock.n_steps
    if isinstance(clim, ConstantClimate):
        return _with_psychrometrics(
            site, np.full(n, clim.dry_bulb_c), np.full(n, clim.relative_humidity_frac)
        )
    if isinstance(clim, SyntheticClimate):
        t_mid = _mid_step_times(clock)
        doy = t_mid.day_of_year.to_numpy() + t_mid.hour.to_numpy() / 24.0
        hour_solar = (
            t_mid.hour.to_numpy() + t_mid.minute.to_numpy() / 60.0 + site.location.longitude_deg / 15.0
        ) % 24.0
        temp = (
            clim.annual_mean_dry_bulb_c
            + clim.annual_amplitude_c * np.cos(2 * np.pi * (doy - clim.hottest_day_of_year) / 365.25)
            + clim.diurnal_amplitude_c * np.cos(2 * np.pi * (hour_solar - 15.0) / 24.0)
        )
        return _with_psychrometrics(site, temp, np.full(n, clim.relative_humidity_frac))
    if isinstance(clim, NormalsClimate):
        loc = site.location
        tz = site_utc_offset_h(site, resolve_path)
        df = wx.typical_year_from_monthly_normals(
            dry_bulb_mean_c=clim.dry_bulb_mean_c,
            daily_range_c=clim.daily_range_c,
            dew_point_c=clim.dew_point_c,
            relative_humidity_frac=clim.relative_humidity_frac,
            wind_speed_m_per_s=clim.wind_speed_m_per_s,
            clearness_index_frac=clim.clearness_index_frac,
            daily_anomaly_std_c=clim.daily_anomaly_std_c,
            seed=clim.seed,
            latitude=loc.latitude_deg,
            longitude=loc.longitude_deg,
            altitude_m=loc.elevation_m,
            tz_offset_h=tz,
        )
        return ClockWeather(df[list(wx.CANONICAL_COLUMNS)], _mid_step_times(clock).tz_localize("UTC"), tz)
    if isinstance(clim, NamedClimate | WeatherFileClimate):
        if isinstance(clim, NamedClimate):
            df, meta = wx.load_climate(clim.name)
        else:
            df, meta = wx.read_weather(resolve_path(clim.path) if resolve_path else clim.path)
        times = _mid_step_times(clock).tz_localize("UTC")
        return ClockWeather(df[list(wx.CANONICAL_COLUMNS)], times, float(meta["tz_offset_h"]))
    raise TypeError(f"unsupported climate {type(clim).__name__}")  # pragma: no cover
