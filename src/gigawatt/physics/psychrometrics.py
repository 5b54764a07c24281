"""Moist-air psychrometrics: saturation pressure, dew point, humidity ratio, wet-bulb temperature.

All functions are vectorised over numpy arrays (any broadcastable shapes) and use SI units with
temperatures in degrees Celsius.

Saturation follows the ASHRAE Handbook - Fundamentals (2017), ch. 1, which uses the Hyland-Wexler (1983)
formulation: over **liquid water** at and above the triple point (0.01 °C, eq. 6) and over **ice** below it
(eq. 5). Relative humidity is the ASHRAE one, ``RH = p_w / p_ws(T)`` with ``p_ws`` over ice below freezing, so
the dew point below freezing is the frost point. The thermodynamic wet bulb is solved from the ASHRAE
energy balance, eq. 33 above and eq. 35 below freezing (:func:`wet_bulb_c`); Stull's (2011) explicit
empirical fit is provided as a fast cross-check (:func:`wet_bulb_stull_c`). The PsychroLib reference
implementation of the same equations (Meyer & Thevenard 2019) is the oracle of the test suite.

References
----------
.. [1] ASHRAE, "Psychrometrics", ch. 1 in *ASHRAE Handbook - Fundamentals*, SI edition, 2017.
.. [2] R. W. Hyland and A. Wexler, "Formulations for the thermodynamic properties of the saturated phases of
   H2O from 173.15 K to 473.15 K", *ASHRAE Transactions* 89(2A), 500-519, 1983.
.. [3] R. Stull, "Wet-bulb temperature from relative humidity and air temperature",
   *J. Appl. Meteor. Climatol.* 50, 2267-2269, 2011. doi:10.1175/JAMC-D-11-0143.1
.. [4] D. Meyer and D. Thevenard, "PsychroLib: a library of psychrometric functions to calculate
   thermodynamic properties of air", *J. Open Source Software* 4(33), 1137, 2019.
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
#: Triple point of water [°C]: saturation is over ice below it (ASHRAE 2017 ch. 1, eqs. 5-6).
TRIPLE_POINT_C = 0.01
#: Kelvin offset [K].
KELVIN_OFFSET = 273.15

# Hyland-Wexler coefficients, ASHRAE 2017 ch. 1 eq. 5 (ice, -100..0 °C) and eq. 6 (liquid, 0..200 °C).
_HW_ICE = (-5.6745359e3, 6.3925247, -9.6778430e-3, 6.2215701e-7, 2.0747825e-9, -9.4840240e-13, 4.1635019)
_HW_LIQ = (-5.8002206e3, 1.3914993, -4.8640239e-2, 4.1764768e-5, -1.4452093e-8, 0.0, 6.5459673)


def _ln_pws(temperature_c: FloatArray) -> FloatArray:
    """``ln p_ws`` [ln Pa] by Hyland-Wexler: ice below the triple point, liquid water at and above it."""
    tk = temperature_c + KELVIN_OFFSET
    ice = temperature_c < TRIPLE_POINT_C
    c = [np.where(ice, ci, cl) for ci, cl in zip(_HW_ICE, _HW_LIQ, strict=True)]
    return c[0] / tk + c[1] + c[2] * tk + c[3] * tk**2 + c[4] * tk**3 + c[5] * tk**4 + c[6] * np.log(tk)


def saturation_vapor_pressure_pa(temperature_c: ArrayLike) -> FloatArray:
    """Saturation vapour pressure [Pa]: over ice below 0.01 °C, over liquid water above (Hyland-Wexler).

    ASHRAE Handbook - Fundamentals 2017, ch. 1, with ``T`` in kelvin::

        ice (eq. 5):    ln p_ws = C1/T + C2 + C3 T + C4 T² + C5 T³ + C6 T⁴ + C7 ln T
        liquid (eq. 6): ln p_ws = C8/T + C9 + C10 T + C11 T² + C12 T³ + C13 ln T

    Valid from −100 to 200 °C; the coefficients are the handbook's.

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
    .. [1] ASHRAE (2017) ch. 1 eqs. 5-6; Hyland & Wexler (1983), see module references.
    """
    return np.asarray(np.exp(_ln_pws(np.asarray(temperature_c, dtype=float))), dtype=float)


def saturation_vapor_pressure_magnus_pa(temperature_c: ArrayLike) -> FloatArray:
    """Saturation vapour pressure over liquid water [Pa], improved Magnus form (Alduchov & Eskridge 1996).

    ``p_ws = 610.94 exp(17.625 T / (T + 243.04))``; within 0.4 % of Hyland-Wexler over liquid from −40 to
    50 °C. Kept as a starting point for inversions and as a cross-check.

    References
    ----------
    .. [1] O. A. Alduchov and R. E. Eskridge, "Improved Magnus form approximation of saturation vapor
       pressure", *J. Appl. Meteor.* 35, 601-609, 1996.
    """
    t = np.asarray(temperature_c, dtype=float)
    return np.asarray(610.94 * np.exp(17.625 * t / (t + 243.04)), dtype=float)


def dew_point_from_vapor_pressure_c(vapor_pressure_pa: ArrayLike, n_iterations: int = 6) -> FloatArray:
    """Dew (frost, below 0 °C) point [°C]: the temperature whose saturation pressure is ``p_w``.

    Inverts :func:`saturation_vapor_pressure_pa` by Newton's method on ``ln p_ws(T) = ln p_w`` from the
    inverse-Magnus start; ``d ln p_ws/dT`` is the analytic derivative of the Hyland-Wexler form. Six
    iterations converge to < 1e-9 °C over −90…90 °C.

    Parameters
    ----------
    vapor_pressure_pa : array_like
        Partial pressure of water vapour [Pa], > 0.
    """
    pw = np.maximum(np.asarray(vapor_pressure_pa, dtype=float), 1e-6)
    gamma = np.log(pw / 610.94)
    t = 243.04 * gamma / (17.625 - gamma)
    target = np.log(pw)
    for _ in range(n_iterations):
        tk = t + KELVIN_OFFSET
        ice = t < TRIPLE_POINT_C
        c = [np.where(ice, ci, cl) for ci, cl in zip(_HW_ICE, _HW_LIQ, strict=True)]
        deriv = -c[0] / tk**2 + c[2] + 2 * c[3] * tk + 3 * c[4] * tk**2 + 4 * c[5] * tk**3 + c[6] / tk
        t = t - (_ln_pws(t) - target) / deriv
    return np.asarray(t, dtype=float)


def dew_point_c(dry_bulb_c: ArrayLike, relative_humidity_frac: ArrayLike) -> FloatArray:
    """Dew-point temperature [°C] from dry bulb and relative humidity (frost point below 0 °C).

    ``T_d = p_ws⁻¹(RH · p_ws(T))`` (:func:`dew_point_from_vapor_pressure_c`).

    Parameters
    ----------
    dry_bulb_c : array_like
        Dry-bulb temperature [°C].
    relative_humidity_frac : array_like
        Relative humidity [0-1] (over ice below 0 °C, ASHRAE convention); clipped to [1e-4, 1].
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = np.clip(np.asarray(relative_humidity_frac, dtype=float), 1e-4, 1.0)
    return np.minimum(dew_point_from_vapor_pressure_c(rh * saturation_vapor_pressure_pa(t)), t)


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
    """W from (T, T*, p): ASHRAE 2017 ch. 1 eq. 33 (wet bulb ≥ 0 °C, water) or eq. 35 (< 0 °C, ice)."""
    ws_star = humidity_ratio_from_vapor_pressure(saturation_vapor_pressure_pa(wet_bulb_c), pressure_pa)
    ice = wet_bulb_c < 0.0
    latent = np.where(ice, 2830.0 - 0.24 * wet_bulb_c, 2501.0 - 2.326 * wet_bulb_c)
    den = np.where(
        ice,
        2830.0 + CP_VAPOUR_KJ_PER_KG_K * dry_bulb_c - 2.1 * wet_bulb_c,
        2501.0 + CP_VAPOUR_KJ_PER_KG_K * dry_bulb_c - 4.186 * wet_bulb_c,
    )
    return (latent * ws_star - CP_DRY_AIR_KJ_PER_KG_K * (dry_bulb_c - wet_bulb_c)) / den


