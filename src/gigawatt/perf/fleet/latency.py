"""Fleet mode, part 2: latency distributions (TTFT, TPOT) and SLO attainment per control step.

* TPOT: a request with ``m = O - 1`` decode iterations meets :math:`K \\sim \\mathrm{Poisson}(m p)`
  prefill-carrying iterations (:math:`p = λ E[n_{ch}]/N`), each adding :math:`t_{chunk} - t_{dec}`; the sum is a
  compound Poisson variable (atom at zero + moment-matched gamma). Coalescing of prompts into the next
  iteration is modelled as :math:`1/(1-u)` times fewer, longer prefill iterations.
* TTFT = length-biased mean residual of the running iteration + wait for prefill capacity + own prefill
  (:math:`n_{ch} t_{chunk}`). The wait is M/G/c with the own-prefill service time (Allen–Cunneen tail):
  ``c`` = replicas for the ``central`` router, ``c = 1`` per replica with :math:`c_a^2 = 1/R` otherwise. TTFT
  quantiles come from the mixture over prompt nodes by bisection (numba).
* SLO attainment = served fraction × :math:`P(TTFT ≤ s_{ttft})` × :math:`P(TPOT ≤ s_{tpot})` (independence
  assumed).

References
----------
.. [1] Allen, A. O. (1990). Probability, Statistics, and Queueing Theory. Academic Press (Allen–Cunneen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy import special

from gigawatt.perf.fleet.operating_point import (
    ReplicaPerf,
    TokenStats,
    _Curve,
    _interp,
    _iter_t,
    _lookup,
    prefill_time_idle_s,
)
from gigawatt.perf.queueing import erlang_c

__all__ = ["SLO", "slo_ceiling"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SLO:
    """Latency objectives: ``quantile`` of TTFT and TPOT below targets, attained by ``attainment_frac``."""

    ttft_s: float = 2.0
    tpot_s: float = 0.2
    quantile: float = 0.99
    attainment_frac: float = 0.99

    def __post_init__(self) -> None:
        if self.ttft_s <= 0 or self.tpot_s <= 0:
            raise ValueError("SLO: ttft_s and tpot_s must be > 0")
        if not 0 < self.quantile < 1 or not 0 < self.attainment_frac <= 1:
            raise ValueError("SLO: quantile must be in (0, 1) and attainment_frac in (0, 1]")


@dataclass(frozen=True)
class _Latency:
    lam_eff: FloatArray  # per-replica rate, unthrottled [1/s]
    S: FloatArray  # own-prefill time per prompt node [steps, nodes] (throttled)
    pw: FloatArray  # probability of waiting for prefill capacity
    theta: FloatArray  # tail decay rate of that wait [1/s]
    shift: FloatArray  # deterministic extra delay (iteration residual + backlog) [s]
    tpot_mean: FloatArray
    p_pf: FloatArray
    t_dec: FloatArray
    x1: FloatArray
    x2: FloatArray
    prefill_frac: FloatArray
    busy_frac: FloatArray
    stable: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _ServiceModel:
    """What the latency model knows of a colocated service: its replicas' rate curve, tokens and router."""

    curve: _Curve
    tokens: TokenStats
    router: str


def _latency(
    model: _ServiceModel, lam_total: FloatArray, R: FloatArray, speed: FloatArray, backlog_wait_s: FloatArray
) -> _Latency:
    """Latency model per step: ``lam_total`` [1/s] on ``R`` replicas at ``speed``, plus a backlog wait [s]."""
    curve, router = model.curve, model.router
    Rm = np.maximum(R, 1.0)
    lam_eff = lam_total / Rm / speed  # per replica, in unthrottled time units
    stable = lam_eff < curve.lam[-1]
    i, f = _lookup(curve, lam_eff)
    S = _interp(curve.S, i, f) / speed[:, None]
    mean_S = _interp(curve.mean_S, i, f) / speed
    cs2 = _interp(curve.cs2_S, i, f)
    mu_pf = 1.0 / mean_S  # prefill "service" rate of one replica [1/s]
    if router == "central":
        cq, lam_q, ca2 = Rm, lam_total, np.ones_like(Rm)
    elif router == "round_robin":
        cq, lam_q, ca2 = np.ones_like(Rm), lam_total / Rm, 1.0 / Rm
    else:  # jsq / least_loaded balance total work, not prefill queues: independent replicas, smoothed input
        cq, lam_q, ca2 = np.ones_like(Rm), lam_total / Rm, 1.0 / Rm
    a = lam_q / mu_pf
    ok = stable & (a < cq)
    pw = np.where(ok, erlang_c(cq, np.where(ok, a, 0.0)), 1.0)
    theta = np.where(ok, (cq * mu_pf - lam_q) * 2.0 / (ca2 + cs2), 0.0)
    shift = np.where(ok, _interp(curve.residual, i, f) / speed, np.inf) + backlog_wait_s
    return _Latency(
        lam_eff,
        S,
        pw,
        theta,
        shift,
        _interp(curve.tpot_mean, i, f) / speed,
        _interp(curve.p_pf, i, f),
        _interp(curve.t_dec, i, f) / speed,
        _interp(curve.x1, i, f) / speed,
        _interp(curve.x2, i, f) / speed**2,
        _interp(curve.prefill_frac, i, f),
        np.where(stable, _interp(curve.busy, i, f), 1.0),
        ok,
    )


