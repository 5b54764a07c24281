"""Weather for facility physics: real TMY/EPW files, named climates, synthetic climates.

Every reader returns ``(DataFrame, metadata)`` with the canonical columns of :data:`CANONICAL_COLUMNS`
and a ``DatetimeIndex`` in the file's local standard time (tz-aware, fixed offset). Typical-year data is
mapped onto any simulation clock with :func:`to_simulation_clock` (periodic interpolation on the hour of
the year, so a typical year repeats for multi-year runs).

Named climates (:func:`climate_names`, :func:`load_climate`) come from ``gigawatt/data/climates``:

* real typical-meteorological-year files shipped in ``gigawatt/data/climates/tmy`` (Greensboro NC TMY3,
  Sand Point AK TMY3, Miami FL TMY2; NREL National Solar Radiation Data Base, public data; source and terms in
  ``tmy/SOURCE.md``), read with pvlib's public ``pvlib.iotools`` readers;
* typical years **synthesized from published monthly climate normals** (mean daily maximum and minimum,
  mean dew point) for stations without a bundled file (Phoenix, Singapore, Dublin, Stockholm, Frankfurt).
  These are labelled ``kind = normals`` and are an estimate: monthly means and diurnal ranges match the
  normals, day-to-day weather is a seeded AR(1) anomaly with a documented standard deviation, irradiance is
  a clear-sky model scaled by an estimated clearness index.

References
----------
.. [1] S. Wilcox and W. Marion, "Users manual for TMY3 data sets", NREL/TP-581-43156, 2008.
.. [2] W. Marion and K. Urban, "User's manual for TMY2s", NREL, 1995.
.. [3] W. F. Holmgren, C. W. Hansen, M. A. Mikofski, "pvlib python: a python package for modeling solar
   energy systems", *J. Open Source Software* 3(29), 884, 2018.
"""

from __future__ import annotations

import datetime
import difflib
import importlib.resources
import warnings
from dataclasses import dataclass
from functools import lru_cache
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gigawatt.physics import psychrometrics as psy
from gigawatt.physics.timebase import HOURS_PER_YEAR, hour_of_year_h, to_local_standard_time

#: Canonical weather columns (units in the names).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "dry_bulb_c",
    "wet_bulb_c",
    "relative_humidity_frac",
    "pressure_pa",
    "wind_speed_m_per_s",
    "ghi_w_per_m2",
    "dni_w_per_m2",
    "dhi_w_per_m2",
)


# ----------------------------------------------------------------------------------------------- readers
def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Fill derived columns (wet bulb) and order the canonical columns."""
    df = df.copy()
    df["relative_humidity_frac"] = np.clip(df["relative_humidity_frac"].to_numpy(float), 0.01, 1.0)
    df["wet_bulb_c"] = psy.wet_bulb_c(
        df["dry_bulb_c"].to_numpy(float),
        df["relative_humidity_frac"].to_numpy(float),
        df["pressure_pa"].to_numpy(float),
    )
    return df[list(CANONICAL_COLUMNS)]


def read_weather(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a TMY2 (``.tm2``), TMY3 (``.csv``) or EnergyPlus (``.epw``) weather file.

    Parameters
    ----------
    path : str or Path
        Weather file; the format is chosen from the suffix.

    Returns
    -------
    (pandas.DataFrame, dict)
        Hourly data with :data:`CANONICAL_COLUMNS` (index: local standard time, interval-ending stamps as in
        the files) and metadata ``name, latitude, longitude, altitude_m, tz_offset_h, source_format, path``.

    Raises
    ------
    ValueError
        Unknown suffix.
    """
    from pvlib import iotools  # lazy: pvlib takes ~1 s to import; only solar and weather-file paths need it

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".tm2":
        raw, meta = iotools.read_tmy2(str(path))
        # TMY2 stores temperatures in 0.1 °C, pressure in mbar and wind speed in 0.1 m/s (Marion & Urban 1995).
        df = pd.DataFrame(
            {
                "dry_bulb_c": raw["DryBulb"] / 10.0,
                "relative_humidity_frac": raw["RHum"] / 100.0,
                "pressure_pa": raw["Pressure"] * 100.0,
                "wind_speed_m_per_s": raw["Wspd"] / 10.0,
                "ghi_w_per_m2": raw["GHI"].astype(float),
                "dni_w_per_m2": raw["DNI"].astype(float),
                "dhi_w_per_m2": raw["DHI"].astype(float),
            },
            index=raw.index,
        )
        name = f"{meta.get('City', '')} {meta.get('State', '')}".strip()
        tz = float(meta["TZ"])
        fmt = "TMY2"
    elif suffix == ".csv":
        raw, meta = iotools.read_tmy3(str(path), map_variables=True)
        df = pd.DataFrame(
            {
                "dry_bulb_c": raw["temp_air"],
                "relative_humidity_frac": raw["relative_humidity"] / 100.0,
                "pressure_pa": raw["pressure"] * 100.0,  # TMY3 pressure is in mbar (Wilcox & Marion 2008)
                "wind_speed_m_per_s": raw["wind_speed"],
                "ghi_w_per_m2": raw["ghi"].astype(float),
                "dni_w_per_m2": raw["dni"].astype(float),
                "dhi_w_per_m2": raw["dhi"].astype(float),
            },
            index=raw.index,
        )
        name = f"{str(meta.get('Name', '')).strip(chr(34))} {meta.get('State', '')}".strip()
        tz = float(meta["TZ"])
        fmt = "TMY3"
    elif suffix == ".epw":
        raw, meta = iotools.read_epw(str(path))
        df = pd.DataFrame(
            {
                "dry_bulb_c": raw["temp_air"],
                "relative_humidity_frac": raw["relative_humidity"] / 100.0,
                "pressure_pa": raw["atmospheric_pressure"].astype(float),  # EPW pressure is in Pa
                "wind_speed_m_per_s": raw["wind_speed"],
                "ghi_w_per_m2": raw["ghi"].astype(float),
                "dni_w_per_m2": raw["dni"].astype(float),
                "dhi_w_per_m2": raw["dhi"].astype(float),
            },
            index=raw.index,
        )
        name = str(meta.get("city", path.stem))
        tz = float(meta["TZ"])
        fmt = "EPW"
    else:
        raise ValueError(
            f"read_weather: unknown weather file suffix {suffix!r} in {path}; use .tm2, .csv (TMY3) or .epw"
        )
    metadata: dict[str, Any] = {
        "name": name,
        "latitude": float(meta["latitude"]),
        "longitude": float(meta["longitude"]),
        "altitude_m": float(meta.get("altitude", 0.0)),
        "tz_offset_h": tz,
        "source_format": fmt,
        "path": str(path),
    }
    return _finish(df), metadata


