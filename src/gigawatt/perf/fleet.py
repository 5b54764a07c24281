"""Fleet mode for inference services: per-control-step sizing, autoscaling, latency and SLO estimates.

For horizons of months and years the request-level simulator (:mod:`gigawatt.engine.inference_sim`) is
replaced by an operating-point + queueing model evaluated per control step, vectorised over steps (the autoscaler's
state recurrence is a numba kernel). It is cross-checked against the request-level simulation in
``tests/validation/test_inference_fleet.py``.

Replica operating point
-----------------------
Iterations of a replica receiving ``λ`` requests/s are of two kinds: those carrying a prefill chunk (a
``P``-token prompt needs :math:`n_{ch} = \\lceil P/(M - B) \\rceil` of them, duration
:math:`t_{chunk}(P, B)` from :func:`gigawatt.perf.llm.iteration_time_s`) and decode-only ones
(:math:`t_{dec}(B)`). With :math:`u = λ E[n_{ch} t_{chunk}]` the share of time in the former,

.. math::

    N = λ E[n_{ch}] + (1 - u)/t_{dec}(B), \\qquad B = λ (\\bar O - 1) / N

(iterations per second; Little's law for the decode batch), solved by fixed-point iteration over prompt-length
quadrature nodes, once per service on a grid of rates (:func:`replica_curve`) and interpolated per step.
Mean TPOT is :math:`1/N`. The capacity :math:`μ` is the largest ``λ`` with :math:`u < 1`,
:math:`B ≤` ``max_batch_seqs`` and the KV reservation (prompt + output per sequence) within capacity.

Latency
-------
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

Autoscaling
-----------
Desired replicas per step = the fewest meeting the SLO quantiles *and* the target utilisation
(``policy="slo"``), or only the target utilisation (``policy="utilization"``); clipped to
``[min_replicas, max_replicas]``, where ``max_replicas`` defaults to the economical cap
(:func:`economical_max_replicas`: peak demand carried at ``min_utilization_frac``). Where no count up to the
cap meets the SLO (it may be unreachable at any count, :func:`slo_ceiling`), the step is sized at the
attainment knee: the fewest replicas for which doubling would add less than
:data:`KNEE_ATTAINMENT_GAIN_PER_DOUBLING` of attainment; both cases warn (:class:`~gigawatt.errors.GigawattWarning`
and the ``gigawatt`` logger). ``scale_up="predictive"`` / ``"scheduled"`` order replicas one scale-up delay
ahead of a forecast / of last week's need at the same time. Scale-up takes ``scale_up_delay_s`` (provisioning + cold start: weights
loaded; the replicas hold GPUs but serve nothing), rounded up to whole steps; scale-down happens only to the
largest desired value of the last ``scale_down_cooldown_s`` (a stabilisation window as in Kubernetes' HPA).
Demand above capacity is dropped (``overload="drop"``) or carried as a backlog that adds waiting time and is
dropped after ``max_queue_s`` (``overload="queue"``).

References
----------
.. [1] Patel, P. et al. (2024). Splitwise. ISCA '24 (phase power, Azure traces).
.. [2] Allen, A. O. (1990). Probability, Statistics, and Queueing Theory. Academic Press (Allen–Cunneen).
.. [3] Kubernetes documentation: Horizontal Pod Autoscaler, "stabilizationWindowSeconds" (default 300 s
   for scale-down).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit
from scipy import special

from gigawatt.errors import GigawattWarning
from gigawatt.perf.llm import IterationCoeffs
from gigawatt.perf.queueing import erlang_c

__all__ = [
    "KNEE_ATTAINMENT_GAIN_PER_DOUBLING",
    "SLO",
    "AutoscalerConfig",
    "DisaggregatedPerf",
    "FleetResult",
    "ReplicaPerf",
    "TokenStats",
    "autoscale_replicas",
    "economical_max_replicas",
    "evaluate_fleet",
    "prefill_time_idle_s",
    "replica_capacity_per_s",
    "replica_curve",
    "replica_operating_point",
    "simulate_disaggregated_fleet",
    "simulate_fleet",
    "slo_ceiling",
]

FloatArray = npt.NDArray[np.float64]

#: Cumulative-probability bin edges of the prompt-length quadrature (dense in the upper tail so that TTFT
#: quantiles up to p99.9 resolve the longest prompts).
_Q_EDGES: Final = np.unique(
    np.concatenate([np.linspace(0.0, 0.9, 19), np.linspace(0.9, 0.99, 19), np.linspace(0.99, 1.0, 11)])
)


@dataclass(frozen=True)
class TokenStats:
    """Moments and quadrature nodes of a service's prompt/output length distribution.

    Attributes
    ----------
    mean_prompt_tokens, mean_output_tokens : float
    mean_prompt_pairs : float
        :math:`E[P(P+1)/2]` (attention pairs of a prefill).
    decode_context_tokens : float
        Decode-weighted mean context :math:`E[(O-1)(P + (O+1)/2)]/E[O-1]`.
    prompt_cv2 : float
        Squared coefficient of variation of prompt lengths.
    prompt_nodes, prompt_weights : numpy.ndarray
        Quadrature nodes (prompt lengths at bin-midpoint quantiles) and their probabilities.
    output_nodes, output_weights : numpy.ndarray
        The same for output lengths of requests with at least two output tokens (TPOT is defined for them).
    max_request_tokens : int
        Largest prompt + output (for the KV-capacity check).
    """

    mean_prompt_tokens: float
    mean_output_tokens: float
    mean_prompt_pairs: float
    decode_context_tokens: float
    prompt_cv2: float
    prompt_nodes: FloatArray
    prompt_weights: FloatArray
    output_nodes: FloatArray
    output_weights: FloatArray
    max_request_tokens: int

    @classmethod
    def from_samples(cls, prompt_tokens: npt.ArrayLike, output_tokens: npt.ArrayLike) -> TokenStats:
        """Build from samples of prompt and output lengths [tokens] (e.g. a trace)."""
        P = np.asarray(prompt_tokens, dtype=np.float64)
        O = np.asarray(output_tokens, dtype=np.float64)
        if P.size == 0 or P.shape != O.shape or P.min() < 1 or O.min() < 1:
            raise ValueError("token samples: need equally long, non-empty arrays of lengths >= 1")
        dec = O - 1.0
        ctx = float(np.sum(dec * (P + (O + 1.0) / 2.0)) / dec.sum()) if dec.sum() > 0 else float(P.mean())
        mids = 0.5 * (_Q_EDGES[1:] + _Q_EDGES[:-1])
        return cls(
            mean_prompt_tokens=float(P.mean()),
            mean_output_tokens=float(O.mean()),
            mean_prompt_pairs=float(np.mean(P * (P + 1.0) / 2.0)),
            decode_context_tokens=ctx,
            prompt_cv2=float(P.var() / P.mean() ** 2),
            prompt_nodes=np.quantile(P, mids),
            prompt_weights=np.diff(_Q_EDGES),
            output_nodes=np.quantile(O[O >= 2], mids) if np.any(O >= 2) else np.full(mids.size, 2.0),
            output_weights=np.diff(_Q_EDGES),
            max_request_tokens=int(np.max(P + O)),
        )


@dataclass(frozen=True)
class ReplicaPerf:
    """What fleet mode needs to know about one replica (see :func:`gigawatt.perf.llm.iteration_coeffs`)."""

    coeffs: IterationCoeffs
    kv_capacity_tokens: int
    max_batch_tokens: int = 8192
    max_batch_seqs: int = 256
    gpus_per_replica: int = 1


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
class AutoscalerConfig:
    """Autoscaling policy (see module docstring).

    ``max_replicas`` is the explicit cap; ``None`` means the *economical* cap
    (:func:`economical_max_replicas`: the replicas that carry the peak demand at ``min_utilization_frac``),
    never above ``pool_replicas`` (what the service's GPUs hold). ``scale_up`` says when replicas are ordered:
    ``reactive`` when the need appears, ``predictive`` one scale-up delay ahead of a demand forecast,
    ``scheduled`` one delay ahead of the same time last week (a learned weekly schedule).
    """

    policy: Literal["slo", "utilization", "fixed"] = "slo"
    target_utilization_frac: float = 0.8
    min_replicas: int = 1
    max_replicas: int | None = None
    scale_up_delay_s: float = 300.0
    scale_down_cooldown_s: float = 900.0
    fixed_replicas: int | None = None
    overload: Literal["drop", "queue"] = "drop"
    max_queue_s: float = 60.0
    pool_replicas: int = 1_000_000
    min_utilization_frac: float = 0.1
    scale_up: Literal["reactive", "scheduled", "predictive"] = "reactive"

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.target_utilization_frac <= 1:
            problems.append("target_utilization_frac: must be in (0, 1]")
        if not 0 < self.min_utilization_frac <= self.target_utilization_frac:
            problems.append("min_utilization_frac: must be in (0, target_utilization_frac]")
        if self.min_replicas < 0 or (
            self.max_replicas is not None and self.max_replicas < max(self.min_replicas, 1)
        ):
            problems.append("min_replicas/max_replicas: need 0 <= min_replicas <= max_replicas, max >= 1")
        if self.pool_replicas < 1:
            problems.append("pool_replicas: must be >= 1")
        if self.scale_up_delay_s < 0 or self.scale_down_cooldown_s < 0 or self.max_queue_s < 0:
            problems.append("scale_up_delay_s/scale_down_cooldown_s/max_queue_s: must be >= 0")
        if self.policy == "fixed" and (self.fixed_replicas is None or self.fixed_replicas < 1):
            problems.append("fixed_replicas: must be >= 1 with policy 'fixed'")
        if self.policy not in ("slo", "utilization", "fixed"):
            problems.append("policy: must be 'slo', 'utilization' or 'fixed'")
        if self.overload not in ("drop", "queue"):
            problems.append("overload: must be 'drop' or 'queue'")
        if self.scale_up not in ("reactive", "scheduled", "predictive"):
            problems.append("scale_up: must be 'reactive', 'scheduled' or 'predictive'")
        if problems:
            raise ValueError("AutoscalerConfig: " + "; ".join(problems))


def economical_max_replicas(peak_rps: float, capacity_per_replica_rps: float, cfg: AutoscalerConfig) -> int:
    """The autoscaler's cap [replicas]: ``cfg.max_replicas`` when given, else the economical cap.

    .. math:: R_{max} = \\min\\big(R_{pool},\\ \\max(\\lceil λ_{peak} / (μ\\, u_{min}) \\rceil,
              R_{min}, 1)\\big)

    the replicas that carry the peak demand :math:`λ_{peak}` at the minimum utilisation :math:`u_{min}`
    (``min_utilization_frac``, default 0.1), with :math:`μ` the sustainable rate of one replica. Rationale:
    an allocated accelerator draws a large share of its power idle (MI300X: 190 W of 750 W, H100: 70 W of 700 W,
    B200: 137 W of 1,000 W; see the accelerator catalog), so energy and GPU-hours per token grow like
    :math:`1/u` at low utilisation; at :math:`u = 0.1` GPU-hours per token are 8x and energy per token about
    2.1x (H100) to 3.7x (MI300X) their values at :math:`u = 0.8` (estimate from the catalog's idle and phase
    powers), and replicas beyond that only shave queueing delay off requests that usually meet the SLO.
    Servers that are mostly idle are the classic energy-proportionality waste (Barroso & Hölzle 2007).
    An explicit ``max_replicas`` replaces this estimate (never above the pool).

    References
    ----------
    Barroso, L. A., Hölzle, U. (2007). The Case for Energy-Proportional Computing. IEEE Computer 40(12).
    """
    if cfg.max_replicas is not None:
        return int(min(cfg.max_replicas, cfg.pool_replicas))
    if capacity_per_replica_rps <= 0:
        return int(cfg.pool_replicas)
    n = math.ceil(peak_rps / (capacity_per_replica_rps * cfg.min_utilization_frac) - 1e-9)
    return int(min(max(n, cfg.min_replicas, 1), cfg.pool_replicas))


# ---------------------------------------------------------------------------------------------------------
# replica operating point


def _iter_t(c: IterationCoeffs, n: FloatArray, kv: FloatArray, pairs: FloatArray) -> FloatArray:
    w = c.dense_weights_s + c.expert_weights_s * (1.0 - (1.0 - c.expert_hit_frac) ** n)
    return np.asarray(
        c.fixed_s
        + np.maximum(w + c.kv_per_token_s * kv, c.flop_per_token_s * n + c.attn_per_pair_s * pairs)
        + c.comm_per_token_s * n
    )


@dataclass(frozen=True)
class _OpPoint:
    B: FloatArray  # mean decode batch [-]
    t_dec: FloatArray  # decode-only iteration time [s]
    nch: FloatArray  # prefill chunks per prompt node [steps, nodes]
    t_chunk: FloatArray  # time of one prefill-carrying iteration per node [s]
    u: FloatArray  # share of time in prefill-carrying iterations
    n_it: FloatArray  # iterations per second
    n_pf: FloatArray  # prefill-carrying iterations per second
    ok: npt.NDArray[np.bool_]  # stable and within batch/KV limits


def _operating_point(lam: FloatArray, perf: ReplicaPerf, ts: TokenStats) -> _OpPoint:
    """Fixed point of the two-kind iteration model for per-replica rate ``lam`` [1/s] (unthrottled)."""
    c = perf.coeffs
    lam = np.asarray(lam, dtype=np.float64)
    M = float(perf.max_batch_tokens)
    ctx = ts.decode_context_tokens
    Pn = ts.prompt_nodes[None, :]
    w = ts.prompt_weights[None, :]
    B = np.zeros(lam.shape)
    ok = np.ones(lam.shape, dtype=bool)
    for _ in range(200):
        Bc = B[:, None]
        free = np.maximum(M - Bc, 1.0)
        nch = np.ceil(Pn / free)
        chunk = Pn / nch
        t_chunk = _iter_t(
            c, Bc + chunk, Bc * ctx + Pn * (nch - 1.0) / (2.0 * nch), Bc * ctx + Pn * (Pn + 1.0) / (2.0 * nch)
        )
        t_dec = _iter_t(c, np.maximum(B, 1.0), np.maximum(B, 1.0) * ctx, np.maximum(B, 1.0) * ctx)
        u = lam * np.sum(w * nch * t_chunk, axis=1)
        n_pf = lam * np.sum(w * nch, axis=1)
        ok = u < 1.0
        n_it = n_pf + np.where(ok, 1.0 - u, 0.0) / t_dec
        B_new = np.where(ok, lam * (ts.mean_output_tokens - 1.0) / np.maximum(n_it, 1e-300), np.inf)
        ok &= B_new <= perf.max_batch_seqs
        B_new = np.where(ok, B_new, float(perf.max_batch_seqs))
        if np.all(np.abs(B_new - B) <= 1e-9 * np.maximum(B_new, 1.0)):
            B = B_new
            break
        B = B_new
    seqs = B + n_pf / np.maximum(n_it, 1e-300) * 1.0  # decodes + prompts in flight
    ok &= seqs * (ts.mean_prompt_tokens + ts.mean_output_tokens) <= perf.kv_capacity_tokens
    return _OpPoint(B, t_dec, nch, t_chunk, u, n_it, n_pf, ok)


def replica_operating_point(
    arrival_rate_per_s: npt.ArrayLike, perf: ReplicaPerf, ts: TokenStats
) -> tuple[FloatArray, FloatArray]:
    """Mean iteration time (= mean TPOT) [s] and mean decode batch [-] of a replica at ``λ`` requests/s.

    Iterations are of two kinds: those carrying a prefill chunk (one per ``⌈P/(M-B)⌉`` chunk of each prompt,
    compute-bound, duration :math:`t_{chunk}(P, B)`) and decode-only ones (duration :math:`t_{dec}(B)`). With
    :math:`u = λ E[n_{ch} t_{chunk}]` the share of time in the former, iterations per second are
    :math:`N = λ E[n_{ch}] + (1-u)/t_{dec}` and Little's law gives :math:`B = λ(\bar O - 1)/N`; solved by
    fixed-point iteration. ``inf`` where unstable.
    """
    lam = np.atleast_1d(np.asarray(arrival_rate_per_s, dtype=np.float64))
    op = _operating_point(lam, perf, ts)
    T = np.where(op.ok, 1.0 / np.maximum(op.n_it, 1e-300), np.inf)
    return T, np.where(op.ok, op.B, np.inf)


def replica_capacity_per_s(perf: ReplicaPerf, ts: TokenStats) -> float:
    """Sustainable request rate of one replica :math:`μ` [1/s] (bisection on the operating point)."""
    hi = 1.0
    while _operating_point(np.array([hi]), perf, ts).ok[0]:
        hi *= 2.0
    lo = 0.0
    for _ in range(5):  # vectorised 32-way bisection: relative precision 32**-5 ~ 3e-8
        grid = np.linspace(lo, hi, 33)
        ok = _operating_point(grid, perf, ts).ok
        k = int(np.flatnonzero(ok).max()) if ok.any() else 0
        lo, hi = float(grid[k]), float(grid[min(k + 1, 32)])
    return lo


@dataclass(frozen=True)
class _Curve:
    """Replica quantities tabulated against per-replica rate (unthrottled) for fast per-step lookup."""

    mu: float
    lam: FloatArray
    S: FloatArray  # own prefill time per node [grid, nodes]
    mean_S: FloatArray
    cs2_S: FloatArray
    u: FloatArray
    residual: FloatArray
    tpot_mean: FloatArray
    tpot_var_it: FloatArray  # variance of iteration time seen by a decoder [s^2]
    p_pf: FloatArray  # probability that an iteration carries a prefill chunk
    t_dec: FloatArray  # decode-only iteration time [s]
    x1: FloatArray  # E[t_chunk - t_dec] over prefill-carrying iterations [s]
    x2: FloatArray  # E[(t_chunk - t_dec)^2] [s^2]
    busy: FloatArray
    prefill_frac: FloatArray
    tpot_q_cache: dict[float, FloatArray] = field(default_factory=dict)


def replica_curve(perf: ReplicaPerf, ts: TokenStats, n_grid: int = 257) -> _Curve:
    """Tabulate replica latency quantities against per-replica request rate (computed once per service)."""
    mu = replica_capacity_per_s(perf, ts)
    x = np.linspace(0.0, 1.0, n_grid)
    lam = mu * 0.999 * (1.0 - (1.0 - x) ** 2)
    op = _operating_point(lam, perf, ts)
    w = ts.prompt_weights[None, :]
    S = op.nch * op.t_chunk
    mean_S = np.sum(w * S, axis=1)
    cs2 = np.sum(w * S * S, axis=1) / np.maximum(mean_S, 1e-300) ** 2 - 1.0
    n_it = np.maximum(op.n_it, 1e-300)
    m1 = 1.0 / n_it
    # iteration-time moments seen by decoders: prefill-carrying share n_pf/n_it (per-chunk times), else t_dec
    p_pf_node = lam[:, None] * w * op.nch / n_it[:, None]
    m2 = np.sum(p_pf_node * op.t_chunk**2, axis=1) + (1.0 - np.sum(p_pf_node, axis=1)) * op.t_dec**2
    var = np.maximum(m2 - m1**2, 0.0)
    # time-average residual of the running iteration (length-biased): sum over kinds share * t / 2
    t_share_pf = lam[:, None] * w * op.nch * op.t_chunk
    L = lam * (mean_S + (ts.mean_output_tokens - 1.0) * m1)
    busy = np.maximum(1.0 - np.exp(-L), op.u)
    residual = 0.5 * (np.sum(t_share_pf * op.t_chunk, axis=1) + (busy - op.u) * op.t_dec)
    c = perf.coeffs
    pf_compute = lam * (c.flop_per_token_s * ts.mean_prompt_tokens + c.attn_per_pair_s * ts.mean_prompt_pairs)
    p_pf = np.sum(p_pf_node, axis=1)
    xs = np.maximum(op.t_chunk - op.t_dec[:, None], 0.0)
    pn = p_pf_node / np.maximum(p_pf, 1e-300)[:, None]
    x1 = np.sum(pn * xs, axis=1)
    x2 = np.sum(pn * xs * xs, axis=1)
    # Coalescing: prompts arriving during a prefill-carrying iteration join the next one, so such iterations
    # are ~1/(1-u) times fewer and longer (same total time). This keeps the mean TPOT and raises its spread.
    k = 1.0 / np.maximum(1.0 - op.u, 1e-3)
    p_pf = p_pf / k
    x1 = x1 * k
    x2 = x2 * k * k
    return _Curve(
        mu,
        lam,
        S,
        mean_S,
        cs2,
        op.u,
        residual,
        m1,
        var,
        p_pf,
        op.t_dec,
        x1,
        x2,
        busy,
        np.clip(pf_compute / np.maximum(busy, 1e-12), 0.0, 1.0),
    )


def _lookup(curve: _Curve, lam_r: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
    x = np.clip(lam_r, 0.0, curve.lam[-1])
    i = np.clip(np.searchsorted(curve.lam, x, side="right") - 1, 0, curve.lam.size - 2)
    f = (x - curve.lam[i]) / (curve.lam[i + 1] - curve.lam[i])
    return i, f


def _interp(a: FloatArray, i: npt.NDArray[np.int64], f: FloatArray) -> FloatArray:
    if a.ndim == 2:
        return np.asarray(a[i] * (1.0 - f)[:, None] + a[i + 1] * f[:, None])
    return np.asarray(a[i] * (1.0 - f) + a[i + 1] * f)


# ---------------------------------------------------------------------------------------------------------
# latency model


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


def _latency(
    lam_total: FloatArray,
    R: FloatArray,
    curve: _Curve,
    ts: TokenStats,
    router: str,
    speed: FloatArray,
    backlog_wait_s: FloatArray,
) -> _Latency:
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


def _tpot_cdf_vec(s: FloatArray, lat: _Latency, ts: TokenStats) -> FloatArray:
    """P(TPOT ≤ s) per step (throttled times)."""
    out = _tpot_cdf_arrays(s, lat.p_pf, lat.t_dec, lat.x1, lat.x2, ts)
    return np.asarray(np.where(lat.stable, out, 0.0))


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


# ---------------------------------------------------------------------------------------------------------
# autoscaler


@njit(cache=True)
def _autoscale_kernel(desired, min_r, max_r, delay_steps, window_steps, fixed):
    n = desired.shape[0]
    ready = np.zeros(n, dtype=np.int64)
    pending_out = np.zeros(n, dtype=np.int64)
    due = np.zeros(n + delay_steps + 1, dtype=np.int64)
    cur = 0
    pending = 0
    for k in range(n):
        cur += due[k]
        pending -= due[k]
        target = min(max(desired[k], min_r), max_r)
        if k == 0:
            # start warm at the first step's need
            cur = target
        else:
            total = cur + pending
            if target > total:
                add = target - total
                if delay_steps == 0:
                    cur += add
                else:
                    due[k + delay_steps] += add
                    pending += add
            else:
                lo = k - window_steps
                if lo < 0:
                    lo = 0
                hold = min_r
                for j in range(lo, k + 1):
                    dj = min(max(desired[j], min_r), max_r)
                    if dj > hold:
                        hold = dj
                if hold < cur + pending:
                    # cancel pending first, then release ready replicas
                    cut = cur + pending - hold
                    c_p = min(cut, pending)
                    pending -= c_p
                    # cancel the latest-due pending replicas
                    rem = c_p
                    j = k + delay_steps
                    while rem > 0 and j > k:
                        take = min(rem, due[j])
                        due[j] -= take
                        rem -= take
                        j -= 1
                    cur -= cut - c_p
        if fixed > 0:
            cur = fixed
            pending = 0
        ready[k] = cur
        pending_out[k] = pending
    return ready, pending_out


def autoscale_replicas(
    desired: npt.ArrayLike, step_s: float, cfg: AutoscalerConfig
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Ready and pending (starting) replicas per step from desired replicas (see module docstring)."""
    d = np.ascontiguousarray(desired, dtype=np.int64)
    delay = int(np.ceil(cfg.scale_up_delay_s / step_s - 1e-9))
    window = int(np.ceil(cfg.scale_down_cooldown_s / step_s - 1e-9))
    fixed = int(cfg.fixed_replicas) if cfg.policy == "fixed" and cfg.fixed_replicas else 0
    cap = cfg.max_replicas if cfg.max_replicas is not None else cfg.pool_replicas
    ready, pending = _autoscale_kernel(d, int(cfg.min_replicas), int(cap), delay, window, fixed)
    return ready, pending


# ---------------------------------------------------------------------------------------------------------
# fleet simulation


@dataclass(frozen=True)
class FleetResult:
    """Per-step fleet outputs (``frame``: DataFrame indexed by step start [s]) and KPIs (``summary``).

    ``diagnostics`` (sizing runs only): ``max_replicas`` (the cap used), ``slo_reachable`` (whether any
    replica count meets the SLO quantiles, :func:`slo_ceiling`), ``capped_steps`` (steps where the SLO or
    utilisation target needed more replicas than the cap), ``knee_steps`` (steps sized at the attainment
    knee because no count up to the cap meets the SLO).
    """

    frame: pd.DataFrame
    summary: pd.Series
    diagnostics: dict[str, float | int | bool] = field(default_factory=dict)


#: Economical stop when the SLO cannot be met: the fewest replicas ``R`` for which doubling to ``2R``
#: would raise the predicted SLO attainment by less than this (absolute) share of requests. Doubling the
#: fleet doubles its cost; a gain below one per cent of requests is not bought (a gigawatt design choice).
KNEE_ATTAINMENT_GAIN_PER_DOUBLING: Final = 0.01

_log = logging.getLogger("gigawatt")


def _warn(message: str) -> None:
    """A planner-facing warning: :class:`~gigawatt.errors.GigawattWarning` and the ``gigawatt`` logger."""
    _log.warning(message)
    warnings.warn(message, GigawattWarning, stacklevel=3)


def prefill_time_idle_s(prompt_tokens: npt.ArrayLike, perf: ReplicaPerf) -> FloatArray:
    """Prefill time of prompts on an otherwise idle replica [s], chunked at ``max_batch_tokens``.

    A lower bound of TTFT at any load and any replica count (no waiting, no co-scheduled decodes).
    """
    c = perf.coeffs
    Pn = np.asarray(prompt_tokens, dtype=np.float64)
    nch = np.ceil(Pn / perf.max_batch_tokens)
    chunk = Pn / nch
    t = _iter_t(c, chunk, Pn * (nch - 1.0) / (2.0 * nch), Pn * (Pn + 1.0) / (2.0 * nch))
    return np.asarray(nch * t)


def slo_ceiling(perf: ReplicaPerf, tokens: TokenStats, slo: SLO) -> dict[str, float | bool]:
    """Best latency any replica count can give (zero load): can the SLO quantiles be met at all?

    With unlimited replicas every request finds an idle replica: TTFT = its own prefill on an idle replica
    (:func:`prefill_time_idle_s`) and TPOT = a batch-of-one decode iteration :math:`t_{dec}(1)`. So

    * ``ttft_frac_max`` = :math:`P(S_{idle}(P) ≤ s_{ttft})` over the prompt-length quadrature (the same
      nodes the fleet model uses), the largest share of requests that can meet the TTFT target;
    * ``ttft_quantile_min_s``: the ``quantile`` of :math:`S_{idle}` (the smallest feasible TTFT target);
    * ``tpot_min_s`` = :math:`t_{dec}(1)`.

    ``reachable`` is ``ttft_frac_max >= quantile and tpot_min_s <= tpot_s``. Where it is False, no replica
    count meets the SLO and the autoscaler stops at the attainment knee instead (module docstring).
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


def _look_ahead(desired: npt.NDArray[np.int64], steps: int) -> npt.NDArray[np.int64]:
    """``max(desired[k .. k + steps])`` per step (the need when replicas ordered now become ready)."""
    if steps <= 0 or desired.size == 0:
        return desired
    pad = np.concatenate([desired, np.full(steps, desired[-1])])
    win = np.lib.stride_tricks.sliding_window_view(pad, steps + 1)
    return np.asarray(win.max(axis=1), dtype=np.int64)


def _desired_replicas(
    lam: FloatArray,
    curve: _Curve,
    ts: TokenStats,
    slo: SLO,
    cfg: AutoscalerConfig,
    router: str,
    speed: FloatArray,
    stats: dict[str, int] | None = None,
    reachable: bool = True,
) -> npt.NDArray[np.int64]:
    """Desired replicas per step, ``<= cfg.max_replicas`` (already resolved to an integer cap).

    ``stats`` (if given) receives ``capped_steps`` and ``knee_steps``; ``reachable=False`` (the SLO is
    unreachable at any count, :func:`slo_ceiling`) skips the search for an SLO-meeting count.
    """
    mu = curve.mu
    cap_r = float(cfg.max_replicas if cfg.max_replicas is not None else cfg.pool_replicas)
    util_r = np.ceil(lam / (mu * speed * cfg.target_utilization_frac) - 1e-9)
    util_r = np.maximum(util_r, np.where(lam > 0, 1.0, 0.0))
    if stats is not None:
        stats["capped_steps"] = int(np.sum(util_r > cap_r))
        stats["knee_steps"] = 0
    if cfg.policy != "slo":
        return np.asarray(np.minimum(util_r, cap_r), dtype=np.int64)
    util_r = np.minimum(util_r, cap_r)
    zero = np.zeros_like(lam)

    def ok(R: FloatArray, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        lat = _latency(lam[idx], R, curve, ts, router, speed[idx], zero[idx])
        p_ttft = _ttft_cdf(slo.ttft_s, lat.S, ts.prompt_weights, lat.pw, lat.theta, lat.shift)
        tpot_q = _tpot_quantile(slo.quantile, lat, curve, ts, speed[idx])
        return np.asarray(lat.stable & (p_ttft >= slo.quantile) & (tpot_q <= slo.tpot_s))

    def attainment(R: FloatArray, idx: npt.NDArray[np.int64]) -> FloatArray:
        sp = speed[idx]
        served = np.minimum(lam[idx], R * curve.lam[-1] * sp)
        lat = _latency(served, R, curve, ts, router, sp, zero[idx])
        p_ttft = _ttft_cdf(slo.ttft_s, lat.S, ts.prompt_weights, lat.pw, lat.theta, lat.shift)
        p_tpot = _tpot_prob_within(slo.tpot_s, lat, curve, ts, sp)
        return np.asarray(served / lam[idx] * p_ttft * p_tpot)

    # The SLO quantiles only improve with more replicas: where the utilisation target already meets the
    # SLO it decides; elsewhere search upwards from it (doubling, then bisection), evaluating only the
    # steps still undecided.
    out = util_r.copy()
    pos = np.flatnonzero(lam > 0)
    need = pos[~ok(util_r[pos], pos)] if pos.size else pos
    lo = util_r[need]  # fails
    hi = np.minimum(np.maximum(lo * 2.0, lo + 1.0), cap_r)
    if not reachable:
        lo = hi = np.full(need.size, cap_r)
    for _ in range(60):
        bad = np.flatnonzero(hi > lo)
        if bad.size == 0:
            break
        good = ok(hi[bad], need[bad])
        fail = bad[~good]
        if fail.size == 0:
            break
        lo[fail] = hi[fail]
        hi[fail] = np.minimum(np.maximum(hi[fail] * 2.0, hi[fail] + 1.0), cap_r)
    # steps where even the cap fails the SLO (hi == lo == cap): size them at the attainment knee
    at_cap = hi <= lo
    if np.any(at_cap):
        kn = np.flatnonzero(at_cap)
        idx = need[kn]
        if stats is not None:
            stats["knee_steps"] = int(kn.size)
        # first crossing of the gain test on a geometric grid (quarter doublings) up from the utilisation
        # target's count, then bisection inside that grid cell
        g0 = np.maximum(util_r[idx], 1.0)
        k_lo = np.maximum(g0 - 1.0, 0.0)  # below the utilisation target: never chosen
        k_hi = np.full(kn.size, cap_r)  # the cap passes (doubling it adds nothing)
        open_ = np.ones(kn.size, dtype=bool)
        for j in range(200):
            o = np.flatnonzero(open_)
            if o.size == 0:
                break
            r = np.minimum(np.ceil(g0[o] * 2.0 ** (j / 4.0)), cap_r)
            ii = idx[o]
            gain = attainment(np.minimum(2.0 * r, cap_r), ii) - attainment(r, ii)
            done = (gain < KNEE_ATTAINMENT_GAIN_PER_DOUBLING) | (r >= cap_r)
            k_hi[o[done]] = r[done]
            k_lo[o[~done]] = r[~done]
            open_[o[done]] = False
        while True:  # to 1 % (the knee is an economic judgement, not a sharp optimum)
            act = np.flatnonzero(k_hi - k_lo > np.maximum(1.0, 0.01 * k_hi))
            if act.size == 0:
                break
            mid = np.floor((k_lo[act] + k_hi[act]) / 2.0)
            ii = idx[act]
            gain = attainment(np.minimum(2.0 * mid, cap_r), ii) - attainment(mid, ii)
            good = gain < KNEE_ATTAINMENT_GAIN_PER_DOUBLING
            k_hi[act] = np.where(good, mid, k_hi[act])
            k_lo[act] = np.where(good, k_lo[act], mid)
        hi[kn] = k_hi
    while True:
        act = np.flatnonzero((hi - lo > 1) & ~at_cap)
        if act.size == 0:
            break
        mid = np.floor((lo[act] + hi[act]) / 2.0)
        good = ok(mid, need[act])
        hi[act] = np.where(good, mid, hi[act])
        lo[act] = np.where(good, lo[act], mid)
    out[need] = np.maximum(hi, util_r[need])
    return np.asarray(np.where(lam > 0, np.minimum(out, cap_r), 0.0), dtype=np.int64)


def simulate_fleet(
    demand_rps: npt.ArrayLike,
    step_s: float,
    perf: ReplicaPerf,
    tokens: TokenStats,
    *,
    slo: SLO | None = None,
    autoscaler: AutoscalerConfig | None = None,
    router: str = "least_loaded",
    throughput_frac: npt.ArrayLike = 1.0,
    phase_power_w: dict[str, float] | None = None,
    forecast_rps: npt.ArrayLike | None = None,
    label: str = "service",
) -> FleetResult:
    """Fleet mode: replicas, served/dropped demand, latency percentiles, SLO attainment, GPU phase occupancy.

    Parameters
    ----------
    demand_rps : array_like
        Mean request rate per control step [1/s].
    step_s : float
        Control step [s].
    perf : ReplicaPerf
    tokens : TokenStats
    slo : SLO, optional
    autoscaler : AutoscalerConfig, optional
    router : str
        Router of the request-level model being approximated (see module docstring).
    throughput_frac : array_like
        Facility throughput factor per step (0-1], scales replica speed.
    phase_power_w : dict, optional
        ``{"prefill", "decode", "idle"}`` accelerator power [W] (:func:`gigawatt.perf.llm.phase_power_w`);
        enables the ``gpu_power_w`` column and the energy KPIs.
    forecast_rps : array_like, optional
        Demand forecast per step [1/s] for ``scale_up="predictive"`` (default: the demand itself, i.e.
        perfect foresight).
    label : str
        Names the service in warnings.

    Warns
    -----
    GigawattWarning
        (also logged on the ``gigawatt`` logger) when no replica count meets the SLO (:func:`slo_ceiling`),
        or when the cap (:func:`economical_max_replicas`) stops the autoscaler below what the SLO or the
        utilisation target needs.

    Returns
    -------
    FleetResult
        Columns: ``demand_rps, served_rps, dropped_rps, replicas, replicas_starting, utilization_frac,
        ttft_p50_s, ttft_p99_s, tpot_p50_s, tpot_p99_s, slo_attainment_frac, tokens_per_s,
        prompt_tokens_per_s, prefill_gpus, decode_gpus, idle_gpus, gpus`` (+ ``gpu_power_w``).
    """
    lam = np.asarray(demand_rps, dtype=np.float64)
    if lam.ndim != 1 or np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("demand_rps: must be a 1-D array of finite rates >= 0 [1/s]")
    if step_s <= 0:
        raise ValueError("step_s: must be > 0")
    if router not in ("central", "round_robin", "jsq", "least_loaded"):
        raise ValueError(f"router: must be central, round_robin, jsq or least_loaded, got {router!r}")
    slo = slo or SLO()
    cfg = autoscaler or AutoscalerConfig()
    speed = np.broadcast_to(np.asarray(throughput_frac, dtype=np.float64), lam.shape).copy()
    if np.any(speed <= 0) or np.any(speed > 1):
        raise ValueError("throughput_frac: must be in (0, 1]")
    curve = replica_curve(perf, tokens)
    cap = economical_max_replicas(float(lam.max(initial=0.0)), curve.mu, cfg)
    cfg = replace(cfg, max_replicas=cap)
    stats: dict[str, int] = {}
    ceiling = slo_ceiling(perf, tokens, slo)
    desired = _desired_replicas(
        lam, curve, tokens, slo, cfg, router, speed, stats, bool(ceiling["reachable"])
    )
    delay = int(np.ceil(cfg.scale_up_delay_s / step_s - 1e-9))
    if cfg.scale_up != "reactive" and cfg.policy != "fixed" and delay > 0:
        if cfg.scale_up == "predictive":
            fc = lam if forecast_rps is None else np.asarray(forecast_rps, dtype=np.float64)
            if fc.shape != lam.shape or np.any(~np.isfinite(fc)) or np.any(fc < 0):
                raise ValueError("forecast_rps: must have one finite rate >= 0 per step [1/s]")
            want = (
                desired
                if forecast_rps is None
                else _desired_replicas(
                    fc, curve, tokens, slo, cfg, router, speed, None, bool(ceiling["reachable"])
                )
            )
        else:  # scheduled: what was needed at the same time last week (nothing known in the first week)
            week = round(7 * 86400.0 / step_s)
            want = np.zeros_like(desired)
            if 0 < week < desired.size:
                want[week:] = desired[:-week]
        desired = np.maximum(desired, _look_ahead(want, delay))
    ready, pending = autoscale_replicas(desired, step_s, cfg)
    diag: dict[str, float | int | bool] = {
        "max_replicas": cap,
        "slo_reachable": bool(ceiling["reachable"]),
        "capped_steps": int(stats["capped_steps"]),
        "knee_steps": int(stats["knee_steps"]),
    }
    if cfg.policy == "slo" and not ceiling["reachable"]:
        _warn(
            f"{label}: the SLO (p{slo.quantile * 100:g} TTFT <= {slo.ttft_s:g} s, TPOT <= {slo.tpot_s:g} s) "
            f"cannot be met at any replica count: on an idle replica only "
            f"{ceiling['ttft_frac_max'] * 100:.1f} % of prompts prefill within {slo.ttft_s:g} s "
            f"(needs a TTFT target >= {ceiling['ttft_quantile_min_s']:.3g} s) and one decode step takes "
            f"{ceiling['tpot_min_s']:.3g} s; sized at the attainment knee instead of buying the pool "
            f"(peak {int(ready.max(initial=0))} replicas, cap {cap})"
        )
    elif cfg.policy != "fixed" and (stats["knee_steps"] > 0 or stats["capped_steps"] > 0):
        n = max(stats["knee_steps"], stats["capped_steps"])
        what = (
            "explicit max_replicas"
            if autoscaler is not None and autoscaler.max_replicas
            else "economical cap"
        )
        _warn(
            f"{label}: the autoscaler is capped at {cap} replicas ({what}) in {n} of {lam.size} steps, where "
            f"the {'SLO' if cfg.policy == 'slo' else 'utilisation target'} needs more; raise "
            "autoscaling.max_replicas (or lower min_utilization_frac) to buy them"
        )
    res = evaluate_fleet(
        lam,
        step_s,
        perf,
        tokens,
        ready,
        pending,
        slo=slo,
        overload=cfg.overload,
        max_queue_s=cfg.max_queue_s,
        router=router,
        throughput_frac=speed,
        phase_power_w=phase_power_w,
        curve=curve,
    )
    return FleetResult(res.frame, res.summary, diag)


def evaluate_fleet(
    demand_rps: npt.ArrayLike,
    step_s: float,
    perf: ReplicaPerf,
    tokens: TokenStats,
    replicas: npt.ArrayLike,
    replicas_starting: npt.ArrayLike | None = None,
    *,
    slo: SLO | None = None,
    overload: str = "drop",
    max_queue_s: float = 60.0,
    router: str = "least_loaded",
    throughput_frac: npt.ArrayLike = 1.0,
    phase_power_w: dict[str, float] | None = None,
    curve: _Curve | None = None,
) -> FleetResult:
    """Fleet-mode outputs for given ready (and starting) replicas per step (no autoscaling decision).

    Used by :func:`simulate_fleet`, and by the engine to re-evaluate a service with the throughput factors
    and pool allocations that were actually in force. Columns as in :func:`simulate_fleet`.
    """
    lam = np.asarray(demand_rps, dtype=np.float64)
    slo = slo or SLO()
    speed = np.broadcast_to(np.asarray(throughput_frac, dtype=np.float64), lam.shape).copy()
    if np.any(speed <= 0) or np.any(speed > 1):
        raise ValueError("throughput_frac: must be in (0, 1]")
    ready = np.asarray(replicas, dtype=np.int64)
    pending = (
        np.zeros_like(ready) if replicas_starting is None else np.asarray(replicas_starting, dtype=np.int64)
    )
    if ready.shape != lam.shape or pending.shape != lam.shape:
        raise ValueError("replicas/replicas_starting: must have one value per step")
    curve = curve or replica_curve(perf, tokens)
    R = ready.astype(np.float64)
    cap = R * curve.lam[-1] * speed
    served, dropped, backlog_wait = _serve(lam, cap, step_s, overload, max_queue_s)
    lat = _latency(served, R, curve, tokens, router, speed, backlog_wait)
    w = tokens.prompt_weights
    ttft50 = _ttft_quantiles(0.5, lat.S, w, lat.pw, lat.theta, lat.shift)
    ttft99 = _ttft_quantiles(0.99, lat.S, w, lat.pw, lat.theta, lat.shift)
    tpot50 = _tpot_quantile(0.5, lat, curve, tokens, speed)
    tpot99 = _tpot_quantile(0.99, lat, curve, tokens, speed)
    p_ttft = _ttft_cdf(slo.ttft_s, lat.S, w, lat.pw, lat.theta, lat.shift)
    p_tpot = _tpot_prob_within(slo.tpot_s, lat, curve, tokens, speed)
    with np.errstate(divide="ignore", invalid="ignore"):
        served_frac = np.where(lam > 0, served / lam, 1.0)
        attain = np.where(lam > 0, served_frac * p_ttft * p_tpot, 1.0)
        util = np.where(cap > 0, served / cap, np.where(lam > 0, 1.0, 0.0))
    idle_r = served <= 0
    for arr in (ttft50, ttft99, tpot50, tpot99):
        arr[idle_r] = np.nan
    gpr = float(perf.gpus_per_replica)
    busy_g = R * gpr * np.where(idle_r, 0.0, lat.busy_frac)
    prefill_g = busy_g * lat.prefill_frac
    decode_g = busy_g - prefill_g
    gpus = (R + pending) * gpr
    idle_g = gpus - prefill_g - decode_g
    frame = _service_frame(
        step_s,
        tokens,
        lam,
        served,
        dropped,
        ready,
        pending,
        {},
        util,
        (ttft50, ttft99, tpot50, tpot99),
        attain,
        prefill_g,
        decode_g,
        gpus,
    )
    if phase_power_w is not None:
        frame["gpu_power_w"] = (
            prefill_g * phase_power_w["prefill"]
            + decode_g * phase_power_w["decode"]
            + idle_g * phase_power_w["idle"]
        )
    return FleetResult(frame, _summary(frame, step_s, slo))


def _service_frame(
    step_s: float,
    tokens: TokenStats,
    demand_rps: np.ndarray,
    served_rps: np.ndarray,
    dropped_rps: np.ndarray,
    replicas: np.ndarray,
    replicas_starting: np.ndarray,
    replica_split: dict[str, np.ndarray],
    utilization_frac: np.ndarray,
    latency_s: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    slo_attainment_frac: np.ndarray,
    prefill_gpus: np.ndarray,
    decode_gpus: np.ndarray,
    gpus: np.ndarray,
) -> pd.DataFrame:
    """The per-step fleet-mode table shared by colocated and disaggregated services (index ``time_s``).

    ``latency_s`` is (TTFT p50, TTFT p99, TPOT p50, TPOT p99); ``replica_split`` adds per-pool replica columns
    after ``replicas_starting``.
    """
    ttft50, ttft99, tpot50, tpot99 = latency_s
    return pd.DataFrame(
        {
            "demand_rps": demand_rps,
            "served_rps": served_rps,
            "dropped_rps": dropped_rps,
            "replicas": replicas,
            "replicas_starting": replicas_starting,
            **replica_split,
            "utilization_frac": utilization_frac,
            "ttft_p50_s": ttft50,
            "ttft_p99_s": ttft99,
            "tpot_p50_s": tpot50,
            "tpot_p99_s": tpot99,
            "slo_attainment_frac": slo_attainment_frac,
            "tokens_per_s": served_rps * tokens.mean_output_tokens,
            "prompt_tokens_per_s": served_rps * tokens.mean_prompt_tokens,
            "prefill_gpus": prefill_gpus,
            "decode_gpus": decode_gpus,
            "idle_gpus": gpus - prefill_gpus - decode_gpus,
            "gpus": gpus,
        },
        index=pd.Index(np.arange(demand_rps.size) * step_s, name="time_s"),
    )


def _serve(
    lam: FloatArray, cap: FloatArray, step_s: float, overload: str, max_queue_s: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    if overload == "drop":
        served = np.minimum(lam, cap)
        return served, lam - served, np.zeros_like(lam)
    return _serve_queue(lam, cap, step_s, max_queue_s)


@njit(cache=True)
def _serve_queue(lam, cap, step_s, max_queue_s):
    n = lam.shape[0]
    served = np.empty(n)
    dropped = np.empty(n)
    wait = np.empty(n)
    backlog = 0.0  # requests
    for k in range(n):
        offered = lam[k] * step_s + backlog
        s = min(offered, cap[k] * step_s)
        rest = offered - s
        keep = min(rest, cap[k] * max_queue_s)
        served[k] = s / step_s
        dropped[k] = (rest - keep) / step_s
        backlog = keep
        wait[k] = backlog / cap[k] if cap[k] > 0 else 0.0
    return served, dropped, wait


def _summary(frame: pd.DataFrame, step_s: float, slo: SLO) -> pd.Series:
    dem = float(frame["demand_rps"].sum() * step_s)
    served = float(frame["served_rps"].sum() * step_s)
    tok = float(frame["tokens_per_s"].sum() * step_s)
    gpu_h = float(frame["gpus"].sum() * step_s / 3600.0)
    out = {
        "requests": dem,
        "served_requests": served,
        "dropped_frac": (dem - served) / dem if dem > 0 else 0.0,
        "slo_attainment_frac": float(
            (frame["slo_attainment_frac"] * frame["demand_rps"]).sum() / frame["demand_rps"].sum()
        )
        if dem > 0
        else 1.0,
        "slo_met": False,
        "peak_replicas": int(frame["replicas"].max()) if len(frame) else 0,
        "mean_replicas": float(frame["replicas"].mean()) if len(frame) else 0.0,
        "gpu_hours": gpu_h,
        "output_tokens": tok,
        "gpu_hours_per_million_tokens": gpu_h / (tok / 1e6) if tok > 0 else np.nan,
    }
    out["slo_met"] = bool(out["slo_attainment_frac"] >= slo.attainment_frac)
    if "gpu_power_w" in frame:
        e = float(frame["gpu_power_w"].sum() * step_s)
        out["gpu_energy_kwh"] = e / 3.6e6
        out["accelerator_energy_per_token_j"] = e / tok if tok > 0 else np.nan
    return pd.Series(out)


# ---------------------------------------------------------------------------------------------------------
# prefill/decode disaggregation


@dataclass(frozen=True)
class DisaggregatedPerf:
    """Two pools: prefill-only replicas and decode-only replicas, with the KV cache shipped between them.

    Attributes
    ----------
    prefill, decode : ReplicaPerf
        Replica performance of each pool (possibly different accelerators and tensor parallelism).
    kv_bytes_per_token : float
        KV-cache bytes per prompt token shipped from prefill to decode [bytes].
    kv_link_bandwidth_gbps : float
        Transfer bandwidth between a prefill and a decode replica [GB/s] (default in the scenario: 50 GB/s per
        prefill GPU, one 400 Gb/s NIC per GPU as in Splitwise's H100 cluster, Patel et al. 2024 §V).
    """

    prefill: ReplicaPerf
    decode: ReplicaPerf
    kv_bytes_per_token: float
    kv_link_bandwidth_gbps: float


def _prefill_service_s(perf: ReplicaPerf, ts: TokenStats) -> FloatArray:
    """Prefill-only time of each prompt node on an otherwise idle replica [s] (chunked at the token budget)."""
    c = perf.coeffs
    Pn = ts.prompt_nodes
    nch = np.ceil(Pn / perf.max_batch_tokens)
    chunk = Pn / nch
    t = _iter_t(c, chunk, Pn * (nch - 1.0) / (2.0 * nch), Pn * (Pn + 1.0) / (2.0 * nch))
    return np.asarray(nch * t)


def _decode_curve(
    perf: ReplicaPerf, ts: TokenStats, n_grid: int = 257
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Decode-only replica: per-replica rate grid, mean batch and iteration time (fixed point of Little's law)."""
    c = perf.coeffs
    ctx = ts.decode_context_tokens
    m = max(ts.mean_output_tokens - 1.0, 1e-9)

    def solve(lam: FloatArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
        B = np.zeros_like(lam)
        for _ in range(200):
            t = _iter_t(c, np.maximum(B, 1.0), np.maximum(B, 1.0) * ctx, np.maximum(B, 1.0) * ctx)
            B_new = lam * m * t
            if np.all(np.abs(B_new - B) <= 1e-9 * np.maximum(B_new, 1.0)):
                B = B_new
                break
            B = np.minimum(B_new, 1e9)
        t = _iter_t(c, np.maximum(B, 1.0), np.maximum(B, 1.0) * ctx, np.maximum(B, 1.0) * ctx)
        ok = (np.abs(lam * m * t - B) <= 1e-6 * np.maximum(B, 1.0)) & (B <= perf.max_batch_seqs)
        ok &= B * (ts.mean_prompt_tokens + ts.mean_output_tokens) <= perf.kv_capacity_tokens
        return B, t, ok

    hi = 1.0
    while solve(np.array([hi]))[2][0]:
        hi *= 2.0
    lo = 0.0
    for _ in range(5):
        grid = np.linspace(lo, hi, 33)
        ok = solve(grid)[2]
        k = int(np.flatnonzero(ok).max()) if ok.any() else 0
        lo, hi = float(grid[k]), float(grid[min(k + 1, 32)])
    x = np.linspace(0.0, 1.0, n_grid)
    lam = lo * 0.999 * (1.0 - (1.0 - x) ** 2)
    B, t, _ = solve(lam)
    return lam, B, t


def simulate_disaggregated_fleet(
    demand_rps: npt.ArrayLike,
    step_s: float,
    perf: DisaggregatedPerf,
    tokens: TokenStats,
    *,
    slo: SLO | None = None,
    prefill_autoscaler: AutoscalerConfig | None = None,
    decode_autoscaler: AutoscalerConfig | None = None,
    prefill_throughput_frac: npt.ArrayLike = 1.0,
    decode_throughput_frac: npt.ArrayLike = 1.0,
    prefill_power_w: dict[str, float] | None = None,
    decode_power_w: dict[str, float] | None = None,
    label: str | None = "service",
) -> FleetResult:
    """Fleet mode with prefill/decode disaggregation (Splitwise, DistServe).

    Prefill pool: prompts are dispatched to free prefill replicas from one queue (M/G/c, ``c`` = prefill
    replicas, service = prefill-only time of the prompt, Allen–Cunneen tail); TTFT = wait + prefill + KV
    transfer (:math:`P b_{kv} / B_{link}`). Decode pool: decode-only iterations, batch from Little's law
    :math:`B = λ(\\bar O - 1) t_{dec}(B)`, TPOT = :math:`t_{dec}(B)`; its ``q``-quantile uses the Poisson
    fluctuation of the batch, :math:`t_{dec}(B + z_q \\sqrt{B})`. Each pool has its own autoscaler. Columns as
    :func:`simulate_fleet` plus ``prefill_replicas`` and ``decode_replicas`` (``replicas`` is their sum;
    ``gpus`` counts both pools). Each pool is capped like :func:`simulate_fleet` (explicit ``max_replicas`` or
    the economical cap); a pool that misses its SLO share at its cap warns (:class:`GigawattWarning`, the
    ``gigawatt`` logger) unless ``label`` is None (re-evaluations).

    References
    ----------
    Patel, P. et al. (2024). Splitwise. ISCA '24. Zhong, Y. et al. (2024). DistServe: Disaggregating Prefill
    and Decoding for Goodput-optimized Large Language Model Serving. OSDI '24.
    """
    lam = np.asarray(demand_rps, dtype=np.float64)
    if lam.ndim != 1 or np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("demand_rps: must be a 1-D array of finite rates >= 0 [1/s]")
    slo = slo or SLO()
    cfg_p = prefill_autoscaler or AutoscalerConfig()
    cfg_d = decode_autoscaler or AutoscalerConfig()
    sp = np.broadcast_to(np.asarray(prefill_throughput_frac, dtype=np.float64), lam.shape).copy()
    sd = np.broadcast_to(np.asarray(decode_throughput_frac, dtype=np.float64), lam.shape).copy()
    if np.any(sp <= 0) or np.any(sp > 1) or np.any(sd <= 0) or np.any(sd > 1):
        raise ValueError("throughput_frac: must be in (0, 1]")
    w = tokens.prompt_weights
    S1 = _prefill_service_s(perf.prefill, tokens)
    kv_s = tokens.prompt_nodes * perf.kv_bytes_per_token / (perf.kv_link_bandwidth_gbps * 1e9)
    mean_S1 = float(np.sum(w * S1))
    cs2 = float(np.sum(w * S1 * S1) / mean_S1**2 - 1.0)
    mu_p = 1.0 / mean_S1
    lam_g, B_g, _ = _decode_curve(perf.decode, tokens)
    mu_d = float(lam_g[-1])
    peak = float(lam.max(initial=0.0))
    cfg_p = replace(cfg_p, max_replicas=economical_max_replicas(peak, mu_p, cfg_p))
    cfg_d = replace(cfg_d, max_replicas=economical_max_replicas(peak, mu_d, cfg_d))
    z = float(special.ndtri(slo.quantile))

    def prefill_state(
        R: FloatArray, lam_s: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        Rm = np.maximum(R, 1.0)
        mu = mu_p * sp
        a = lam_s / mu
        ok = a < Rm
        pw = np.where(ok, erlang_c(Rm, np.where(ok, a, 0.0)), 1.0)
        theta = np.where(ok, (Rm * mu - lam_s) * 2.0 / (1.0 + cs2), 0.0)
        S = S1[None, :] / sp[:, None] + kv_s[None, :]
        shift = np.where(ok, 0.0, np.inf)
        return S, pw, theta, shift

    def decode_tpot(R: FloatArray, lam_s: FloatArray, zq: float) -> FloatArray:
        lr = lam_s / np.maximum(R, 1.0) / sd
        B = np.interp(np.clip(lr, 0.0, lam_g[-1]), lam_g, B_g)
        Bq = np.maximum(B + zq * np.sqrt(np.maximum(B, 0.0)), 1.0)
        c = perf.decode.coeffs
        ctx = tokens.decode_context_tokens
        t = _iter_t(c, Bq, Bq * ctx, Bq * ctx) / sd
        return np.asarray(np.where(lr < lam_g[-1], t, np.inf))

    def size(
        ok_fn: Callable[[FloatArray], npt.NDArray[np.bool_]], cap_rate: FloatArray, cfg: AutoscalerConfig
    ) -> npt.NDArray[np.int64]:
        cap_r = float(cfg.max_replicas if cfg.max_replicas is not None else cfg.pool_replicas)
        util_r = np.maximum(np.ceil(lam / (cap_rate * cfg.target_utilization_frac) - 1e-9), (lam > 0) * 1.0)
        util_r = np.minimum(util_r, cap_r)
        if cfg.policy != "slo":
            return np.asarray(util_r, dtype=np.int64)
        lo = np.maximum(np.ceil(lam / cap_rate - 1e-9) - 1.0, 0.0)
        hi = np.maximum(util_r, lo + 1.0)
        for _ in range(40):
            good = ok_fn(hi)
            if np.all(good | (hi >= cap_r)):
                break
            hi = np.where(good, hi, np.minimum(hi * 2.0, cap_r))
        while True:
            active = hi - lo > 1
            if not np.any(active):
                break
            mid = np.floor((lo + hi) / 2.0)
            good = ok_fn(np.maximum(mid, 1.0))
            hi = np.where(active & good, mid, hi)
            lo = np.where(active & ~good, mid, lo)
        capped[id(cfg)] = int(np.sum((lam > 0) & ~ok_fn(np.maximum(hi, 1.0))))
        return np.asarray(np.where(lam > 0, np.maximum(hi, util_r), 0.0), dtype=np.int64)

    capped: dict[int, int] = {}

    def ok_p(R: FloatArray) -> npt.NDArray[np.bool_]:
        S, pw, theta, shift = prefill_state(R, lam)
        return np.asarray(_ttft_cdf(slo.ttft_s, S, w, pw, theta, shift) >= slo.quantile)

    def ok_d(R: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray(decode_tpot(R, lam, z) <= slo.tpot_s)

    want_p = size(ok_p, mu_p * sp, cfg_p)
    want_d = size(ok_d, mu_d * sd, cfg_d)
    for pool_name, cfg_x in (("prefill", cfg_p), ("decode", cfg_d)):
        n_capped = capped.get(id(cfg_x), 0)
        if label is not None and n_capped > 0:
            _warn(
                f"{label}: the {pool_name} pool misses the SLO at its cap of {cfg_x.max_replicas} replicas in "
                f"{n_capped} of {lam.size} steps (unreachable at any count, or the cap binds); raise "
                "autoscaling.max_replicas, the pool or the SLO target"
            )
    Rp, pend_p = autoscale_replicas(want_p, step_s, cfg_p)
    Rd, pend_d = autoscale_replicas(want_d, step_s, cfg_d)
    Rpf, Rdf = Rp.astype(float), Rd.astype(float)
    cap = np.minimum(Rpf * mu_p * sp * 0.999, Rdf * mu_d * sd)
    served = np.minimum(lam, cap)
    dropped = lam - served
    S, pw, theta, shift = prefill_state(Rpf, served)
    ttft50 = _ttft_quantiles(0.5, S, w, pw, theta, shift)
    ttft99 = _ttft_quantiles(0.99, S, w, pw, theta, shift)
    tpot50 = decode_tpot(Rdf, served, 0.0)
    tpot99 = decode_tpot(Rdf, served, float(special.ndtri(0.99)))
    p_ttft = _ttft_cdf(slo.ttft_s, S, w, pw, theta, shift)
    t_sd = np.maximum(tpot99 - tpot50, 1e-12) / float(special.ndtri(0.99))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_tpot = np.where(np.isfinite(tpot50), special.ndtr((slo.tpot_s - tpot50) / t_sd), 0.0)
        attain = np.where(lam > 0, (served / np.where(lam > 0, lam, 1.0)) * p_ttft * p_tpot, 1.0)
        util = np.where(cap > 0, served / cap, np.where(lam > 0, 1.0, 0.0))
    idle = served <= 0
    for arr in (ttft50, ttft99, tpot50, tpot99):
        arr[idle] = np.nan
    gp, gd = float(perf.prefill.gpus_per_replica), float(perf.decode.gpus_per_replica)
    rho_p = np.where(Rpf > 0, served / np.maximum(Rpf * mu_p * sp, 1e-300), 0.0)
    B = np.interp(np.clip(served / np.maximum(Rdf, 1.0) / sd, 0.0, lam_g[-1]), lam_g, B_g)
    prefill_g = Rpf * gp * np.clip(rho_p, 0.0, 1.0)
    decode_g = Rdf * gd * np.where(Rdf > 0, 1.0 - np.exp(-B), 0.0)
    gpus = (Rpf + pend_p) * gp + (Rdf + pend_d) * gd
    frame = _service_frame(
        step_s,
        tokens,
        lam,
        served,
        dropped,
        Rp + Rd,
        pend_p + pend_d,
        {"prefill_replicas": Rp, "decode_replicas": Rd},
        util,
        (ttft50, ttft99, tpot50, tpot99),
        attain,
        prefill_g,
        decode_g,
        gpus,
    )
    frame["prefill_pool_gpus"] = (Rpf + pend_p) * gp
    if prefill_power_w is not None and decode_power_w is not None:
        idle_p = (Rpf + pend_p) * gp - prefill_g
        idle_d = (Rdf + pend_d) * gd - decode_g
        frame["gpu_power_w"] = (
            prefill_g * prefill_power_w["prefill"]
            + idle_p * prefill_power_w["idle"]
            + decode_g * decode_power_w["decode"]
            + idle_d * decode_power_w["idle"]
        )
    return FleetResult(frame, _summary(frame, step_s, slo))
