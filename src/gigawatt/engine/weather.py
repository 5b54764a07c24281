"""Ambient conditions per site on the simulation clock (vectorised over the whole horizon)."""

from __future__ import annotations

import numpy as np

from gigawatt.engine.clock import Clock
from gigawatt.scenario.site import ConstantClimate, Site, SyntheticClimate

__all__ = ["site_weather"]


def site_weather(site: Site, clock: Clock) -> dict[str, np.ndarray]:
    """Weather arrays ``(n_steps,)`` for ``site``: ``dry_bulb_c`` and ``relative_humidity_frac``.

    The synthetic climate evaluates its sinusoids at the middle of each step in local solar time
    (UTC + longitude/15 h), with the daily maximum at 15:00 solar time.
    """
    clim = site.climate
    n = clock.n_steps
    if isinstance(clim, ConstantClimate):
        return {
            "dry_bulb_c": np.full(n, clim.dry_bulb_c),
            "relative_humidity_frac": np.full(n, clim.relative_humidity_frac),
        }
    if isinstance(clim, SyntheticClimate):
        t_mid = clock.times + (clock.times[1] - clock.times[0]) / 2 if n > 1 else clock.times
        doy = t_mid.day_of_year.to_numpy() + t_mid.hour.to_numpy() / 24.0
        hour_solar = (
            t_mid.hour.to_numpy() + t_mid.minute.to_numpy() / 60.0 + site.location.longitude_deg / 15.0
        ) % 24.0
        temp = (
            clim.annual_mean_dry_bulb_c
            + clim.annual_amplitude_c * np.cos(2 * np.pi * (doy - clim.hottest_day_of_year) / 365.25)
            + clim.diurnal_amplitude_c * np.cos(2 * np.pi * (hour_solar - 15.0) / 24.0)
        )
        return {"dry_bulb_c": temp, "relative_humidity_frac": np.full(n, clim.relative_humidity_frac)}
    raise TypeError(f"unsupported climate {type(clim).__name__}")  # pragma: no cover
