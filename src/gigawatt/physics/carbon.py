"""Grid carbon intensity and emissions accounting (Scope 1 on-site fuel, Scope 2 location- and market-based).

Units: intensity in gCO2 per kWh, which is numerically kg per MWh, so emissions of a step are

.. math:: m\\,[\\mathrm{kg}] = P\\,[\\mathrm{MW}] \\cdot \\Delta t\\,[\\mathrm{h}] \\cdot I\\,[\\mathrm{g/kWh}]

Annual averages per region ship in ``gigawatt/data/grid_carbon.csv`` (each row with year, basis and source:
U.S. EPA eGRID subregions are *direct* CO2 output rates, Ember country figures are *lifecycle* CO2e). No
hourly grid-intensity data ships with gigawatt, so hourly profiles are a **documented synthesis**
(:func:`synthetic_intensity_gco2_per_kwh`) scaled to the annual mean; users with measured hourly data
(e.g. from a system operator) pass it as an array instead.

References
----------
.. [GHGP2015] World Resources Institute / WBCSD, "GHG Protocol Scope 2 Guidance", 2015: dual reporting of
   location-based (grid-average factors) and market-based (contractual instruments: PPAs, energy attribute
   certificates, then the residual mix) Scope 2 emissions; Scope 1 covers on-site fuel combustion.
.. [Luccioni2023] A. S. Luccioni, S. Viguier, A.-L. Ligozat, "Estimating the Carbon Footprint of BLOOM, a
   176B Parameter Language Model", JMLR 24(253), 2023: embodied emissions estimated at ≈150 kgCO2e per GPU
   and ≈2,500 kgCO2e per server node (estimates), amortised over the hardware lifetime.
.. [Callaway2018] D. S. Callaway, M. Fowlie, G. McCormick, "Location, Location, Location: The Variable Value
   of Renewable Energy and Demand-Side Efficiency Resources", JAERE 5(1), 2018: marginal and average
   emission rates vary by hour, with mid-day solar lowering them in solar-rich systems (qualitative basis for
   the synthetic profile's solar dip).
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: Step times: a DatetimeIndex (or anything pandas turns into one).
TimesLike = pd.DatetimeIndex | pd.Series | NDArray[np.datetime64] | list[pd.Timestamp]

__all__ = [
    "annual_grid_intensity_gco2_per_kwh",
    "embodied_emissions_kgco2",
    "grid_carbon_table",
    "location_based_emissions_kgco2",
    "market_based_emissions_kgco2",
    "synthetic_intensity_gco2_per_kwh",
]


@functools.cache
def _table() -> pd.DataFrame:
    with resources.files("gigawatt.data").joinpath("grid_carbon.csv").open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


def grid_carbon_table() -> pd.DataFrame:
    """Annual grid carbon intensity per region: columns region, name, gco2_per_kwh, year, basis, source."""
    return _table().copy()


def annual_grid_intensity_gco2_per_kwh(region: str) -> float:
    """Annual average grid carbon intensity of a region [gCO2/kWh] (eGRID subregion or ISO country code).

    Raises
    ------
    KeyError
        Unknown region, with the closest known codes suggested.
    """
    t = _table()
    hit = t.loc[t["region"].str.upper() == region.upper(), "gco2_per_kwh"]
    if hit.empty:
        known = list(t["region"])
        close = difflib.get_close_matches(region.upper(), known, n=3, cutoff=0.3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise KeyError(
            f"grid carbon region {region!r} is not in grid_carbon.csv{hint} (known: {', '.join(known)})"
        )
    return float(hit.iloc[0])


def synthetic_intensity_gco2_per_kwh(
    times: TimesLike,
    annual_mean_gco2_per_kwh: float,
    solar_dip_frac: float = 0.2,
    evening_peak_frac: float = 0.05,
    seasonal_amplitude_frac: float = 0.1,
    latitude_deg: float = 45.0,
    ghi_w_per_m2: ArrayLike | None = None,
) -> FloatArray:
    """Synthetic hourly grid carbon intensity with a solar dip, an evening peak and a seasonal term.

    .. math::

        s(t) = 1 - a_{sol}\\,\\hat G(t) + a_{eve}\\,e^{-(h-19)^2/8} + a_{sea}\\cos(2\\pi(d - d_w)/365.25)

        I(t) = \\bar I \\; s(t) / \\overline{s}

    where :math:`\\hat G` is the normalised solar availability — the site's GHI divided by its maximum
    when given, else :math:`\\max(0, \\sin(\\pi(h-6)/12))` — :math:`h` the local hour, :math:`d` the day of
    year and :math:`d_w` mid-winter (day 15 north of the equator, 196 south). Normalising by the mean of
    :math:`s` makes the time-mean equal to the annual figure exactly. **This is a synthesis, not data**: the
    default amplitudes are estimates giving a ±20 % daily swing typical of grids with a moderate solar share
    [Callaway2018]; set them to 0 for a flat profile.

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step times (local clock).
    annual_mean_gco2_per_kwh : float
        Target mean [gCO2/kWh] (e.g. :func:`annual_grid_intensity_gco2_per_kwh`).
    solar_dip_frac, evening_peak_frac, seasonal_amplitude_frac : float
        Relative amplitudes (>= 0).
    latitude_deg : float
        Site latitude (sets the hemisphere of the seasonal term).
    ghi_w_per_m2 : array_like, optional
        Site global horizontal irradiance per step [W/m²] for the solar dip.

    Returns
    -------
    ndarray, shape (n,)
        Intensity per step [gCO2/kWh], >= 0, with mean ``annual_mean_gco2_per_kwh``.
    """
    if annual_mean_gco2_per_kwh < 0:
        raise ValueError("annual_mean_gco2_per_kwh: must be >= 0")
    for name, v in (("solar_dip_frac", solar_dip_frac), ("evening_peak_frac", evening_peak_frac)):
        if not 0.0 <= v < 1.0:
            raise ValueError(f"{name}: must be within [0, 1)")
    if not 0.0 <= seasonal_amplitude_frac < 0.5:
        raise ValueError("seasonal_amplitude_frac: must be within [0, 0.5)")
    idx = pd.DatetimeIndex(times)
    hour = np.asarray(idx.hour + idx.minute / 60.0, dtype=float)
    doy = np.asarray(idx.day_of_year, dtype=float)
    if ghi_w_per_m2 is None:
        solar = np.clip(np.sin(np.pi * (hour - 6.0) / 12.0), 0.0, None)
    else:
        g = np.clip(np.nan_to_num(np.asarray(ghi_w_per_m2, dtype=float)), 0.0, None)
        if g.shape != (idx.size,):
            raise ValueError("ghi_w_per_m2: must have one value per time")
        solar = g / g.max() if g.max() > 0 else np.zeros_like(g)
    winter_doy = 15.0 if latitude_deg >= 0 else 196.0
    shape = (
        1.0
        - solar_dip_frac * solar
        + evening_peak_frac * np.exp(-((hour - 19.0) ** 2) / 8.0)
        + seasonal_amplitude_frac * np.cos(2.0 * np.pi * (doy - winter_doy) / 365.25)
    )
    return np.asarray(annual_mean_gco2_per_kwh * shape / shape.mean(), dtype=float)


def location_based_emissions_kgco2(
    import_mw: ArrayLike, intensity_gco2_per_kwh: ArrayLike, step_h: float
) -> FloatArray:
    """Location-based Scope 2 emissions per step [kg]: grid import × grid-average intensity [GHGP2015]."""
    if step_h <= 0:
        raise ValueError("step_h: must be > 0")
    p = np.asarray(import_mw, dtype=float)
    return np.asarray(p * step_h * np.asarray(intensity_gco2_per_kwh, dtype=float), dtype=float)


def market_based_emissions_kgco2(
    import_mw: ArrayLike,
    step_h: float,
    residual_mix_gco2_per_kwh: ArrayLike,
    contracted_mw: ArrayLike | None = None,
    certificates_mwh: float = 0.0,
    matching: str = "annual",
) -> FloatArray:
    """Market-based Scope 2 emissions per step [kg] [GHGP2015].

    Zero-carbon contractual instruments (PPAs, energy attribute certificates such as RECs/GOs) cover part of
    the import; the rest is charged at the residual mix (use the grid average when no residual mix is
    published, which understates market-based emissions).

    - ``matching="hourly"`` (24/7 carbon-free-energy style): per step, PPA energy covers at most that step's
      import, ``m = max(P_imp − P_ppa, 0)``; certificates then cover the remaining uncovered energy
      uniformly (annual instruments).
    - ``matching="annual"`` (volume matching, standard practice): the covered fraction of every step is
      ``f = min(1, (E_ppa + E_cert)/E_imp)`` over the horizon.

    Parameters
    ----------
    import_mw : array_like, shape (n,)
        Grid import [MW].
    step_h : float
        Step length [h].
    residual_mix_gco2_per_kwh : float or array_like
        Intensity of uncovered energy [gCO2/kWh].
    contracted_mw : array_like, optional
        PPA contracted power per step [MW].
    certificates_mwh : float
        Unbundled certificates retired for the horizon [MWh].
    matching : {"annual", "hourly"}

    Returns
    -------
    ndarray, shape (n,)
        Emissions per step [kg].
    """
    if step_h <= 0:
        raise ValueError("step_h: must be > 0")
    if certificates_mwh < 0:
        raise ValueError("certificates_mwh: must be >= 0")
    if matching not in ("annual", "hourly"):
        raise ValueError("matching: use 'annual' or 'hourly'")
    p = np.clip(np.asarray(import_mw, dtype=float), 0.0, None)
    q = np.zeros_like(p) if contracted_mw is None else np.asarray(contracted_mw, dtype=float)
    if q.shape != p.shape:
        raise ValueError("contracted_mw: must have one value per step")
    resid = np.asarray(residual_mix_gco2_per_kwh, dtype=float)
    if matching == "hourly":
        uncovered = np.clip(p - q, 0.0, None)
        total = uncovered.sum() * step_h
        f_cert = min(1.0, certificates_mwh / total) if total > 0 else 1.0
        return np.asarray(uncovered * (1.0 - f_cert) * step_h * resid, dtype=float)
    e_imp = p.sum() * step_h
    covered = q.sum() * step_h + certificates_mwh
    f = min(1.0, covered / e_imp) if e_imp > 0 else 1.0
    return np.asarray(p * (1.0 - f) * step_h * resid, dtype=float)


def embodied_emissions_kgco2(
    n_accelerators: int,
    n_servers: int,
    horizon_h: float,
    lifetime_years: float = 5.0,
    per_accelerator_kgco2e: float = 150.0,
    per_server_kgco2e: float = 2500.0,
) -> float:
    """Embodied (manufacturing) emissions of accelerators and servers amortised over the horizon [kgCO2e].

    .. math:: m = (N_{acc} e_{acc} + N_{srv} e_{srv}) \\cdot \\frac{T}{L \\cdot 8760}

    Defaults are the per-GPU and per-server estimates of [Luccioni2023] (estimates, for A100-class hardware;
    newer, larger packages with more HBM are likely higher).
    """
    if min(n_accelerators, n_servers) < 0 or horizon_h < 0 or lifetime_years <= 0:
        raise ValueError("counts and horizon_h must be >= 0, lifetime_years > 0")
    total = n_accelerators * per_accelerator_kgco2e + n_servers * per_server_kgco2e
    return float(total * horizon_h / (lifetime_years * 8760.0))