@njit(cache=True)
def _ttft_exceed(t, S, w, pw, theta, shift):
    # P(TTFT > t) for one step: mixture over prompt nodes of shift + W + S_j, W ~ (1-pw) δ0 + pw Exp(theta)
    p = 0.0
    tail = 0.0
    for j in range(S.shape[0]):
        x = t - shift - S[j]
        if x < 0.0:
            p += w[j]
        elif theta > 0.0:
            tail += w[j] * np.exp(-theta * x)
        elif pw > 0.0:
            p += w[j]
    return p + pw * tail


@njit(cache=True)
def _ttft_quantiles(q, S, w, pw, theta, shift):
    n, m = S.shape
    out = np.empty(n)
    a = np.empty(m)
    for k in range(n):
        if not np.isfinite(shift[k]) or (pw[k] > 0.0 and theta[k] <= 0.0):
            out[k] = np.inf
            continue
        th = theta[k]
        smax = S[k, m - 1]
        for j in range(m):
            a[j] = np.exp(th * (S[k, j] - smax))  # <= 1; exp(-th x_j) = exp(-th (t - shift - smax)) a_j
        lo = shift[k] + S[k, 0]
        hi = shift[k] + smax + 1e-9
        if th > 0.0 and pw[k] > 1.0 - q:
            hi += np.log(pw[k] / (1.0 - q)) / th  # P(TTFT > hi) <= 1 - q
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            xm = mid - shift[k] - smax
            if th > 0.0 and -th * xm < 700.0:
                e = np.exp(-th * xm)
                p = 0.0
                tail = 0.0
                for j in range(m):
                    if mid - shift[k] - S[k, j] < 0.0:
                        p += w[j]
                    else:
                        tail += w[j] * a[j]
                exceed = p + pw[k] * e * tail
            else:
                exceed = _ttft_exceed(mid, S[k], w, pw[k], th, shift[k])
            if exceed > 1.0 - q:
                lo = mid
            else:
                hi = mid
        out[k] = hi
    return out


@njit(cache=True)
def _ttft_cdf(s, S, w, pw, theta, shift):
    n = S.shape[0]
    out = np.empty(n)
    for k in range(n):
        if not np.isfinite(shift[k]) or (pw[k] > 0.0 and theta[k] <= 0.0):
            out[k] = 0.0
        else:
            out[k] = 1.0 - _ttft_exceed(s, S[k], w, pw[k], theta[k], shift[k])
    return out


