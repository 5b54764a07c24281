"""Queueing formulas for sizing serving pools: Erlang C (M/M/c), Allen–Cunneen / Kingman (G/G/c), sizing.

Pure, vectorised functions of numpy arrays (scalars broadcast). ``c`` may be any real ≥ 0 (the Erlang
formulas are evaluated through the regularised incomplete gamma function, which extends them smoothly to
real ``c``; this keeps root finding well behaved), although only integer ``c`` has a physical meaning.

M/M/c (arrival rate λ, service rate μ per server, offered load :math:`a = λ/μ`, utilisation
:math:`ρ = a/c < 1`):

.. math::

    B(c, a) = \\frac{a^c e^{-a}/Γ(c+1)}{Q(c+1, a)}, \\qquad
    C(c, a) = \\frac{c\\,B}{c - a\\,(1 - B)}

    P(W_q > t) = C\\,e^{-(cμ - λ)t}, \\qquad E[W_q] = \\frac{C}{cμ - λ}, \\qquad
    W_{q,p} = \\max\\Big(0, \\frac{\\ln(C/(1-p))}{cμ - λ}\\Big)

with :math:`Q` the regularised upper incomplete gamma function (:math:`Q(c+1, a) = P(N ≤ c)` for
:math:`N \\sim \\mathrm{Poisson}(a)` when ``c`` is an integer) [1]_.

G/G/c (Allen–Cunneen [2]_; Kingman's heavy-traffic formula for c = 1 [3]_): the M/M/c wait scaled by the
squared coefficients of variation of inter-arrival (:math:`c_a^2`) and service (:math:`c_s^2`) times,

.. math:: E[W_q] ≈ E[W_q^{M/M/c}]\\,\\frac{c_a^2 + c_s^2}{2}

and, as an **approximation** for percentiles, the same delay probability :math:`C` with an exponential tail of
that mean: :math:`P(W_q > t) ≈ C\\,e^{-t\\,C/E[W_q]}` (exact for M/M/c; for M/G/c it is the usual
heavy-traffic exponential-tail approximation [4]_).

References
----------
.. [1] Kleinrock, L. (1975). Queueing Systems, Vol. 1: Theory. Wiley, §3.5 (M/M/m).
.. [2] Allen, A. O. (1990). Probability, Statistics, and Queueing Theory, 2nd ed. Academic Press, §6
   (Allen–Cunneen approximation).
.. [3] Kingman, J. F. C. (1961). The single server queue in heavy traffic. Proc. Camb. Phil. Soc. 57(4).
.. [4] Whitt, W. (1993). Approximations for the GI/G/m queue. Production and Operations Management 2(2).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "erlang_b",
    "erlang_c",
    "ggc_wait_mean_s",
    "ggc_wait_percentile_s",
    "ggc_wait_prob_exceeds",
    "mmc_wait_mean_s",
    "mmc_wait_percentile_s",
    "mmc_wait_prob_exceeds",
    "servers_for_wait_percentile",
]

FloatArray = npt.NDArray[np.float64]


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def erlang_b(c: npt.ArrayLike, a: npt.ArrayLike) -> FloatArray:
    """Erlang B blocking probability :math:`B(c, a)` [0-1] for ``c`` servers and offered load ``a`` [Erlang].

    Computed in log space: :math:`\\ln B = c \\ln a - a - \\ln Γ(c+1) - \\ln Q(c+1, a)`.
    """
    c_, a_ = np.broadcast_arrays(_f(c), _f(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = special.xlogy(c_, a_) - a_ - special.gammaln(c_ + 1.0)
        q = special.gammaincc(c_ + 1.0, a_)
        out = np.exp(log_pmf - np.log(q))
    out = np.where(a_ <= 0.0, np.where(c_ <= 0.0, 1.0, 0.0), out)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def erlang_c(c: npt.ArrayLike, a: npt.ArrayLike) -> FloatArray:
    """Erlang C probability that an arrival waits, :math:`C(c, a)` [0-1]; 1 when ``a >= c`` (unstable)."""
    c_, a_ = np.broadcast_arrays(_f(c), _f(a))
    b = erlang_b(c_, a_)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = c_ * b / (c_ - a_ * (1.0 - b))
    out = np.where(a_ >= c_, 1.0, out)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _decay_rate(c: FloatArray, lam: FloatArray, mu: FloatArray) -> FloatArray:
    return np.asarray(c * mu - lam, dtype=np.float64)


def mmc_wait_mean_s(
    c: npt.ArrayLike, arrival_rate_per_s: npt.ArrayLike, service_rate_per_s: npt.ArrayLike
) -> FloatArray:
    """Mean waiting time in queue of M/M/c [s], :math:`C/(cμ-λ)`; ``inf`` when unstable."""
    c_, lam, mu = np.broadcast_arrays(_f(c), _f(arrival_rate_per_s), _f(service_rate_per_s))
    rate = _decay_rate(c_, lam, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = erlang_c(c_, lam / mu) / rate
    return np.asarray(np.where(rate > 0.0, out, np.inf), dtype=np.float64)


def mmc_wait_prob_exceeds(
    t_s: npt.ArrayLike, c: npt.ArrayLike, arrival_rate_per_s: npt.ArrayLike, service_rate_per_s: npt.ArrayLike
) -> FloatArray:
    """:math:`P(W_q > t)` for M/M/c [0-1]."""
    t, c_, lam, mu = np.broadcast_arrays(_f(t_s), _f(c), _f(arrival_rate_per_s), _f(service_rate_per_s))
    rate = _decay_rate(c_, lam, mu)
    p = erlang_c(c_, lam / mu) * np.exp(-np.maximum(rate, 0.0) * np.maximum(t, 0.0))
    return np.asarray(np.where(rate > 0.0, np.where(t < 0.0, 1.0, p), 1.0), dtype=np.float64)


def mmc_wait_percentile_s(
    q: npt.ArrayLike, c: npt.ArrayLike, arrival_rate_per_s: npt.ArrayLike, service_rate_per_s: npt.ArrayLike
) -> FloatArray:
    """``q``-quantile (0-1) of the M/M/c waiting time [s]; ``inf`` when unstable."""
    q_, c_, lam, mu = np.broadcast_arrays(_f(q), _f(c), _f(arrival_rate_per_s), _f(service_rate_per_s))
    return ggc_wait_percentile_s(q_, c_, lam, mu, 1.0, 1.0)


def ggc_wait_mean_s(
    c: npt.ArrayLike,
    arrival_rate_per_s: npt.ArrayLike,
    service_rate_per_s: npt.ArrayLike,
    ca2: npt.ArrayLike = 1.0,
    cs2: npt.ArrayLike = 1.0,
) -> FloatArray:
    """Allen–Cunneen mean wait of G/G/c [s]: M/M/c mean × :math:`(c_a^2 + c_s^2)/2` (Kingman for c = 1)."""
    return np.asarray(
        mmc_wait_mean_s(c, arrival_rate_per_s, service_rate_per_s) * (_f(ca2) + _f(cs2)) / 2.0,
        dtype=np.float64,
    )


def ggc_wait_prob_exceeds(
    t_s: npt.ArrayLike,
    c: npt.ArrayLike,
    arrival_rate_per_s: npt.ArrayLike,
    service_rate_per_s: npt.ArrayLike,
    ca2: npt.ArrayLike = 1.0,
    cs2: npt.ArrayLike = 1.0,
) -> FloatArray:
    """:math:`P(W_q > t) ≈ C e^{-t (cμ-λ)\\,2/(c_a^2+c_s^2)}` [0-1] (exact for M/M/c)."""
    t, c_, lam, mu, a2, s2 = np.broadcast_arrays(
        _f(t_s), _f(c), _f(arrival_rate_per_s), _f(service_rate_per_s), _f(ca2), _f(cs2)
    )
    rate = _decay_rate(c_, lam, mu) * 2.0 / (a2 + s2)
    p = erlang_c(c_, lam / mu) * np.exp(-np.maximum(rate, 0.0) * np.maximum(t, 0.0))
    return np.asarray(np.where(rate > 0.0, np.where(t < 0.0, 1.0, p), 1.0), dtype=np.float64)


def ggc_wait_percentile_s(
    q: npt.ArrayLike,
    c: npt.ArrayLike,
    arrival_rate_per_s: npt.ArrayLike,
    service_rate_per_s: npt.ArrayLike,
    ca2: npt.ArrayLike = 1.0,
    cs2: npt.ArrayLike = 1.0,
) -> FloatArray:
    """``q``-quantile of the G/G/c wait [s] under the exponential-tail approximation (exact for M/M/c).

    .. math:: W_{q,p} = \\max\\Big(0, \\frac{(c_a^2+c_s^2)/2 \\cdot \\ln(C/(1-p))}{cμ - λ}\\Big)
    """
    q_, c_, lam, mu, a2, s2 = np.broadcast_arrays(
        _f(q), _f(c), _f(arrival_rate_per_s), _f(service_rate_per_s), _f(ca2), _f(cs2)
    )
    if np.any((q_ <= 0.0) | (q_ >= 1.0)):
        raise ValueError("q: percentile must be a fraction in (0, 1), e.g. 0.99")
    rate = _decay_rate(c_, lam, mu)
    C = erlang_c(c_, lam / mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (a2 + s2) / 2.0 * np.log(C / (1.0 - q_)) / rate
    w = np.where(C <= 1.0 - q_, 0.0, w)
    return np.asarray(np.where(rate > 0.0, np.maximum(w, 0.0), np.inf), dtype=np.float64)


def servers_for_wait_percentile(
    arrival_rate_per_s: npt.ArrayLike,
    service_rate_per_s: npt.ArrayLike,
    target_wait_s: npt.ArrayLike,
    q: float = 0.99,
    ca2: npt.ArrayLike = 1.0,
    cs2: npt.ArrayLike = 1.0,
    max_utilization_frac: float = 1.0,
) -> npt.NDArray[np.int64]:
    """Smallest integer ``c`` with ``q``-quantile wait ≤ ``target_wait_s`` and :math:`ρ ≤` the cap.

    Vectorised integer bisection between the stability bound :math:`\\lceil a/ρ_{max} \\rceil` and an upper
    bound that always meets the target (wait is non-increasing in ``c``). Zero demand needs 0 servers.
    """
    lam, mu, tgt, a2, s2 = np.broadcast_arrays(
        _f(arrival_rate_per_s), _f(service_rate_per_s), _f(target_wait_s), _f(ca2), _f(cs2)
    )
    if np.any(mu <= 0.0) or np.any(lam < 0.0):
        raise ValueError("service_rate_per_s must be > 0 and arrival_rate_per_s >= 0")
    if not 0.0 < max_utilization_frac <= 1.0:
        raise ValueError("max_utilization_frac: must be in (0, 1]")
    a = lam / mu
    lo = np.floor(a / max_utilization_frac).astype(np.int64)  # infeasible or exactly at the bound
    lo = np.where(a / max_utilization_frac > lo, lo, lo - 1)  # largest infeasible by the cap
    hi = np.maximum(lo + 1, 1)

    def ok(cc: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        ccf = cc.astype(np.float64)
        w = ggc_wait_percentile_s(q, ccf, lam, mu, a2, s2)
        return np.asarray((w <= tgt) & (a <= max_utilization_frac * ccf), dtype=np.bool_)

    # grow hi until feasible (doubling the headroom above a)
    for _ in range(64):
        good = ok(hi)
        if np.all(good):
            break
        hi = np.where(good, hi, hi + np.maximum(hi - np.maximum(lo, 0), 1))
    lo = np.maximum(lo, 0)
    while True:
        active = hi - lo > 1
        if not np.any(active):
            break
        mid = (lo + hi) // 2
        good = ok(mid)
        hi = np.where(active & good, mid, hi)
        lo = np.where(active & ~good, mid, lo)
    out = np.where(ok(lo) & (lo >= 0), lo, hi)
    return np.asarray(np.where(lam <= 0.0, 0, out), dtype=np.int64)
