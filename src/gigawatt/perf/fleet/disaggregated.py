"""Fleet mode, part 4b: prefill/decode disaggregation (separate prefill and decode pools, KV shipped between).

References
----------
.. [1] Patel, P. et al. (2024). Splitwise: Efficient Generative LLM Inference Using Phase Splitting. ISCA '24.
.. [2] Zhong, Y. et al. (2024). DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large
   Language Model Serving. OSDI '24.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import special

from gigawatt.perf.fleet.autoscaler import (
    AutoscalerConfig,
    _warn,
    autoscale_replicas,
    economical_max_replicas,
)
from gigawatt.perf.fleet.colocated import FleetResult, _service_frame, _ServiceSteps, _summary
from gigawatt.perf.fleet.latency import SLO, _ttft_cdf, _ttft_quantiles
from gigawatt.perf.fleet.operating_point import ReplicaPerf, TokenStats, _iter_t, prefill_time_idle_s
from gigawatt.perf.queueing import erlang_c

__all__ = ["DisaggregatedPerf", "simulate_disaggregated_fleet"]

FloatArray = npt.NDArray[np.float64]


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
    :func:`~gigawatt.perf.fleet.colocated.simulate_fleet` plus ``prefill_replicas`` and ``decode_replicas``
    (``replicas`` is their sum; ``gpus`` counts both pools). Each pool is capped like
    :func:`~gigawatt.perf.fleet.colocated.simulate_fleet` (explicit ``max_replicas`` or the economical cap); a
    pool that misses its SLO share at its cap warns (:class:`GigawattWarning`, the ``gigawatt`` logger) unless
    ``label`` is None (re-evaluations).

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
    S1 = prefill_time_idle_s(tokens.prompt_nodes, perf.prefill)  # own prefill on an idle replica [s]
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
    steps = _ServiceSteps(
        demand_rps=lam,
        served_rps=served,
        dropped_rps=dropped,
        replicas=Rp + Rd,
        replicas_starting=pend_p + pend_d,
        utilization_frac=util,
        ttft_p50_s=ttft50,
        ttft_p99_s=ttft99,
        tpot_p50_s=tpot50,
        tpot_p99_s=tpot99,
        slo_attainment_frac=attain,
        prefill_gpus=prefill_g,
        decode_gpus=decode_g,
        gpus=gpus,
        replica_split={"prefill_replicas": Rp, "decode_replicas": Rd},
    )
    frame = _service_frame(step_s, tokens, steps)
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