@lru_cache(maxsize=16)
def weather_file_tz_offset_h(path: str) -> float:
    """Local standard time offset [h] stated in a weather file's header (read once per path)."""
    return float(read_weather(path)[1]["tz_offset_h"])


# ------------------------------------------------------------------------------------ simulation clock
class ClockInterpolation:
    """Periodic linear interpolation of a typical year of hourly weather onto simulation times, precomputed.

    The position of every simulation time on the typical year's hour axis (the bracketing weather rows and
    the offset from the lower one) is found once; each column is then ``f = s[j]·(x − x_j) + f_j`` with the
    interval slopes ``s = Δf/Δx``: the same operations, in the same order, as :func:`numpy.interp` with
    ``period = 8760 h`` (so the same numbers to the last bit), without a binary search per column. See
    :func:`to_simulation_clock` for the placement of rows and times on the axis.

    Parameters
    ----------
    weather_index : pandas.DatetimeIndex
        Timestamps of the hourly weather rows (any year or mix of years; tz-aware read in their own zone).
    times : pandas.DatetimeIndex
        Simulation timestamps (tz-aware, or naive local standard time).
    tz_offset_h : float
        The weather's local standard time offset from UTC [h].
    interval_ending : bool
        Rows are averages over the hour ending at the stamp (TMY2/TMY3/EPW convention).
    """

    def __init__(
        self,
        weather_index: pd.DatetimeIndex,
        times: pd.DatetimeIndex,
        tz_offset_h: float = 0.0,
        *,
        interval_ending: bool = True,
    ) -> None:
        if len(weather_index) == 0:
            raise ValueError("to_simulation_clock: empty weather")
        w_index = pd.DatetimeIndex(weather_index)
        if w_index.tz is not None:
            w_index = w_index.tz_localize(None)
        xp = hour_of_year_h(w_index) - (0.5 if interval_ending else 0.0)
        xp = np.mod(xp, HOURS_PER_YEAR)
        order = np.argsort(xp, kind="stable")
        xp = xp[order]
        x = hour_of_year_h(to_local_standard_time(pd.DatetimeIndex(times), tz_offset_h))
        # as numpy.interp(x, xp, fp, period=HOURS_PER_YEAR): both axes folded onto the period, the rows
        # sorted (numpy's default sort) and padded by one row on each side
        x = x % HOURS_PER_YEAR
        xp = xp % HOURS_PER_YEAR
        self._order = order[np.argsort(xp)]
        xp = np.sort(xp)
        self._xp_h = np.concatenate((xp[-1:] - HOURS_PER_YEAR, xp, xp[0:1] + HOURS_PER_YEAR))
        # row j with xp_j <= x < xp_{j+1} (x < 8760 <= the last padded row)
        self._row = np.searchsorted(self._xp_h, x, side="right") - 1
        self._offset_h = x - self._xp_h[self._row]
        self._n_rows = order.size

    @property
    def n_times(self) -> int:
        """Number of simulation times."""
        return int(self._row.size)

    def column(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """One weather column (one value per weather row, in the rows' order) at the simulation times.

        Parameters
        ----------
        values : array_like (n_rows,)
            The column's hourly values.

        Returns
        -------
        numpy.ndarray (n_times,)
            The periodic linear interpolation (bitwise what :func:`numpy.interp` returns).
        """
        fp = np.asarray(values, dtype=float)
        if fp.shape != (self._n_rows,):
            raise ValueError(f"column: expected {self._n_rows} values (one per weather row), got {fp.shape}")
        fp = fp[self._order]
        fp = np.concatenate((fp[-1:], fp, fp[0:1]))
        slope = (fp[1:] - fp[:-1]) / (self._xp_h[1:] - self._xp_h[:-1])
        out = slope.take(self._row)
        out *= self._offset_h
        out += fp.take(self._row)
        return out


def to_simulation_clock(
    weather: pd.DataFrame,
    times: pd.DatetimeIndex,
    tz_offset_h: float = 0.0,
    *,
    interval_ending: bool = True,
) -> pd.DataFrame:
    """Map a typical year of hourly weather onto simulation timestamps by periodic interpolation.

    Each weather row is placed on the hour of a 365-day year (its month/day/hour; TMY years are mixed)
    at the middle of its averaging interval (``stamp − 0.5 h`` for interval-ending TMY data). Each simulation
    time, converted to local standard time, is placed on the same axis (Feb 29 folds onto Feb 28) and
    every column is interpolated linearly with a period of 8760 h, so the typical year repeats.
    Wet bulb is interpolated like the other columns (the error against recomputing it is < 0.05 °C).
    (:class:`ClockInterpolation` does the same column by column, for callers that need only some columns.)

    Parameters
    ----------
    weather : pandas.DataFrame
        Hourly weather with a DatetimeIndex (any year or mix of years).
    times : pandas.DatetimeIndex
        Simulation timestamps (tz-aware, or naive local standard time).
    tz_offset_h : float
        The weather's local standard time offset from UTC [h].
    interval_ending : bool
        Rows are averages over the hour ending at the stamp (TMY2/TMY3/EPW convention).

    Returns
    -------
    pandas.DataFrame
        Same columns, indexed by ``times``.
    """
    interp = ClockInterpolation(
        pd.DatetimeIndex(weather.index), times, tz_offset_h, interval_ending=interval_ending
    )
    return pd.DataFrame(
        {col: interp.column(weather[col].to_numpy(dtype=float)) for col in weather.columns}, index=times
    )


# ------------------------------------------------------------------------------------- synthetic climate
def diurnal_shape(hour_of_day: np.ndarray, hour_min: float = 6.0, hour_max: float = 15.0) -> np.ndarray:
    """Asymmetric diurnal temperature shape in [−1, 1]: −1 at ``hour_min``, +1 at ``hour_max``.

    Half-cosine rise from ``hour_min`` to ``hour_max`` and half-cosine decay back to the next
    ``hour_min``; its daily mean is exactly zero, so ``T = (Tmax+Tmin)/2 + (Tmax−Tmin)/2 · shape``
    keeps the daily mean. Minimum near sunrise and maximum mid-afternoon follow the classical
    two-part diurnal models (e.g. Parton & Logan 1981, simplified).

    References
    ----------
    .. [1] W. J. Parton and J. A. Logan, "A model for diurnal variation in soil and air temperature",
       *Agricultural Meteorology* 23, 205-216, 1981.
    """
    h = np.mod(np.asarray(hour_of_day, dtype=float) - hour_min, 24.0)
    rise = hour_max - hour_min
    return np.where(h < rise, -np.cos(np.pi * h / rise), np.cos(np.pi * (h - rise) / (24.0 - rise)))


def synthetic_weather(
    times: pd.DatetimeIndex,
    *,
    mean_dry_bulb_c: float = 15.0,
    annual_amplitude_c: float = 10.0,
    diurnal_amplitude_c: float = 5.0,
    dew_point_depression_c: float = 6.0,
    pressure_pa: float = psy.STANDARD_PRESSURE_PA,
    wind_speed_m_per_s: float = 3.0,
    peak_ghi_w_per_m2: float = 800.0,
    hottest_day_of_year: float = 200.0,
    latitude: float = 45.0,
) -> pd.DataFrame:
    """Deterministic sinusoidal climate (annual + diurnal) for tests and what-if studies.

    ``T = T_mean + A_annual cos(2π (doy − doy_hot)/365) + A_diurnal · diurnal_shape(hour)``;
    dew point = daily-mean temperature − depression (constant through the day); irradiance is a
    half-sine day from 06:00 to 18:00 scaled by season (northern hemisphere for ``latitude > 0``).

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Timestamps (taken as local time).
    mean_dry_bulb_c, annual_amplitude_c, diurnal_amplitude_c : float
        Annual mean, seasonal and diurnal half-amplitudes [°C].
    dew_point_depression_c : float
        Daily-mean dry bulb minus dew point [°C].
    pressure_pa, wind_speed_m_per_s, peak_ghi_w_per_m2 : float
        Constant pressure [Pa], wind [m/s] and noon clear-day GHI at midsummer [W/m²].
    hottest_day_of_year : float
        Day of year of the seasonal maximum.
    latitude : float
        Only its sign matters (seasons flip in the southern hemisphere).

    Returns
    -------
    pandas.DataFrame
        :data:`CANONICAL_COLUMNS` indexed by ``times``.
    """
    idx = pd.DatetimeIndex(times)
    local = idx.tz_localize(None) if idx.tz is not None else idx
    doy = local.day_of_year.to_numpy() + local.hour.to_numpy() / 24.0 + local.minute.to_numpy() / 1440.0
    hod = local.hour.to_numpy() + local.minute.to_numpy() / 60.0 + local.second.to_numpy() / 3600.0
    season = np.cos(2 * np.pi * (doy - hottest_day_of_year) / 365.0)
    if latitude < 0:
        season = -season
    daily_mean = mean_dry_bulb_c + annual_amplitude_c * season
    dry = daily_mean + diurnal_amplitude_c * diurnal_shape(hod)
    dew = np.minimum(daily_mean - dew_point_depression_c, dry)
    rh = psy.relative_humidity_from_dew_point_frac(dry, dew)
    p = np.full(len(idx), pressure_pa)
    sun = np.clip(np.sin(np.pi * (hod - 6.0) / 12.0), 0.0, None)
    ghi = peak_ghi_w_per_m2 * sun * (0.65 + 0.35 * season)
    df = pd.DataFrame(
        {
            "dry_bulb_c": dry,
            "relative_humidity_frac": rh,
            "pressure_pa": p,
            "wind_speed_m_per_s": np.full(len(idx), wind_speed_m_per_s),
            "ghi_w_per_m2": ghi,
            "dni_w_per_m2": 0.75 * ghi,
            "dhi_w_per_m2": 0.25 * ghi,
        },
        index=times,
    )
    return _finish(df)


# ---------------------------------------------------------------------------------- named climates
@dataclass(frozen=True)
class ClimateInfo:
    """One row of the named-climate registry (``data/climates/climates.csv``)."""

    name: str
    category: str
    koppen: str
    kind: str
    file: str
    station: str
    latitude: float
    longitude: float
    altitude_m: float
    tz_offset_h: float
    source: str


def _climate_dir() -> Any:
    return importlib.resources.files("gigawatt") / "data" / "climates"


@lru_cache(maxsize=1)
def _registry() -> dict[str, ClimateInfo]:
    text = (_climate_dir() / "climates.csv").read_text(encoding="utf-8")

    df = pd.read_csv(StringIO(text), comment="#")
    out = {}
    for rec in df.to_dict(orient="records"):
        info = ClimateInfo(
            name=str(rec["name"]),
            category=str(rec["category"]),
            koppen=str(rec["koppen"]),
            kind=str(rec["kind"]),
            file=str(rec["file"]),
            station=str(rec["station"]),
            latitude=float(rec["latitude"]),
            longitude=float(rec["longitude"]),
            altitude_m=float(rec["altitude_m"]),
            tz_offset_h=float(rec["tz_offset_h"]),
            source=str(rec["source"]),
        )
        out[info.name] = info
    return out


def climate_names() -> list[str]:
    """Names of the bundled climates, e.g. ``["greensboro", "phoenix", ...]``."""
    return sorted(_registry())


def climate_info(name: str) -> ClimateInfo:
    """Registry entry of a named climate; raises ``KeyError`` with a suggestion for unknown names."""
    reg = _registry()
    if name not in reg:
        close = difflib.get_close_matches(name, list(reg), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown climate {name!r}{hint} (known: {', '.join(sorted(reg))})")
    return reg[name]


def climate_table() -> pd.DataFrame:
    """The registry as a DataFrame (one row per climate, with its source)."""
    return pd.DataFrame([vars(c) for c in _registry().values()]).set_index("name").sort_index()


@lru_cache(maxsize=16)
def _load_climate_cached(name: str) -> tuple[pd.DataFrame, tuple[tuple[str, Any], ...]]:
    info = climate_info(name)
    if info.kind == "tmy":
        with importlib.resources.as_file(_climate_dir().joinpath(*info.file.split("/"))) as path:
            df, meta = read_weather(path)
        meta = {**meta, "path": f"gigawatt/data/climates/{info.file}"}
    elif info.kind == "normals":
        normals = _normals_table().loc[[info.name]].sort_values("month")
        df = synthesize_from_normals(
            tmax_c=normals["tmax_c"].to_numpy(float),
            tmin_c=normals["tmin_c"].to_numpy(float),
            dew_point_c=normals["dew_point_c"].to_numpy(float),
            clearness_index_frac=normals["clearness_index_frac"].to_numpy(float),
            wind_speed_m_per_s=normals["wind_speed_m_per_s"].to_numpy(float),
            daily_anomaly_std_c=float(normals["daily_anomaly_std_c"].iloc[0]),
            latitude=info.latitude,
            longitude=info.longitude,
            altitude_m=info.altitude_m,
            tz_offset_h=info.tz_offset_h,
            seed=int(normals["seed"].iloc[0]),
        )
        meta = {
            "name": info.station,
            "latitude": info.latitude,
            "longitude": info.longitude,
            "altitude_m": info.altitude_m,
            "tz_offset_h": info.tz_offset_h,
            "source_format": "synthesized-from-normals",
            "path": "",
        }
    else:  # pragma: no cover - guarded by the registry test
        raise ValueError(f"climate {name!r}: unknown kind {info.kind!r}")
    meta = {
        **meta,
        "climate": info.name,
        "category": info.category,
        "koppen": info.koppen,
        "source": info.source,
    }
    return df, tuple(meta.items())


def load_climate(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hourly typical-year weather of a named climate: ``(DataFrame, metadata)``.

    Metadata holds ``latitude, longitude, altitude_m, tz_offset_h, category, koppen, source``.
    The DataFrame is a fresh copy (callers may modify it).
    """
    df, meta = _load_climate_cached(name)
    return df.copy(), dict(meta)


@lru_cache(maxsize=1)
def _normals_table() -> pd.DataFrame:
    text = (_climate_dir() / "normals.csv").read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text), comment="#").set_index("name")


def synthesize_from_normals(
    *,
    tmax_c: np.ndarray,
    tmin_c: np.ndarray,
    dew_point_c: np.ndarray,
    clearness_index_frac: np.ndarray,
    wind_speed_m_per_s: np.ndarray,
    daily_anomaly_std_c: float,
    latitude: float,
    longitude: float,
    altitude_m: float,
    tz_offset_h: float,
    seed: int,
    year: int = 2001,
    anomaly_lag1_corr: float = 0.7,
) -> pd.DataFrame:
    """Hourly typical year synthesized from monthly climate normals (an estimate, see module notes).

    Steps (all vectorised):

    1. Monthly mean daily max/min and dew point are placed at mid-month and interpolated periodically
       to each day, with the anchors adjusted so each month's mean equals its normal (mean-preserving).
    2. A day-to-day anomaly ``a_d`` follows an AR(1) process (lag-1 correlation 0.7, stationary standard
       deviation ``daily_anomaly_std_c``) drawn from ``numpy.random.default_rng(seed)``, then de-meaned per
       month so monthly normals are kept. The dew point moves with 0.8·a_d.
    3. Hourly ``T = (Tmax+Tmin)/2 + a_d + (Tmax−Tmin)/2 · diurnal_shape(hour)``; dew point held constant
       over the day and capped at the dry bulb; pressure from altitude (ASHRAE standard atmosphere).
    4. Irradiance: pvlib simplified-Solis clear sky × monthly clearness index, split with Erbs.

    Returns
    -------
    pandas.DataFrame
        8760 hourly rows (interval-ending stamps, local standard time) with :data:`CANONICAL_COLUMNS`.
    """
    import pvlib  # lazy: pvlib takes ~1 s to import; only solar and weather-file paths need it

    # lazy: scipy.signal takes ~0.3 s to import; only synthesized climates need it
    from scipy.signal import lfilter

    tz: Any = (
        f"Etc/GMT{-int(tz_offset_h):+d}"
        if float(tz_offset_h).is_integer()
        else datetime.timezone(datetime.timedelta(hours=float(tz_offset_h)))
    )
    stamps = pd.date_range(f"{year}-01-01 01:00", periods=8760, freq="h", tz=tz)
    local = stamps.tz_localize(None)
    days = np.arange(365, dtype=float) + 0.5
    mid_month = np.array(
        [
            (pd.Timestamp(year, m, 1).day_of_year - 1) + pd.Timestamp(year, m, 1).days_in_month / 2
            for m in range(1, 13)
        ]
    )

    month_of_day = pd.date_range(f"{year}-01-01", periods=365, freq="D").month.to_numpy()
    days_in_month = np.bincount(month_of_day - 1, minlength=12)

    def daily(values: np.ndarray) -> np.ndarray:
        # mean-preserving interpolation: adjust the mid-month anchors until each month's mean of the
        # interpolated daily series equals its normal (linear interpolation alone damps the extremes)
        target = np.asarray(values, dtype=float)
        anchors = target.copy()
        for _ in range(8):  # fixed-point on 12 anchors (converges geometrically)
            series = np.interp(days, mid_month, anchors, period=365.0)
            anchors = (
                anchors + target - np.bincount(month_of_day - 1, weights=series, minlength=12) / days_in_month
            )
        return np.interp(days, mid_month, anchors, period=365.0)

    tmax_d, tmin_d, dew_d = daily(tmax_c), daily(tmin_c), daily(dew_point_c)
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(365) * daily_anomaly_std_c * np.sqrt(1 - anomaly_lag1_corr**2)
    eps[0] = rng.standard_normal() * daily_anomaly_std_c  # stationary start
    # AR(1) recurrence a_d = φ a_{d−1} + ε_d as a linear filter (no Python loop).
    anomaly = np.asarray(lfilter([1.0], [1.0, -anomaly_lag1_corr], eps), dtype=float)
    month_mean = np.bincount(month_of_day - 1, weights=anomaly, minlength=12) / np.bincount(
        month_of_day - 1, minlength=12
    )
    anomaly -= month_mean[month_of_day - 1]
    # hour-centred position for each interval-ending stamp
    centre = local - pd.Timedelta(minutes=30)
    d_idx = np.clip(centre.day_of_year.to_numpy() - 1, 0, 364)
    d_idx = np.where(centre.year.to_numpy() < year, 0, d_idx)
    hod = centre.hour.to_numpy() + centre.minute.to_numpy() / 60.0
    mean_d = 0.5 * (tmax_d + tmin_d) + anomaly
    half_range = 0.5 * (tmax_d - tmin_d)
    dry = mean_d[d_idx] + half_range[d_idx] * diurnal_shape(hod)
    dew = np.minimum(dew_d[d_idx] + 0.8 * anomaly[d_idx], dry - 0.1)
    rh = psy.relative_humidity_from_dew_point_frac(dry, dew)
    p = float(psy.pressure_at_altitude_pa(altitude_m))
    # stamps are tz-aware, so the Location zone never applies (UTC also covers half-hour offsets)
    loc = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    kt = np.asarray(clearness_index_frac, dtype=float)[local.month.to_numpy() - 1]
    with warnings.catch_warnings():
        # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3 (third-party, harmless)
        warnings.filterwarnings("ignore", message=".*dayofyear is deprecated.*")
        cs = loc.get_clearsky(stamps - pd.Timedelta(minutes=30), model="simplified_solis")
        ghi = cs["ghi"].to_numpy() * kt
        zenith = loc.get_solarposition(stamps - pd.Timedelta(minutes=30))["zenith"]
        split = pvlib.irradiance.erbs(ghi, zenith, stamps - pd.Timedelta(minutes=30))
    wind = np.asarray(wind_speed_m_per_s, dtype=float)[local.month.to_numpy() - 1]
    df = pd.DataFrame(
        {
            "dry_bulb_c": dry,
            "relative_humidity_frac": rh,
            "pressure_pa": np.full(len(stamps), p),
            "wind_speed_m_per_s": wind,
            "ghi_w_per_m2": ghi,
            "dni_w_per_m2": np.nan_to_num(split["dni"].to_numpy(dtype=float)),
            "dhi_w_per_m2": np.nan_to_num(split["dhi"].to_numpy(dtype=float)),
        },
        index=stamps,
    )
    return _finish(df)


#: Bounds of user-stated monthly normals (physical and record limits, with margin): the coldest and hottest
#: air temperatures observed on Earth are −89.2 °C (Vostok 1983) and 56.7 °C (Death Valley 1913, WMO); the
#: Hyland-Wexler saturation formulation holds down to −100 °C.
NORMALS_DRY_BULB_RANGE_C = (-90.0, 60.0)
NORMALS_DAILY_RANGE_MAX_C = 40.0
NORMALS_WIND_MAX_M_PER_S = 40.0


def check_monthly_normals(
    *,
    dry_bulb_mean_c: Any,
    daily_range_c: Any,
    dew_point_c: Any = None,
    relative_humidity_frac: Any = None,
    wind_speed_m_per_s: Any = None,
    clearness_index_frac: Any = None,
) -> list[str]:
    """Problems with a set of monthly climate normals (empty list: valid); every problem is reported.

    Checks 12 finite values per field; mean dry bulb within :data:`NORMALS_DRY_BULB_RANGE_C` and mean daily
    minimum ``T̄ − R/2`` above it too (so no hour falls below absolute zero or outside the saturation
    formulation); daily range in ``[0, 40]`` K; exactly one of dew point / relative humidity; dew point not
    above the month's mean dry bulb (the dew point never exceeds the dry bulb); relative humidity in
    ``(0, 1]``; wind in ``[0, 40]`` m/s; clearness index in ``[0, 1]``.
    """
    problems: list[str] = []
    lo, hi = NORMALS_DRY_BULB_RANGE_C

    def arr(name: str, value: Any) -> np.ndarray | None:
        if value is None:
            return None
        a = np.asarray(value, dtype=float).ravel()
        if a.shape != (12,):
            problems.append(f"{name}: give 12 monthly values (January first), got {a.size}")
            return None
        if not np.all(np.isfinite(a)):
            problems.append(f"{name}: values must be finite numbers")
            return None
        return a

    def months(mask: np.ndarray) -> str:
        return ", ".join(str(m + 1) for m in np.flatnonzero(mask))

    t = arr("dry_bulb_mean_c", dry_bulb_mean_c)
    r = arr("daily_range_c", daily_range_c)
    dp = arr("dew_point_c", dew_point_c)
    rh = arr("relative_humidity_frac", relative_humidity_frac)
    wind = arr("wind_speed_m_per_s", wind_speed_m_per_s)
    kt = arr("clearness_index_frac", clearness_index_frac)
    if t is not None and np.any((t < lo) | (t > hi)):
        problems.append(
            f"dry_bulb_mean_c: month(s) {months((t < lo) | (t > hi))} outside {lo:g}…{hi:g} °C "
            "(−273.15 °C is absolute zero; Earth's records are −89.2 and 56.7 °C)"
        )
    if r is not None and np.any((r < 0) | (r > NORMALS_DAILY_RANGE_MAX_C)):
        bad = (r < 0) | (r > NORMALS_DAILY_RANGE_MAX_C)
        problems.append(
            f"daily_range_c: month(s) {months(bad)} outside 0…{NORMALS_DAILY_RANGE_MAX_C:g} K "
            "(mean daily maximum minus mean daily minimum)"
        )
    if t is not None and r is not None and np.any(t - r / 2 < lo):
        problems.append(
            f"daily_range_c: month(s) {months(t - r / 2 < lo)} have a mean daily minimum "
            f"dry_bulb_mean_c − daily_range_c/2 below {lo:g} °C"
        )
    if dew_point_c is None and relative_humidity_frac is None:
        problems.append("dew_point_c / relative_humidity_frac: give one of them (12 monthly values)")
    elif dew_point_c is not None and relative_humidity_frac is not None:
        problems.append("dew_point_c / relative_humidity_frac: give only one of them")
    if dp is not None and t is not None and np.any(dp > t + 1e-9):
        problems.append(
            f"dew_point_c: month(s) {months(dp > t + 1e-9)} above the month's mean dry bulb "
            "(the dew point never exceeds the dry bulb)"
        )
    if dp is not None and np.any(dp < lo):
        problems.append(f"dew_point_c: month(s) {months(dp < lo)} below {lo:g} °C")
    if rh is not None and np.any((rh <= 0) | (rh > 1)):
        problems.append(f"relative_humidity_frac: month(s) {months((rh <= 0) | (rh > 1))} outside (0, 1]")
    if wind is not None and np.any((wind < 0) | (wind > NORMALS_WIND_MAX_M_PER_S)):
        bad = (wind < 0) | (wind > NORMALS_WIND_MAX_M_PER_S)
        problems.append(
            f"wind_speed_m_per_s: month(s) {months(bad)} outside 0…{NORMALS_WIND_MAX_M_PER_S:g} m/s"
        )
    if kt is not None and np.any((kt < 0) | (kt > 1)):
        problems.append(f"clearness_index_frac: month(s) {months((kt < 0) | (kt > 1))} outside 0…1")
    return problems


def typical_year_from_monthly_normals(
    *,
    dry_bulb_mean_c: Any,
    daily_range_c: Any,
    latitude: float,
    longitude: float,
    altitude_m: float = 0.0,
    tz_offset_h: float | None = None,
    dew_point_c: Any = None,
    relative_humidity_frac: Any = None,
    wind_speed_m_per_s: Any = None,
    clearness_index_frac: Any = None,
    daily_anomaly_std_c: float = 2.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Hourly typical year for **any site** from user-stated monthly normals (same method as named climates).

    Converts the normals to the inputs of :func:`synthesize_from_normals` and synthesizes the year there:
    ``Tmax = T̄ + R/2``, ``Tmin = T̄ − R/2`` (mean dry bulb ``T̄``, mean daily range ``R``); a monthly mean
    relative humidity is turned into a dew point at the monthly mean dry bulb, ``T_d = p_ws⁻¹(RH p_ws(T̄))``
    (an approximation: the mean of RH over a day is not the RH of the means). Defaults where a field is not
    given: wind 3 m/s, clearness index 0.5 (estimates), day-to-day anomaly standard deviation 2.5 K
    (estimate, temperate mid-latitudes; the bundled normals use 1.0-3.5 K).

    Parameters
    ----------
    dry_bulb_mean_c : array_like (12,)
        Monthly mean dry-bulb temperature [°C], January first.
    daily_range_c : array_like (12,)
        Monthly mean daily range (mean daily maximum − mean daily minimum) [K].
    latitude, longitude : float
        Site position [deg] (solar geometry for irradiance).
    altitude_m : float
        Elevation [m] (pressure by the standard atmosphere).
    tz_offset_h : float, optional
        Local standard time offset [h]; default ``round(longitude / 15)``.
    dew_point_c, relative_humidity_frac : array_like (12,)
        Monthly mean dew point [°C] or relative humidity [0-1]; exactly one.
    wind_speed_m_per_s, clearness_index_frac : array_like (12,), optional
        Monthly mean wind [m/s] and clearness index [0-1].
    daily_anomaly_std_c : float
        Standard deviation of day-to-day anomalies of the daily mean [K].
    seed : int
        Seed of the anomaly generator (a fixed typical year).

    Returns
    -------
    pandas.DataFrame
        8760 hourly rows (interval-ending stamps, local standard time) with :data:`CANONICAL_COLUMNS`.

    Raises
    ------
    ValueError
        Listing every problem found by :func:`check_monthly_normals`.
    """
    problems = check_monthly_normals(
        dry_bulb_mean_c=dry_bulb_mean_c,
        daily_range_c=daily_range_c,
        dew_point_c=dew_point_c,
        relative_humidity_frac=relative_humidity_frac,
        wind_speed_m_per_s=wind_speed_m_per_s,
        clearness_index_frac=clearness_index_frac,
    )
    if not np.isfinite(daily_anomaly_std_c) or not 0.0 <= daily_anomaly_std_c <= 10.0:
        problems.append("daily_anomaly_std_c: must be within 0…10 K")
    if problems:
        raise ValueError("monthly normals: " + "; ".join(problems))
    t = np.asarray(dry_bulb_mean_c, dtype=float)
    r = np.asarray(daily_range_c, dtype=float)
    if dew_point_c is not None:
        dew = np.asarray(dew_point_c, dtype=float)
    else:
        dew = psy.dew_point_c(t, np.asarray(relative_humidity_frac, dtype=float))
    return synthesize_from_normals(
        tmax_c=t + r / 2,
        tmin_c=t - r / 2,
        dew_point_c=dew,
        clearness_index_frac=np.full(12, 0.5)
        if clearness_index_frac is None
        else np.asarray(clearness_index_frac, dtype=float),
        wind_speed_m_per_s=np.full(12, 3.0)
        if wind_speed_m_per_s is None
        else np.asarray(wind_speed_m_per_s, dtype=float),
        daily_anomaly_std_c=float(daily_anomaly_std_c),
        latitude=float(latitude),
        longitude=float(longitude),
        altitude_m=float(altitude_m),
        tz_offset_h=float(round(longitude / 15.0)) if tz_offset_h is None else float(tz_offset_h),
        seed=int(seed),
    )


def weather_arrays(weather: pd.DataFrame) -> dict[str, np.ndarray]:
    """Canonical columns as float arrays (for the pure physics functions)."""
    return {c: weather[c].to_numpy(dtype=float) for c in CANONICAL_COLUMNS}
