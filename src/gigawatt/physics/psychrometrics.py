"""Moist-air psychrometrics: saturation pressure, dew point, humidity ratio, wet-bulb temperature.

All functions are vectorised over numpy arrays (any broadcastable shapes) and use SI units with
temperatures in degrees Celsius.

The thermodynamic wet-bulb temperature is solved from the ASHRAE psychrometric energy balance
(ASHRAE Handbook - Fundamentals 2017, ch. 1, eq. 33/35) with a vectorised Newton iteration
(:func:`wet_bulb_c`); Stull's (2011) explicit empirical fit is provided as a fast cross-check
(:func:`wet_bulb_stull_c`).

References
----------
.. [1] ASHRAE, "Psychrometrics", ch. 1 in *ASHRAE Handbook - Fundamentals*, SI edition, 2017.
.. [2] R. Stull, "Wet-bulb temperature from relative humidity and air temperature",
   *J. Appl. Meteor. Climatol.* 50, 2267-2269, 2011. doi:10.1175/JAMC-D-11-0143.1
.. [3] O. A. Alduchov and R. E. Eskridge, "Improved Magnus form approximation of saturation vapor
   pressure", *J. Appl. Meteor.* 35, 601-609, 1996.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

#: Standard atmospheric pressure at sea level [Pa].
STANDARD_PRESSURE_PA = 101_325.0
#: Ratio of molar masses of water vapour and dry air (ASHRAE 2017 ch. 1 eq. 20) [-].
MOLAR_MASS_RATIO = 0.621945
#: Specific heat of dry air at constant pressure [kJ/(kg K)] (ASHRAE 2017 ch. 1 eq. 30).
CP_DRY_AIR_KJ_PER_KG_K = 1.006
#: Specific heat of water vapour [kJ/(kg K)] (ASHRAE 2017 ch. 1 eq. 30).
CP_VAPOUR_KJ_PER_KG_K = 1.86
#: Latent heat of vaporisation of water at 0 °C [kJ/kg] (ASHRAE 2017 ch. 1 eq. 30).
LATENT_HEAT_0C_KJ_PER_KG = 2501.0


def saturation_vapor_pressure_pa(temperature_c: ArrayLike) -> FloatArray:
    """Saturation vapour pressure over liquid water [Pa].

    Improved Magnus form (Alduchov & Eskridge 1996, eq. 21, "AERK")::

        p_ws = 610.94 * exp(17.625 * T / (T + 243.04))

    Accurate to < 0.4 % against the Wexler/Hyland-Wexler formulation between -40 and 50 °C.

    Parameters
    ----------
    temperature_c : array_like
        Temperature [°C].

    Returns
    -------
    numpy.ndarray
        Saturation vapour pressure [Pa].

    References
    ----------
    .. [1] Alduchov & Eskridge (1996), see module references.
    """
    t = np.asarray(temperature_c, dtype=float)
    return 610.94 * np.exp(17.625 * t / (t + 243.04))


def dew_point_c(dry_bulb_c: ArrayLike, relative_humidity_frac: ArrayLike) -> FloatArray:
    """Dew-point temperature [°C] from dry bulb and relative humidity (inverse Magnus form).

    ``γ = ln(RH) + 17.625 T / (T + 243.04)``; ``T_d = 243.04 γ / (17.625 − γ)``.

    Parameters
    ----------
    dry_bulb_c : array_like
        Dry-bulb temperature [°C].
    relative_humidity_frac : array_like
        Relative humidity [0-1]; clipped to [1e-4, 1].
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = np.clip(np.asarray(relative_humidity_frac, dtype=float), 1e-4, 1.0)
    gamma = np.log(rh) + 17.625 * t / (t + 243.04)
    return 243.04 * gamma / (17.625 - gamma)


def relative_humidity_from_dew_point_frac(dry_bulb_c: ArrayLike, dew_point_c: ArrayLike) -> FloatArray:
    """Relative humidity [0-1] from dry bulb and dew point: ``p_ws(T_d) / p_ws(T)``, clipped to ≤ 1."""
    return np.minimum(
        saturation_vapor_pressure_pa(dew_point_c) / saturation_vapor_pressure_pa(dry_bulb_c), 1.0
    )


def humidity_ratio_from_vapor_pressure(vapor_pressure_pa: ArrayLike, pressure_pa: ArrayLike) -> FloatArray:
    """Humidity ratio W [kg water / kg dry air]: ``W = 0.621945 p_w / (p − p_w)`` (ASHRAE 2017 ch. 1 eq. 20)."""
    pw = np.asarray(vapor_pressure_pa, dtype=float)
    return MOLAR_MASS_RATIO * pw / (np.asarray(pressure_pa, dtype=float) - pw)


def humidity_ratio(
    dry_bulb_c: ArrayLike, relative_humidity_frac: ArrayLike, pressure_pa: ArrayLike = STANDARD_PRESSURE_PA
) -> FloatArray:
    """Humidity ratio W [kg/kg dry air] from dry bulb, relative humidity and pressure."""
    pw = np.asarray(relative_humidity_frac, dtype=float) * saturation_vapor_pressure_pa(dry_bulb_c)
    return humidity_ratio_from_vapor_pressure(pw, pressure_pa)


