"""One clock convention for every hourly input: hour of the year, local standard time, site time zone.

The simulation clock runs in UTC (``Scenario.start``, event dates). Everything that repeats by the calendar
(typical-year weather, yearly price series, daily demand and utilisation profiles, time-of-use periods) is
placed on the same axes by the helpers here:

* :func:`hour_of_year_h`: position in a **365-day year** [h], 0 at Jan 1 00:00. Feb 29 is folded onto
  Feb 28, so March 1 is hour 1416 in leap and common years alike and a leap-year file replays on the right
  calendar day in every simulated year (weather and price replay share this helper);
* :func:`to_local_standard_time`: UTC → naive local *standard* time ``UTC + offset`` (no daylight saving:
  typical-year weather files and most utility TOU schedules are written in standard time);
* :func:`solar_utc_offset_h`: the default offset of a site with no stated time zone, ``round(lon/15)``.

References
----------
.. [1] S. Wilcox and W. Marion, "Users manual for TMY3 data sets", NREL/TP-581-43156, 2008 (TMY data are in
   local standard time, hour-ending).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "HOURS_PER_YEAR",
    "hour_of_year_h",
    "local_clock",
    "solar_utc_offset_h",
    "to_local_standard_time",
]

#: Hours in the 365-day year used for typical-year replay [h].
HOURS_PER_YEAR = 8760.0


def hour_of_year_h(times: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """Hour of a 365-day year [h] (0 at Jan 1 00:00, fractional within the hour); Feb 29 folds onto Feb 28.

    ``h = (doy' − 1)·24 + hour + minute/60 + second/3600`` with ``doy' = doy − 1`` on and after Feb 29 of
    a leap year (day of year ≥ 60), so every date after February has the same hour in every year.

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Timestamps (naive, or tz-aware read in their own zone).

    Returns
    -------
    numpy.ndarray
        Hour of year in ``[0, 8760)`` [h].
    """
    idx = pd.DatetimeIndex(times)
    doy = idx.day_of_year.to_numpy()
    doy = np.where(np.asarray(idx.is_leap_year) & (doy >= 60), doy - 1, doy)
    hours = idx.hour.to_numpy() + idx.minute.to_numpy() / 60.0 + idx.second.to_numpy() / 3600.0
    return np.asarray((doy - 1) * 24.0 + hours, dtype=float)


def to_local_standard_time(times: pd.DatetimeIndex, tz_offset_h: float) -> pd.DatetimeIndex:
    """Convert simulation times to naive local standard time (``UTC + tz_offset_h``).

    Tz-aware times are converted; naive times are taken as local standard time already.
    """
    if times.tz is None:
        return times
    utc = times.tz_convert("UTC").tz_localize(None)
    return utc + pd.to_timedelta(tz_offset_h, unit="h")


def local_clock(utc_times: pd.DatetimeIndex, utc_offset_h: float) -> pd.DatetimeIndex:
    """Naive UTC simulation times as naive wall-clock times ``UTC + utc_offset_h`` (offset 0: UTC itself)."""
    idx = pd.DatetimeIndex(utc_times)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx + pd.Timedelta(hours=float(utc_offset_h))


def solar_utc_offset_h(longitude_deg: float) -> float:
    """Default offset of local standard time from UTC [h] for a longitude: ``round(longitude / 15)``."""
    return float(round(float(longitude_deg) / 15.0))