def _tpot_cdf_arrays(
    s: FloatArray, p_pf: FloatArray, t_dec: FloatArray, x1: FloatArray, x2: FloatArray, ts: TokenStats
) -> FloatArray:
    """P(TPOT ≤ s) (compound-Poisson model).

    A request with ``m = O - 1`` decode iterations meets ``K ~ Poisson(m p_pf)`` prefill-carrying ones, each
    adding :math:`X = t_{chunk} - t_{dec}`: :math:`TPOT = t_{dec} + \\sum_{k \\le K} X_k / m`. The sum is 0 with
    probability :math:`e^{-m p}`, otherwise gamma-distributed with the compound-Poisson mean and variance;
    mixed over the output-length nodes.
    """
    m = np.maximum(ts.output_nodes - 1.0, 1.0)[None, :]
    lam_k = np.clip(p_pf, 0.0, 1.0)[:, None] * m
    p0 = np.exp(-lam_k)
    mean_y = lam_k * x1[:, None]
    var_y = lam_k * x2[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mc = mean_y / (1.0 - p0)
        m2c = (var_y + mean_y**2) / (1.0 - p0)
        vc = np.maximum(m2c - mc**2, 1e-30)
        shape = mc**2 / vc
        scale = vc / mc
        y = (s[:, None] - t_dec[:, None]) * m
        g = np.where(y > 0, special.gammainc(shape, np.maximum(y, 0.0) / scale), 0.0)
    g = np.where(np.isfinite(g), g, 1.0)
    cdf = np.where(y < 0, 0.0, p0 + (1.0 - p0) * g)
    out = np.sum(cdf * ts.output_weights[None, :], axis=1)
    return np.asarray(np.where(np.isfinite(t_dec), out, 0.0))


def _tpot_quantile_table(curve: _Curve, ts: TokenStats, q: float) -> FloatArray:
    """``q``-quantile of TPOT on the curve's rate grid [s] (unthrottled), by vectorised bisection; cached."""
    key = round(q, 12)
    if key in curve.tpot_q_cache:
        return curve.tpot_q_cache[key]
    lo = curve.t_dec.copy()
    hi = curve.t_dec + curve.x1 + 12.0 * np.sqrt(curve.x2) + 1e-9
    for _ in range(32):  # bracket / 2**32
        mid = 0.5 * (lo + hi)
        below = _tpot_cdf_arrays(mid, curve.p_pf, curve.t_dec, curve.x1, curve.x2, ts) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    curve.tpot_q_cache[key] = hi
    return hi


def _tpot_cdf_table(curve: _Curve, ts: TokenStats) -> tuple[FloatArray, FloatArray]:
    """P(TPOT ≤ s) on (rate grid x log-spaced s grid), unthrottled; cached."""
    if -1.0 in curve.tpot_q_cache:
        return curve.tpot_q_cache[-2.0], curve.tpot_q_cache[-1.0]
    s_lo = float(np.min(curve.t_dec)) * 0.9
    s_hi = float(np.max(curve.t_dec + curve.x1 + 12.0 * np.sqrt(curve.x2))) * 1.1
    s_grid = np.geomspace(s_lo, s_hi, 120)
    n = curve.lam.size
    table = np.empty((n, s_grid.size))
    for j, sv in enumerate(s_grid):
        table[:, j] = _tpot_cdf_arrays(np.full(n, sv), curve.p_pf, curve.t_dec, curve.x1, curve.x2, ts)
    curve.tpot_q_cache[-2.0] = s_grid
    curve.tpot_q_cache[-1.0] = table
    return s_grid, table


def _tpot_prob_within(
    s: float, lat: _Latency, curve: _Curve, ts: TokenStats, speed: FloatArray
) -> FloatArray:
    """P(TPOT ≤ s) per step from the tabulated CDF (throttling rescales s)."""
    s_grid, table = _tpot_cdf_table(curve, ts)
    i, f = _lookup(curve, lat.lam_eff)
    x = np.log(np.clip(s * speed, s_grid[0], s_grid[-1]))
    lg = np.log(s_grid)
    j = np.clip(np.searchsorted(lg, x, side="right") - 1, 0, lg.size - 2)
    g = (x - lg[j]) / (lg[j + 1] - lg[j])
    p = (table[i, j] * (1.0 - g) + table[i, j + 1] * g) * (1.0 - f) + (
        table[i + 1, j] * (1.0 - g) + table[i + 1, j + 1] * g
    ) * f
    p = np.where(s * speed < s_grid[0], 0.0, np.where(s * speed > s_grid[-1], 1.0, p))
    return np.asarray(np.where(lat.stable, p, 0.0))


def _tpot_quantile(q: float, lat: _Latency, curve: _Curve, ts: TokenStats, speed: FloatArray) -> FloatArray:
    table = _tpot_quantile_table(curve, ts, q)
    i, f = _lookup(curve, lat.lam_eff)
    return np.asarray(np.where(lat.stable, _interp(table, i, f) / speed, np.inf))


def slo_ceiling(perf: ReplicaPerf, tokens: TokenStats, slo: SLO) -> dict[str, float | bool]:
    """Best latency any replica count can give (zero load): can the SLO quantiles be met at all?

    With unlimited replicas every request finds an idle replica: TTFT = its own prefill on an idle replica
    (:func:`~gigawatt.perf.fleet.operating_point.prefill_time_idle_s`) and TPOT = a batch-of-one decode
    iteration :math:`t_{dec}(1)`. So

    * ``ttft_frac_max`` = :math:`P(S_{idle}(P) ≤ s_{ttft})` over the prompt-length quadrature (the same
      nodes the fleet model uses), the largest share of requests that can meet the TTFT target;
    * ``ttft_quantile_min_s``: the ``quantile`` of :math:`S_{idle}` (the smallest feasible TTFT target);
    * ``tpot_min_s`` = :math:`t_{dec}(1)`.

    ``reachable`` is ``ttft_frac_max >= quantile and tpot_min_s <= tpot_s``. Where it is False, no replica
    count meets the SLO and the autoscaler stops at the attainment knee instead
    (:mod:`~gigawatt.perf.fleet.autoscaler`).
    """
    S0 = prefill_time_idle_s(tokens.prompt_nodes, perf)
    w = tokens.prompt_weights
    frac = float(np.sum(w[S0 <= slo.ttft_s]))
    order = np.argsort(S0)
    cum = np.cumsum(w[order])
    k = min(int(np.searchsorted(cum, slo.quantile - 1e-12)), S0.size - 1)
    ctx = tokens.decode_context_tokens
    one = np.array([1.0])
    tpot = float(_iter_t(perf.coeffs, one, one * ctx, one * ctx)[0])
    return {
        "ttft_frac_max": frac,
        "ttft_quantile_min_s": float(S0[order][k]),
        "tpot_min_s": tpot,
        "reachable": bool(frac >= slo.quantile and tpot <= slo.tpot_s),
    }