def wet_bulb_c(
    dry_bulb_c: ArrayLike,
    relative_humidity_frac: ArrayLike | None = None,
    pressure_pa: ArrayLike = STANDARD_PRESSURE_PA,
    *,
    dew_point_c: ArrayLike | None = None,
    n_iterations: int = 40,
) -> FloatArray:
    """Thermodynamic wet-bulb temperature [°C] (vectorised bisection on the ASHRAE balance).

    Solves ``W(T, T*, p) = W_actual`` for ``T*`` between the dew point and the dry bulb, where for
    ``T* ≥ 0 °C`` (ASHRAE 2017 ch. 1 eq. 33, water on the wick)::

        W = ((2501 − 2.326 T*) W_s* − 1.006 (T − T*)) / (2501 + 1.86 T − 4.186 T*)

    and for ``T* < 0 °C`` (eq. 35, ice on the wick)::

        W = ((2830 − 0.24 T*) W_s* − 1.006 (T − T*)) / (2830 + 1.86 T − 2.1 T*)

    with ``W_s*`` the saturation humidity ratio at ``T*`` (over ice below the triple point). ``W(T*)`` is
    increasing in ``T*``, so bisection on ``[T_d, T]`` converges unconditionally; 40 halvings resolve the
    root to < 1e-9 °C.

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
        Bisection halvings.

    Returns
    -------
    numpy.ndarray
        Wet-bulb temperature [°C], between the dew point and the dry bulb.

    References
    ----------
    .. [1] ASHRAE Handbook - Fundamentals (2017), ch. 1, eqs. 20, 33, 35.
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
    pw = rh * saturation_vapor_pressure_pa(t)
    w_target = humidity_ratio_from_vapor_pressure(pw, p)
    lo = np.minimum(dew_point_from_vapor_pressure_c(pw), t) - 1e-6
    hi = t.astype(float).copy()
    for _ in range(n_iterations):
        mid = 0.5 * (lo + hi)
        above = _humidity_ratio_from_wet_bulb(t, mid, p) > w_target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return np.asarray(0.5 * (lo + hi), dtype=float)


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
