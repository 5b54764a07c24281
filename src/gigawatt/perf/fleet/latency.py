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
from typing import Final

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

__all__ = ["SLO", "LatencyDistribution", "mixture_quantile", "slo_ceiling"]

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
def _ttft_quantiles_kernel(q, S, w, pw, theta, shift):
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


#: From this many (step, prompt node) pairs on (about two weeks at 5-minute steps) the TTFT quantiles use the
#: compiled kernel (compiled once, ~1 s, or loaded from the cache; the vectorised bisection costs ~0.4 s per
#: call for a month); below, no compilation is needed.
#: The two evaluate the same bisection; they may differ in the last bits of ``exp``/``log`` (numpy's
#: vectorised versus the C library's). The choice depends only on the problem size (deterministic).
TTFT_QUANTILE_KERNEL_MIN_PAIRS: Final = 250_000


def _ttft_exceed_rows(
    t: FloatArray | np.float64,
    S: FloatArray,
    w: FloatArray,
    pw: FloatArray,
    theta: FloatArray,
    shift: FloatArray,
) -> FloatArray:
    """P(TTFT > t) per step (vectorised :func:`_ttft_exceed`: same terms, same order of summation)."""
    n, m = S.shape
    p = np.zeros(n)
    tail = np.zeros(n)
    pos = theta > 0.0
    atom = ~pos & (pw > 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(m):
            x = t - shift - S[:, j]
            below = x < 0.0
            p = p + np.where(below | atom, w[j], 0.0)
            tail = tail + np.where(~below & pos, w[j] * np.exp(-theta * x), 0.0)
    return np.asarray(p + pw * tail)


def _ttft_cdf(
    s: float, S: FloatArray, w: FloatArray, pw: FloatArray, theta: FloatArray, shift: FloatArray
) -> FloatArray:
    """P(TTFT ≤ s) per step: the mixture over prompt nodes of shift + wait + own prefill."""
    dead = ~np.isfinite(shift) | ((pw > 0.0) & (theta <= 0.0))
    with np.errstate(invalid="ignore"):
        out = 1.0 - _ttft_exceed_rows(np.float64(s), S, w, pw, theta, shift)
    return np.asarray(np.where(dead, 0.0, out))


def _ttft_quantiles(
    q: float, S: FloatArray, w: FloatArray, pw: FloatArray, theta: FloatArray, shift: FloatArray
) -> FloatArray:
    """``q``-quantile of TTFT per step [s] by 40 bisection steps on :func:`_ttft_exceed` (``inf`` if unstable).

    The bracket starts at [shift + S_min, shift + S_max (+ the exponential tail's ``q`` point)]; where the
    running iteration's tail is representable (:math:`θ x < 700`) the exponential factor is hoisted out of the
    sum over prompt nodes.
    """
    n, m = S.shape
    if n * m >= TTFT_QUANTILE_KERNEL_MIN_PAIRS:
        return np.asarray(_ttft_quantiles_kernel(q, S, w, pw, theta, shift))
    out = np.full(n, np.inf)
    live = np.flatnonzero(np.isfinite(shift) & ~((pw > 0.0) & (theta <= 0.0)))
    if live.size == 0:
        return out
    S, pw, th, sh = S[live], pw[live], theta[live], shift[live]
    smax = S[:, m - 1]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = np.exp(th[:, None] * (S - smax[:, None]))
        lo = sh + S[:, 0]
        hi = sh + smax + 1e-9
        widen = (th > 0.0) & (pw > 1.0 - q)
        hi = np.where(widen, hi + np.log(pw / (1.0 - q)) / th, hi)
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            xm = mid - sh - smax
            fast = (th > 0.0) & (-th * xm < 700.0)
            e = np.exp(-th * xm)
            p = np.zeros(live.size)
            tail = np.zeros(live.size)
            for j in range(m):
                below = mid - sh - S[:, j] < 0.0
                p = p + np.where(below, w[j], 0.0)
                tail = tail + np.where(below, 0.0, w[j] * a[:, j])
            exceed = p + pw * e * tail
            slow = np.flatnonzero(~fast)
            if slow.size:
                exceed[slow] = _ttft_exceed_rows(mid[slow], S[slow], w, pw[slow], th[slow], sh[slow])
            up = exceed > 1.0 - q
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
    out[live] = hi
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


@dataclass(frozen=True)
class LatencyDistribution:
    """Per-step TTFT and TPOT distributions of a colocated fleet: the model its quantiles come from.

    TTFT of a request in step ``k`` is ``shift_k + W_k + S_kj`` with prompt node ``j`` drawn with weight
    ``w_j`` and :math:`W_k \\sim (1 - p_{w,k})\\,δ_0 + p_{w,k}\\,\\mathrm{Exp}(θ_k)`; TPOT is the
    compound-Poisson variable of :func:`_tpot_cdf_arrays`, read (as for the SLO attainment) from the fleet's
    table of :math:`P(TPOT ≤ s)` over request rate × ``s``, with ``s`` scaled by the throughput factor. Kept
    by :func:`evaluate_fleet <gigawatt.perf.fleet.colocated.evaluate_fleet>` so that quantiles of *mixtures*
    of fleets (a service on several sites, each user region with its own network round trip) can be computed
    (:func:`mixture_quantile`) instead of bounded by the slowest fleet.
    """

    S: FloatArray  # own-prefill time per prompt node [s], (T, nodes), nondecreasing along nodes
    w: FloatArray  # prompt node weights, (nodes,)
    pw: FloatArray  # probability of waiting for prefill capacity, (T,)
    theta: FloatArray  # tail decay rate of that wait [1/s], (T,)
    shift: FloatArray  # deterministic delay [s], (T,) (inf: unstable step)
    stable: npt.NDArray[np.bool_]  # (T,)
    tpot_s_grid: FloatArray  # s grid of the TPOT CDF table [s] (unthrottled)
    tpot_table: FloatArray  # P(TPOT <= s) on (rate grid × s grid)
    rate_i: npt.NDArray[np.intp]  # lower rate-grid index of each step
    rate_f: FloatArray  # interpolation weight towards rate_i + 1
    speed: FloatArray  # throughput factor of each step

    @classmethod
    def of(cls, lat: _Latency, curve: _Curve, tokens: TokenStats, speed: FloatArray) -> LatencyDistribution:
        """The distributions behind a :class:`_Latency` evaluation of ``curve`` at ``speed``."""
        s_grid, table = _tpot_cdf_table(curve, tokens)
        i, f = _lookup(curve, lat.lam_eff)
        return cls(
            lat.S, tokens.prompt_weights, lat.pw, lat.theta, lat.shift, lat.stable, s_grid, table, i, f, speed
        )

    def ttft_dead(self) -> npt.NDArray[np.bool_]:
        """Steps whose TTFT is unbounded (unstable queue): no finite quantile."""
        return np.asarray(~np.isfinite(self.shift) | ((self.pw > 0.0) & (self.theta <= 0.0)))

    def ttft_upper_s(self, q: FloatArray, rows: npt.NDArray[np.intp]) -> FloatArray:
        """A time [s] by which P(TTFT > t) ≤ 1 − ``q`` in steps ``rows`` (the bracket of the bisection)."""
        th, pw = self.theta[rows], self.pw[rows]
        hi = self.shift[rows] + self.S[rows, -1] + 1e-9
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            tail = np.where((th > 0.0) & (pw > 1.0 - q), np.log(pw / (1.0 - q)) / th, 0.0)
        return np.asarray(hi + tail)

    def tpot_dead(self) -> npt.NDArray[np.bool_]:
        """Steps whose TPOT is unbounded (unstable)."""
        return np.asarray(~self.stable)

    def tpot_exceed(self, t_s: FloatArray, rows: npt.NDArray[np.intp]) -> FloatArray:
        """P(TPOT > ``t_s``) in steps ``rows``: the tabulated CDF, bilinear in rate and log ``s`` (1 if unstable)."""
        g_s = self.tpot_s_grid
        x_s = t_s * self.speed[rows]
        lg = np.log(g_s)
        with np.errstate(divide="ignore"):
            x = np.log(np.clip(x_s, g_s[0], g_s[-1]))
        j = np.clip(np.searchsorted(lg, x, side="right") - 1, 0, lg.size - 2)
        g = (x - lg[j]) / (lg[j + 1] - lg[j])
        i, f, tab = self.rate_i[rows], self.rate_f[rows], self.tpot_table
        p = (tab[i, j] * (1.0 - g) + tab[i, j + 1] * g) * (1.0 - f) + (
            tab[i + 1, j] * (1.0 - g) + tab[i + 1, j + 1] * g
        ) * f
        p = np.where(x_s < g_s[0], 0.0, np.where(x_s > g_s[-1], 1.0, p))
        return np.asarray(np.where(self.stable[rows], 1.0 - p, 1.0))

    def tpot_upper_s(self, q: FloatArray, rows: npt.NDArray[np.intp]) -> FloatArray:
        """A time [s] where the tabulated TPOT CDF reaches 1 (the end of its ``s`` grid, throttled)."""
        del q
        return np.asarray(self.tpot_s_grid[-1] / self.speed[rows] * (1.0 + 1e-9))


@njit(cache=True)
def _mixture_ttft_kernel(
    q, S, w, pw, theta, shift, fleet, share, delay, rows, lo, hi, tol
):  # pragma: no cover
    # P(L > t) = sum_c share_c P(TTFT_fleet(c) > t - delay_c), bisection per row (see mixture_quantile).
    # Prompt nodes are sorted (S nondecreasing): nodes j < split(t) have t - d - shift - S_j >= 0 and add
    # w_j a_j exp(-theta (t - d - shift - smax)) to the exponential tail, the others w_j to the atom part.
    n_c = fleet.shape[0]
    m = w.shape[0]
    out = np.empty(rows.shape[0])
    cw = np.zeros((n_c, m + 1))  # cumulative w_j a_j over nodes
    wsum = np.zeros(m + 1)
    for j in range(m):
        wsum[j + 1] = wsum[j] + w[j]
    for r in range(rows.shape[0]):
        k = rows[r]
        for c in range(n_c):
            f = fleet[c]
            th = theta[f, k]
            smax = S[f, k, m - 1]
            for j in range(m):
                a = np.exp(th * (S[f, k, j] - smax)) if th > 0.0 else 0.0
                cw[c, j + 1] = cw[c, j] + w[j] * a
        a_lo = lo[r]
        a_hi = hi[r]
        while a_hi - a_lo > tol * max(abs(a_hi), 1e-12):
            mid = 0.5 * (a_lo + a_hi)
            ex = 0.0
            for c in range(n_c):
                sc = share[c, k]
                if sc <= 0.0:
                    continue
                f = fleet[c]
                x0 = mid - delay[c, k] - shift[f, k]
                # split: number of nodes with S_j <= x0 (binary search on the sorted nodes)
                a0 = 0
                b0 = m
                while a0 < b0:
                    h = (a0 + b0) // 2
                    if S[f, k, h] <= x0:
                        a0 = h + 1
                    else:
                        b0 = h
                above = wsum[m] - wsum[a0]  # nodes not reached yet: TTFT > t for sure
                th = theta[f, k]
                if th > 0.0:
                    xm = x0 - S[f, k, m - 1]
                    tail = cw[c, a0]
                    if tail > 0.0:
                        if -th * xm < 700.0:
                            above += pw[f, k] * np.exp(-th * xm) * tail
                        else:  # exp(-th xm) overflows: node by node (each term <= w_j)
                            for j in range(a0):
                                above += pw[f, k] * w[j] * np.exp(-th * (x0 - S[f, k, j]))
                elif pw[f, k] > 0.0:
                    above += wsum[a0]
                ex += sc * above
            if ex > 1.0 - q:
                a_lo = mid
            else:
                a_hi = mid
        out[r] = a_hi
    return out


#: Relative width [-] at which :func:`mixture_quantile` stops its bisection (1e-12 of the quantile).
MIXTURE_RTOL: Final = 1e-12


def mixture_quantile(
    q: float,
    parts: list[tuple[LatencyDistribution, FloatArray, FloatArray]],
    what: str = "ttft",
    known_s: list[FloatArray] | None = None,
) -> FloatArray:
    """``q``-quantile per step [s] of the latency of requests drawn from several fleets (a mixture).

    Each part ``c`` is ``(distribution, weight_c, delay_s_c)``: a fleet's per-step latency distribution, the
    requests it serves per step (any unit; only the shares count) and a deterministic delay added to its
    latency (e.g. a user region's network round trip, [s]; 0 for TPOT). The mixture's exceedance is

    .. math:: P(L > t) = \\sum_c \\frac{λ_c}{\\sum_{c'} λ_{c'}}\\, P(L_c > t - d_c)

    and its ``q``-quantile is found by bisection per step to a relative width of :data:`MIXTURE_RTOL` (TTFT in
    a compiled kernel; TPOT vectorised over steps on the fleets' tabulated CDFs). It lies between the smallest
    and the largest of the parts' own ``q``-quantiles (plus delays), so the largest, which the service used to
    report, is an upper bound of it. With ``known_s`` (the parts' own quantiles [s] without delay, as each
    fleet reports them): a step where one part carries all requests returns that value plus its delay, and
    the bisection is bracketed by, and its result kept within, the parts' range (the per-fleet TPOT quantile
    table and the CDF table differ in the last digits). NaN in steps without requests; ``inf`` where unbounded
    parts (unstable queues) carry at least ``1 - q`` of the requests.

    Parameters
    ----------
    q : float
        Quantile in (0, 1).
    parts : list of (LatencyDistribution, ndarray (T,), ndarray (T,))
        Fleets, their served requests per step [1/s] and added delays [s].
    what : {"ttft", "tpot"}
        Which latency.
    known_s : list of ndarray (T,), optional
        The parts' own ``q``-quantiles [s].
    """
    if not 0.0 < q < 1.0:
        raise ValueError("q: must be in (0, 1)")
    if what not in ("ttft", "tpot"):
        raise ValueError("what: 'ttft' or 'tpot'")
    if not parts:
        raise ValueError("parts: at least one fleet")
    n = parts[0][1].shape[0]
    lam = np.stack([np.maximum(np.asarray(p[1], dtype=np.float64), 0.0) for p in parts])  # (C, T)
    delay = np.stack([np.broadcast_to(np.asarray(p[2], dtype=np.float64), (n,)) for p in parts])
    tot = lam.sum(axis=0)
    share = np.divide(lam, tot, out=np.zeros_like(lam), where=tot > 0)
    dead = np.stack([p[0].ttft_dead() if what == "ttft" else p[0].tpot_dead() for p in parts]) & (lam > 0)
    dead_share = np.where(dead, share, 0.0).sum(axis=0)
    out = np.full(n, np.nan)
    active = lam > 0
    live = active & ~dead
    out[(tot > 0) & (dead_share >= 1.0 - q)] = np.inf
    todo = (tot > 0) & (dead_share < 1.0 - q)
    known = None
    if known_s is not None:
        known = np.stack([np.asarray(k, dtype=np.float64) for k in known_s]) + delay  # (C, T)
        single = todo & (active.sum(axis=0) == 1)
        c1 = np.argmax(active, axis=0)
        out[single] = known[c1[single], np.flatnonzero(single)]
        todo &= ~single
    rows = np.flatnonzero(todo)
    if rows.size == 0:
        return out
    # bracket: [0, a bound above every live part's quantile at the level the dead share leaves]
    d = dead_share[rows]
    q_live = np.clip((q - d) / np.maximum(1.0 - d, 1e-300), q, 1.0 - 1e-15)
    lo = np.zeros(rows.size)
    hi = np.zeros(rows.size)
    for c, (dist, _, _) in enumerate(parts):
        lv = live[c, rows]
        if lv.any():
            up = dist.ttft_upper_s(q_live, rows) if what == "ttft" else dist.tpot_upper_s(q_live, rows)
            hi = np.where(lv, np.maximum(hi, up + delay[c, rows]), hi)
    k_lo = k_hi = None
    if known is not None and d.max(initial=0.0) <= 0.0:  # the parts' own quantiles bracket the mixture's
        k_rows = np.where(live[:, rows], known[:, rows], np.nan)
        k_lo, k_hi = np.fmin.reduce(k_rows, axis=0), np.fmax.reduce(k_rows, axis=0)
        ok = np.isfinite(k_lo) & np.isfinite(k_hi)
        lo = np.where(ok, np.maximum(lo, k_lo * (1.0 - 1e-6)), lo)
        hi = np.where(ok, np.minimum(hi, k_hi * (1.0 + 1e-6) + 1e-12), hi)
    if what == "ttft":
        fleets: list[LatencyDistribution] = []
        for dist, _, _ in parts:
            if not any(dist is f for f in fleets):
                fleets.append(dist)
        fleet = np.array([next(i for i, f in enumerate(fleets) if f is p[0]) for p in parts], dtype=np.int64)
        res = _mixture_ttft_kernel(
            q,
            np.stack([f.S for f in fleets]),
            fleets[0].w,
            np.stack([f.pw for f in fleets]),
            np.stack([f.theta for f in fleets]),
            np.stack([f.shift for f in fleets]),
            fleet,
            share,
            delay,
            rows.astype(np.int64),
            lo,
            hi,
            MIXTURE_RTOL,
        )
    else:
        for _ in range(200):  # halves the bracket each time; ends long before (relative width 1e-12)
            mid = 0.5 * (lo + hi)
            ex = np.zeros(rows.size)
            for c, (dist, _, _) in enumerate(parts):
                sc = share[c, rows]
                if np.any(sc > 0):
                    ex += np.where(sc > 0, sc * dist.tpot_exceed(mid - delay[c, rows], rows), 0.0)
            exceeds = ex > 1.0 - q
            lo = np.where(exceeds, mid, lo)
            hi = np.where(exceeds, hi, mid)
            if np.all(hi - lo <= MIXTURE_RTOL * np.maximum(np.abs(hi), 1e-12)):
                break
        res = hi
    if k_lo is not None and k_hi is not None:
        res = np.where(np.isnan(k_lo), res, np.maximum(res, k_lo))
        res = np.where(np.isnan(k_hi), res, np.minimum(res, k_hi))
    out[rows] = res
    return np.asarray(out)
