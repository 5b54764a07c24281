"""Thermal limits: throttle accelerators (DVFS) when the heat load exceeds the available cooling capacity.

With hall IT power ``P(x) = P_fixed + P_dyn · x^k`` at throughput fraction ``x`` (DVFS curve of
:mod:`gigawatt.physics.it_power`) and the heat released in the hall ``H(P) = P + L(P)`` (IT plus in-room
electrical losses ``L``), the largest feasible throughput is::

    P_max : H(P_max) = C           (fixed point P ← C − L(P), contraction since dL/dP ≈ 0.02-0.06)
    x*    = clip(((P_max − P_fixed) / P_dyn)^(1/k), x_min, 1)

where ``C`` is the cooling capacity at the current ambient. If even ``x_min`` does not fit, the shortfall
``H(P(x_min)) − C`` is reported as thermal overload (the hall would overheat; operators would shut racks down).

References
----------
.. [1] A. Grattafiori et al., "The Llama 3 herd of models", arXiv:2407.21783, 2024, §3.3.4 (1-2 % diurnal
   throughput variation from higher mid-day temperatures affecting GPU dynamic voltage and frequency scaling).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gigawatt.physics.it_power import DVFS_POWER_EXPONENT, MIN_THROUGHPUT_FRAC, dvfs_throughput_frac

__all__ = ["max_it_power_for_capacity_kw", "thermal_throughput_frac"]

FloatArray = npt.NDArray[np.float64]


def max_it_power_for_capacity_kw(
    capacity_kw: npt.ArrayLike, in_room_loss_kw: Callable[[FloatArray], FloatArray], n_iterations: int = 6
) -> FloatArray:
    """Largest IT power [kW] whose heat ``P + L(P)`` fits in ``capacity_kw`` (fixed-point iteration)."""
    c = np.maximum(np.asarray(capacity_kw, dtype=float), 0.0)
    finite = np.isfinite(c)
    c_safe = np.where(finite, c, 0.0)
    p = c_safe.copy()
    for _ in range(n_iterations):
        p = np.maximum(c_safe - in_room_loss_kw(p), 0.0)
    return np.where(finite, p, np.inf)


def thermal_throughput_frac(
    max_it_kw: npt.ArrayLike,
    fixed_it_kw: npt.ArrayLike,
    dynamic_it_kw: npt.ArrayLike,
    exponent: float = DVFS_POWER_EXPONENT,
    min_throughput_frac: float = MIN_THROUGHPUT_FRAC,
) -> FloatArray:
    """Throughput fraction that keeps IT power ≤ ``max_it_kw``: ``clip(((P_max − P_fixed)/P_dyn)^(1/k), x_min, 1)``.

    Returns 1 where the full-speed load fits or there is no dynamic load.
    """
    pmax = np.asarray(max_it_kw, dtype=float)
    fixed = np.asarray(fixed_it_kw, dtype=float)
    dyn = np.asarray(dynamic_it_kw, dtype=float)
    fits = fixed + dyn <= pmax
    ratio = np.where(dyn > 0, (pmax - fixed) / np.where(dyn > 0, dyn, 1.0), 1.0)
    x = dvfs_throughput_frac(ratio, exponent, min_throughput_frac)
    return np.where(fits | (dyn <= 0), 1.0, x)
