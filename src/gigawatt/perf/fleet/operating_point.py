"""Fleet mode, part 1: a replica's operating point and its throughput curve.

Iterations of a replica receiving ``λ`` requests/s are of two kinds: those carrying a prefill chunk (a
``P``-token prompt needs :math:`n_{ch} = \\lceil P/(M - B) \\rceil` of them, duration
:math:`t_{chunk}(P, B)` from the iteration roofline :func:`gigawatt.perf.roofline.roofline_time_s`) and
decode-only ones (:math:`t_{dec}(B)`). With :math:`u = λ E[n_{ch} t_{chunk}]` the share of time in the former,

.. math::

    N = λ E[n_{ch}] + (1 - u)/t_{dec}(B), \\qquad B = λ (\\bar O - 1) / N

(iterations per second; Little's law for the decode batch), solved by fixed-point iteration over prompt-length
quadrature nodes, once per service on a grid of rates (:func:`replica_curve`) and interpolated per step.
Mean TPOT is :math:`1/N`. The capacity :math:`μ` is the largest ``λ`` with :math:`u < 1`,
:math:`B ≤` ``max_batch_seqs`` and the KV reservation (prompt + output per sequence) within capacity.

References
----------
.. [1] Patel, P. et al. (2024). Splitwise. ISCA '24 (phase power, Azure traces).
.. [2] Agrawal, A. et al. (2024). Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve.
   OSDI '24 (chunked prefill with a token budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from gigawatt.perf.roofline import IterationCoefficients, roofline_time_s

__all__ = [
    "ReplicaPerf",
    "TokenStats",
    "prefill_time_idle_s",
    "replica_capacity_per_s",
    "replica_curve",
    "replica_operating_point",
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

    coeffs: IterationCoefficients
    kv_capacity_tokens: int
    max_batch_tokens: int = 8192
    max_batch_seqs: int = 256
    gpus_per_replica: int = 1


def _iter_t(c: IterationCoefficients, n: FloatArray, kv: FloatArray, pairs: FloatArray) -> FloatArray:
    """Iteration time [s] of ``n`` new tokens, ``kv`` cached tokens read, ``pairs`` attended (the roofline)."""
    return np.asarray(roofline_time_s(c.packed(), n, kv, pairs))


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
