"""Fleet mode, part 3: the autoscaler (desired replicas per step and the replica-state recurrence).

Desired replicas per step = the fewest meeting the SLO quantiles *and* the target utilisation
(``policy="slo"``), or only the target utilisation (``policy="utilization"``); clipped to
``[min_replicas, max_replicas]``, where ``max_replicas`` defaults to the economical cap
(:func:`economical_max_replicas`: peak demand carried at ``min_utilization_frac``). Where no count up to the
cap meets the SLO (it may be unreachable at any count, :func:`~gigawatt.perf.fleet.latency.slo_ceiling`), the
step is sized at the attainment knee: the fewest replicas for which doubling would add less than
:data:`KNEE_ATTAINMENT_GAIN_PER_DOUBLING` of attainment; both cases warn
(:class:`~gigawatt.errors.GigawattWarning` and the ``gigawatt`` logger). ``scale_up="predictive"`` /
``"scheduled"`` order replicas one scale-up delay ahead of a forecast / of last week's need at the same time.
Scale-up takes ``scale_up_delay_s`` (provisioning + cold start: weights loaded; the replicas hold GPUs but serve
nothing), rounded up to whole steps; scale-down happens only to the largest desired value of the last
``scale_down_cooldown_s`` (a stabilisation window as in Kubernetes' HPA [1]_). The state recurrence is a numba
kernel (:func:`autoscale_replicas`).

References
----------
.. [1] Kubernetes documentation: Horizontal Pod Autoscaler, "stabilizationWindowSeconds" (default 300 s
   for scale-down).
.. [2] Barroso, L. A., Hölzle, U. (2007). The Case for Energy-Proportional Computing. IEEE Computer 40(12).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from numba import njit

from gigawatt.errors import GigawattWarning
from gigawatt.perf.fleet.latency import (
    SLO,
    _latency,
    _ServiceModel,
    _tpot_prob_within,
    _tpot_quantile,
    _ttft_cdf,
)

__all__ = [
    "KNEE_ATTAINMENT_GAIN_PER_DOUBLING",
    "AutoscalerConfig",
    "autoscale_replicas",
    "economical_max_replicas",
]

FloatArray = npt.NDArray[np.float64]


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


#: Economical stop when the SLO cannot be met: the fewest replicas ``R`` for which doubling to ``2R``
#: would raise the predicted SLO attainment by less than this (absolute) share of requests. Doubling the
#: fleet doubles its cost; a gain below one per cent of requests is not bought (a gigawatt design choice).
KNEE_ATTAINMENT_GAIN_PER_DOUBLING: Final = 0.01

_log = logging.getLogger("gigawatt")


def _warn(message: str) -> None:
    """A planner-facing warning: :class:`~gigawatt.errors.GigawattWarning` and the ``gigawatt`` logger."""
    _log.warning(message)
    warnings.warn(message, GigawattWarning, stacklevel=3)


def _look_ahead(desired: npt.NDArray[np.int64], steps: int) -> npt.NDArray[np.int64]:
    """``max(desired[k .. k + steps])`` per step (the need when replicas ordered now become ready)."""
    if steps <= 0 or desired.size == 0:
        return desired
    pad = np.concatenate([desired, np.full(steps, desired[-1])])
    win = np.lib.stride_tricks.sliding_window_view(pad, steps + 1)
    return np.asarray(win.max(axis=1), dtype=np.int64)


@dataclass(frozen=True)
class _SizingInputs:
    """What the autoscaler's sizing search needs besides the demand (one colocated service).

    ``cfg.max_replicas`` is already resolved to an integer cap; ``speed`` is the throughput factor per step;
    ``reachable=False`` (the SLO is unreachable at any count, :func:`~gigawatt.perf.fleet.latency.slo_ceiling`)
    skips the search for an SLO-meeting count.
    """

    model: _ServiceModel
    slo: SLO
    cfg: AutoscalerConfig
    speed: FloatArray
    reachable: bool = True


def _desired_replicas(
    sizing: _SizingInputs, lam: FloatArray, stats: dict[str, int] | None = None
) -> npt.NDArray[np.int64]:
    """Desired replicas per step for demand ``lam`` [1/s], ``<= sizing.cfg.max_replicas``.

    ``stats`` (if given) receives ``capped_steps`` and ``knee_steps``.
    """
    model, slo, cfg, speed, reachable = sizing.model, sizing.slo, sizing.cfg, sizing.speed, sizing.reachable
    curve, ts = model.curve, model.tokens
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
        lat = _latency(model, lam[idx], R, speed[idx], zero[idx])
        p_ttft = _ttft_cdf(slo.ttft_s, lat.S, ts.prompt_weights, lat.pw, lat.theta, lat.shift)
        tpot_q = _tpot_quantile(slo.quantile, lat, curve, ts, speed[idx])
        return np.asarray(lat.stable & (p_ttft >= slo.quantile) & (tpot_q <= slo.tpot_s))

    def attainment(R: FloatArray, idx: npt.NDArray[np.int64]) -> FloatArray:
        sp = speed[idx]
        served = np.minimum(lam[idx], R * curve.lam[-1] * sp)
        lat = _latency(model, served, R, sp, zero[idx])
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
