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

import math

import numba
import numpy as np
import numpy.typing as npt

from gigawatt.jit import tiered

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


def _ln_pws_and_slope(temperature_c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``ln p_ws`` [ln Pa] and ``d ln p_ws / dT`` [1/K] by Hyland-Wexler: ice below the triple point, water above.

    Horner form; the ice branch is evaluated only where the temperature is below the triple point.
    """
    tc = np.asarray(temperature_c, dtype=float)
    tk = np.atleast_1d(tc + KELVIN_OFFSET)
    inv = 1.0 / tk
    log_tk = np.log(tk)
    w0, w1, w2, w3, w4, _, w6 = _HW_LIQ
    ln_p = w0 * inv + w1 + tk * (w2 + tk * (w3 + tk * w4)) + w6 * log_tk
    slope = -w0 * inv * inv + w2 + tk * (2 * w3 + tk * 3 * w4) + w6 * inv
    ice = np.atleast_1d(tc < TRIPLE_POINT_C)
    if np.any(ice):
        i0, i1, i2, i3, i4, i5, i6 = _HW_ICE
        tki, invi = tk[ice], inv[ice]
        ln_p[ice] = i0 * invi + i1 + tki * (i2 + tki * (i3 + tki * (i4 + tki * i5))) + i6 * log_tk[ice]
        slope[ice] = -i0 * invi * invi + i2 + tki * (2 * i3 + tki * (3 * i4 + tki * 4 * i5)) + i6 * invi
    return ln_p.reshape(tc.shape), slope.reshape(tc.shape)


def _ln_pws(temperature_c: FloatArray) -> FloatArray:
    """``ln p_ws`` [ln Pa] by Hyland-Wexler: ice below the triple point, liquid water at and above it."""
    return _ln_pws_and_slope(temperature_c)[0]


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
        ln_p, slope = _ln_pws_and_slope(t)
        t = t - (ln_p - target) / slope
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


def _wet_bulb_balance(
    dry_bulb_c: FloatArray,
    wet_bulb_c: FloatArray,
    pressure_pa: FloatArray,
    ice: npt.NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """``W(T, T*, p)`` of ASHRAE 2017 ch. 1 eq. 33 (``T* ≥ 0``, water) / eq. 35 (``T* < 0``, ice) and ``dW/dT*``.

    ``W = (L(T*) W_s*(T*) − 1.006 (T − T*)) / D(T*)`` with ``L = 2501 − 2.326 T*``, ``D = 2501 + 1.86 T −
    4.186 T*`` over water and ``L = 2830 − 0.24 T*``, ``D = 2830 + 1.86 T − 2.1 T*`` over ice;
    ``dW_s*/dT* = W_s* p/(p − p_ws*) · d ln p_ws/dT*``. ``ice`` forces the branch (default: ``T* < 0``).
    """
    ln_p, slope = _ln_pws_and_slope(wet_bulb_c)
    pws = np.exp(ln_p)
    ws = MOLAR_MASS_RATIO * pws / (pressure_pa - pws)
    d_ws = ws * pressure_pa / (pressure_pa - pws) * slope
    if ice is None:
        ice = wet_bulb_c < 0.0
    a = np.where(ice, 2830.0, 2501.0)
    b = np.where(ice, 0.24, 2.326)
    e = np.where(ice, 2.1, 4.186)
    latent = a - b * wet_bulb_c
    num = latent * ws - CP_DRY_AIR_KJ_PER_KG_K * (dry_bulb_c - wet_bulb_c)
    den = a + CP_VAPOUR_KJ_PER_KG_K * dry_bulb_c - e * wet_bulb_c
    d_num = -b * ws + latent * d_ws + CP_DRY_AIR_KJ_PER_KG_K
    return num / den, (d_num * den + num * e) / (den * den)


def _humidity_ratio_from_wet_bulb(
    dry_bulb_c: FloatArray, wet_bulb_c: FloatArray, pressure_pa: FloatArray
) -> FloatArray:
    """W from (T, T*, p): ASHRAE 2017 ch. 1 eq. 33 (wet bulb ≥ 0 °C, water) or eq. 35 (< 0 °C, ice)."""
    return _wet_bulb_balance(dry_bulb_c, wet_bulb_c, pressure_pa)[0]


@numba.njit(cache=True)
def _balance_scalar(t: float, tw: float, p: float, ice: bool) -> tuple[float, float]:  # pragma: no cover
    """Scalar twin of :func:`_wet_bulb_balance` (compiled): ``W(T, T*, p)`` and ``dW/dT*`` on one branch."""
    tk = tw + 273.15
    inv = 1.0 / tk
    log_tk = math.log(tk)
    if tw < 0.01:
        ln_p = (
            -5.6745359e3 * inv
            + 6.3925247
            + tk * (-9.6778430e-3 + tk * (6.2215701e-7 + tk * (2.0747825e-9 + tk * -9.4840240e-13)))
            + 4.1635019 * log_tk
        )
        slope = (
            5.6745359e3 * inv * inv
            - 9.6778430e-3
            + tk * (2 * 6.2215701e-7 + tk * (3 * 2.0747825e-9 + tk * 4 * -9.4840240e-13))
            + 4.1635019 * inv
        )
    else:
        ln_p = (
            -5.8002206e3 * inv
            + 1.3914993
            + tk * (-4.8640239e-2 + tk * (4.1764768e-5 + tk * -1.4452093e-8))
            + 6.5459673 * log_tk
        )
        slope = (
            5.8002206e3 * inv * inv
            - 4.8640239e-2
            + tk * (2 * 4.1764768e-5 + tk * 3 * -1.4452093e-8)
            + 6.5459673 * inv
        )
    pws = math.exp(ln_p)
    ws = 0.621945 * pws / (p - pws)
    d_ws = ws * p / (p - pws) * slope
    if ice:
        a, b, e = 2830.0, 0.24, 2.1
    else:
        a, b, e = 2501.0, 2.326, 4.186
    latent = a - b * tw
    num = latent * ws - 1.006 * (t - tw)
    den = a + 1.86 * t - e * tw
    d_num = -b * ws + latent * d_ws + 1.006
    return num / den, (d_num * den + num * e) / (den * den)


#: Tiered (:mod:`gigawatt.jit`): interpreted up to ~20,000 elements (~60 µs each vs ~2 s to compile the
#: kernel and :func:`_balance_scalar`, measured on a 2-core machine; an estimate).
@tiered(work=lambda t, *_: t.size, budget=20_000)
@numba.njit(cache=True)
def _wet_bulb_kernel(
    t: FloatArray, w_target: FloatArray, p: FloatArray, lo0: FloatArray, start: FloatArray, n_iterations: int
) -> FloatArray:  # pragma: no cover
    """Safeguarded Newton per element on the chosen branch (see :func:`wet_bulb_c`); stops when converged."""
    out = np.empty(t.size)
    for i in range(t.size):
        ti, wi, pi = t[i], w_target[i], p[i]
        lo, hi = lo0[i], ti
        zero = max(lo, 0.0)
        water = hi > 0.0 and _balance_scalar(ti, zero, pi, False)[0] <= wi
        ice = not water
        if water:
            lo = zero
        else:
            hi = min(hi, 0.0)
        tw = min(max(start[i], lo), hi)
        dx_old = hi - lo
        for _ in range(n_iterations):
            w, dw = _balance_scalar(ti, tw, pi, ice)
            f = w - wi
            if f > 0.0:
                hi = tw
            else:
                lo = tw
            newton = tw - f / dw if dw > 0.0 else 0.5 * (lo + hi)
            if abs(newton - tw) <= 1e-12:
                tw = newton
                break
            if lo <= newton <= hi and abs(2.0 * f) <= abs(dx_old * dw):
                nxt = newton
            else:
                nxt = 0.5 * (lo + hi)
            dx_old = nxt - tw
            tw = nxt
        out[i] = tw
    return out


def wet_bulb_c(
    dry_bulb_c: ArrayLike,
    relative_humidity_frac: ArrayLike | None = None,
    pressure_pa: ArrayLike = STANDARD_PRESSURE_PA,
    *,
    dew_point_c: ArrayLike | None = None,
    n_iterations: int = 40,
) -> FloatArray:
    """Thermodynamic wet-bulb temperature [°C] (vectorised safeguarded Newton on the ASHRAE balance).

    Solves ``W(T, T*, p) = W_actual`` for ``T*`` between the dew point and the dry bulb, where for
    ``T* ≥ 0 °C`` (ASHRAE 2017 ch. 1 eq. 33, water on the wick)::

        W = ((2501 − 2.326 T*) W_s* − 1.006 (T − T*)) / (2501 + 1.86 T − 4.186 T*)

    and for ``T* < 0 °C`` (eq. 35, ice on the wick)::

        W = ((2830 − 0.24 T*) W_s* − 1.006 (T − T*)) / (2830 + 1.86 T − 2.1 T*)

    with ``W_s*`` the saturation humidity ratio at ``T*`` (over ice below the triple point). ``W(T*)`` is
    increasing in ``T*`` within each branch and the root lies in ``[T_d, T]``. The two branches do not meet
    at 0 °C (for very dry air both can hold a root), so the branch is chosen first, as PsychroLib's bisection
    does: water when ``W_water(max(T_d, 0)) ≤ W`` (a root at or above 0 °C exists), else ice on
    ``[T_d, min(T, 0)]``. On the chosen smooth branch Newton steps with the analytic derivative start from
    Stull's (2011) fit, and a step that leaves the shrinking bracket or converges slowly is replaced by
    bisection (Numerical Recipes' safeguarded Newton), stopping per element once a step is below 1e-12 K
    (typically 3-5 iterations; at most ``n_iterations``). Compiled with numba: one pass over the elements. The lower end of the bracket is the inverse-Magnus dew point over water less
    0.5 K, below the Hyland-Wexler dew/frost point (over ice the frost point is the higher of the two).

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
        Most safeguarded Newton iterations per element.

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
    gamma = np.log(np.maximum(pw, 1e-6) / 610.94)
    lo = np.minimum(243.04 * gamma / (17.625 - gamma), t) - 0.5
    start = wet_bulb_stull_c(t, np.clip(rh, 0.05, 0.99))
    shape = t.shape
    out = _wet_bulb_kernel(
        np.ascontiguousarray(t, dtype=float).ravel(),
        np.ascontiguousarray(w_target, dtype=float).ravel(),
        np.ascontiguousarray(p, dtype=float).ravel(),
        np.ascontiguousarray(lo, dtype=float).ravel(),
        np.ascontiguousarray(start, dtype=float).ravel(),
        int(n_iterations),
    )
    return np.asarray(out.reshape(shape), dtype=float)


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
