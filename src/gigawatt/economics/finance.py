"""Finance: capital recovery, annualised capital cost, book value, NPV and IRR (pure functions).

References
----------
Short, Packey and Holt (1995), *A Manual for the Economic Evaluation of Energy Efficiency and Renewable Energy
Technologies*, NREL/TP-462-5173: capital recovery factor and levelised cost.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["annualized_capex_usd", "book_value_usd", "capital_recovery_factor", "irr", "npv_usd"]


def capital_recovery_factor(rate_frac: float, life_years: float) -> float:
    """Capital recovery factor [1/year].

    ``CRF = r (1+r)^n / ((1+r)^n − 1)``; ``1/n`` at ``r = 0``; ``r`` for an infinite life (land).

    Parameters
    ----------
    rate_frac : float
        Discount rate [1/year].
    life_years : float
        Useful life [years] (``inf`` for assets that are not depreciated).
    """
    if math.isinf(life_years):
        return rate_frac
    if life_years <= 0:
        raise ValueError(f"life_years must be > 0 (got {life_years})")
    if rate_frac == 0:
        return 1.0 / life_years
    g = (1.0 + rate_frac) ** life_years
    return rate_frac * g / (g - 1.0)


def annualized_capex_usd(
    capex_usd: ArrayLike, rate_frac: float, life_years: ArrayLike, residual_frac: ArrayLike = 0.0
) -> np.ndarray:
    """Equivalent annual cost of capital [USD/year].

    ``A = (C − R (1+r)^−n) · CRF(r, n)`` with residual value ``R = residual_frac · C`` at the end of life;
    ``A = r · C`` for an infinite life (the capital is never consumed, only its return is charged).
    """
    c = np.atleast_1d(np.asarray(capex_usd, dtype=float))
    n = np.broadcast_to(np.asarray(life_years, dtype=float), c.shape)
    res = np.broadcast_to(np.asarray(residual_frac, dtype=float), c.shape)
    out = np.empty_like(c)
    for i in range(c.size):
        if math.isinf(n[i]):
            out[i] = rate_frac * c[i]
            continue
        pv_residual = res[i] * c[i] * (1.0 + rate_frac) ** (-n[i])
        out[i] = (c[i] - pv_residual) * capital_recovery_factor(rate_frac, float(n[i]))
    return out


def book_value_usd(capex_usd: float, life_years: float, residual_frac: float, age_years: float) -> float:
    """Straight-line book value after ``age_years`` [USD]: ``C (res + (1 − res) max(0, 1 − age/n))``."""
    if math.isinf(life_years):
        return capex_usd
    return capex_usd * (residual_frac + (1.0 - residual_frac) * max(0.0, 1.0 - age_years / life_years))


def npv_usd(cash_flows_usd: ArrayLike, rate_frac: float) -> float:
    """Net present value of yearly cash flows (index 0 = now) [USD]: ``Σ_t CF_t / (1+r)^t``."""
    cf = np.asarray(cash_flows_usd, dtype=float)
    t = np.arange(cf.size)
    return float(np.sum(cf / (1.0 + rate_frac) ** t))


def irr(cash_flows_usd: ArrayLike) -> float:
    """Internal rate of return [1/year]: the rate where the NPV is zero; ``nan`` when there is none in
    (−99 %, 1000 %)."""
    from scipy.optimize import brentq  # lazy: scipy.optimize takes ~0.2 s to import; only the solvers need it

    cf = np.asarray(cash_flows_usd, dtype=float)
    lo, hi = -0.99, 10.0
    f_lo, f_hi = npv_usd(cf, lo), npv_usd(cf, hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)) or f_lo * f_hi > 0:
        return float("nan")
    return float(brentq(lambda r: npv_usd(cf, r), lo, hi, xtol=1e-10))