def _humidity_ratio_from_wet_bulb(
    dry_bulb_c: FloatArray, wet_bulb_c: FloatArray, pressure_pa: FloatArray
) -> FloatArray:
    """ASHRAE 2017 ch. 1 eq. 33 (wet bulb above freezing): W from (T, T*, p)."""
    ws_star = humidity_ratio_from_vapor_pressure(saturation_vapor_pressure_pa(wet_bulb_c), pressure_pa)
    num = (2501.0 - 2.326 * wet_bulb_c) * ws_star - CP_DRY_AIR_KJ_PER_KG_K * (dry_bulb_c - wet_bulb_c)
    den = 2501.0 + CP_VAPOUR_KJ_PER_KG_K * dry_bulb_c - 4.186 * wet_bulb_c
    return num / den


def wet_bulb_c(
    dry_bulb_c: ArrayLike,
    relative_humidity_frac: ArrayLike | None = None,
    pressure_pa: ArrayLike = STANDARD_PRESSURE_PA,
    *,
    dew_point_c: ArrayLike | None = None,
    n_iterations: int = 8,
) -> FloatArray:
    """Thermodynamic wet-bulb temperature [°C] (vectorised Newton iteration on the ASHRAE balance).

    Solves ``W(T, T*, p) = W_actual`` for ``T*`` where, for ``T* ≥ 0 °C`` (ASHRAE 2017 ch. 1 eq. 33)::

        W = ((2501 − 2.326 T*) W_s* − 1.006 (T − T*)) / (2501 + 1.86 T − 4.186 T*)

    and ``W_s*`` is the saturation humidity ratio at ``T*``. The iteration starts from Stull's (2011)
    fit and uses a numerical derivative; 8 iterations converge to < 1e-6 °C over −20…55 °C.
    Below 0 °C wet bulb the liquid-water form is kept (the ice form differs by < 0.2 °C there,
    irrelevant for cooling-plant sizing).

    Parameters
    ----------
    dry_bulb_c : array_like
        Dry-bulb temperature [°C].
    relative_humidity_frac : array_like, optional
        Relative humidity [0-1]. Give this or ``dew_point_c``.
    pressure_pa : array_like
        Barometric pressure [Pa] (default standard sea level).
    dew_point_c : array_like, optional
        Dew-point temperature [°C], used when ``relative_humidity_frac`` is None.
    n_iterations : int
        Newton iterations.

    Returns
    -------
    numpy.ndarray
        Wet-bulb temperature [°C], ≤ dry bulb.

    References
    ----------
    .. [1] ASHRAE Handbook - Fundamentals (2017), ch. 1, eqs. 20, 33.
    .. [2] Stull (2011) for the starting point.
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    p = np.asarray(pressure_pa, dtype=float)
    if relative_humidity_frac is None:
        if dew_point_c is None:
            raise ValueError("wet_bulb_c: give relative_humidity_frac or dew_point_c")
        rh = relative_humidity_from_dew_point_frac(t, dew_point_c)
    else:
        rh = np.clip(np.asarray(relative_humidity_frac, dtype=float), 1e-4, 1.0)
    t, rh, p = np.broadcast_arrays(t, rh, p)
    w_target = humidity_ratio(t, rh, p)
    tw = np.minimum(wet_bulb_stull_c(t, np.clip(rh, 0.05, 0.99)), t)
    h = 1e-3
    for _ in range(n_iterations):
        f = _humidity_ratio_from_wet_bulb(t, tw, p) - w_target
        df = (_humidity_ratio_from_wet_bulb(t, tw + h, p) - _humidity_ratio_from_wet_bulb(t, tw - h, p)) / (
            2 * h
        )
        tw = np.minimum(tw - f / df, t)
    return np.asarray(tw, dtype=float)


def wet_bulb_stull_c(dry_bulb_c: ArrayLike, relative_humidity_frac: ArrayLike) -> FloatArray:
    """Wet-bulb temperature [°C] from Stull's (2011) empirical fit at standard pressure.

    ::

        Tw = T atan(0.151977 (RH% + 8.313659)^0.5) + atan(T + RH%) − atan(RH% − 1.676331)
             + 0.00391838 RH%^1.5 atan(0.023101 RH%) − 4.686035

    Valid for RH 5–99 % and −20…50 °C, with errors of −1 to +0.65 °C against the psychrometric solution
    (Stull 2011). RH enters in percent inside the formula.

    References
    ----------
    .. [1] Stull (2011), see module references.
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = 100.0 * np.asarray(relative_humidity_frac, dtype=float)
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


def pressure_at_altitude_pa(altitude_m: ArrayLike) -> FloatArray:
    """Standard-atmosphere pressure [Pa] at an altitude [m]: ``101325 (1 − 2.25577e-5 z)^5.2559``.

    References
    ----------
    .. [1] ASHRAE Handbook - Fundamentals (2017), ch. 1, eq. 3.
    """
    z = np.asarray(altitude_m, dtype=float)
    return STANDARD_PRESSURE_PA * (1.0 - 2.25577e-5 * z) ** 5.2559


def moist_air_enthalpy_kj_per_kg(dry_bulb_c: ArrayLike, humidity_ratio_kg_per_kg: ArrayLike) -> FloatArray:
    """Moist-air specific enthalpy [kJ/kg dry air]: ``h = 1.006 T + W (2501 + 1.86 T)`` (ASHRAE 2017 eq. 32)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    w = np.asarray(humidity_ratio_kg_per_kg, dtype=float)
    return CP_DRY_AIR_KJ_PER_KG_K * t + w * (LATENT_HEAT_0C_KJ_PER_KG + CP_VAPOUR_KJ_PER_KG_K * t)
