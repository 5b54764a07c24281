"""Fleet mode, part 4a: a colocated service (prefill and decode on the same replicas).

:func:`simulate_fleet` sizes the replicas per step (:mod:`~gigawatt.perf.fleet.autoscaler`), serves the demand
(demand above capacity is dropped, ``overload="drop"``, or carried as a backlog that adds waiting time and is
dropped after ``max_queue_s``, ``overload="queue"``) and evaluates latency, SLO attainment and the GPUs' phase
occupancy (:func:`evaluate_fleet`, also used by the engine to re-evaluate with the throttling in force).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

from gigawatt.jit import tiered
from gigawatt.perf.fleet.autoscaler import (
    AutoscalerConfig,
    _desired_replicas,
    _look_ahead,
    _SizingInputs,
    _warn,
    autoscale_replicas,
    economical_max_replicas,
)
from gigawatt.perf.fleet.latency import (
    SLO,
    LatencyDistribution,
    _latency,
    _ServiceModel,
    _tpot_prob_within,
    _tpot_quantile,
    _ttft_cdf,
    _ttft_quantiles,
    slo_ceiling,
)
from gigawatt.perf.fleet.operating_point import ReplicaPerf, TokenStats, _Curve, replica_curve

__all__ = ["FleetResult", "evaluate_fleet", "simulate_fleet"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FleetResult:
    """Per-step fleet outputs (``frame``: DataFrame indexed by step start [s]) and KPIs (``summary``).

    ``diagnostics`` (sizing runs only): ``max_replicas`` (the cap used), ``slo_reachable`` (whether any
    replica count meets the SLO quantiles, :func:`~gigawatt.perf.fleet.latency.slo_ceiling`), ``capped_steps``
    (steps where the SLO or utilisation target needed more replicas than the cap), ``knee_steps`` (steps sized
    at the attainment knee because no count up to the cap meets the SLO).
    """

    frame: pd.DataFrame
    summary: pd.Series
    diagnostics: dict[str, float | int | bool] = field(default_factory=dict)
    latency: LatencyDistribution | None = None
    """The per-step TTFT/TPOT distributions behind ``frame``'s quantiles (colocated fleets; ``None`` for
    disaggregated ones), for quantiles of several fleets together
    (:func:`~gigawatt.perf.fleet.latency.mixture_quantile`)."""


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
        Router of the request-level model being approximated (see :mod:`~gigawatt.perf.fleet.latency`).
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
        (also logged on the ``gigawatt`` logger) when no replica count meets the SLO
        (:func:`~gigawatt.perf.fleet.latency.slo_ceiling`), or when the cap
        (:func:`~gigawatt.perf.fleet.autoscaler.economical_max_replicas`) stops the autoscaler below what the
        SLO or the utilisation target needs.

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
    sizing = _SizingInputs(
        _ServiceModel(curve, tokens, router), slo, cfg, speed, reachable=bool(ceiling["reachable"])
    )
    desired = _desired_replicas(sizing, lam, stats)
    delay = int(np.ceil(cfg.scale_up_delay_s / step_s - 1e-9))
    if cfg.scale_up != "reactive" and cfg.policy != "fixed" and delay > 0:
        if cfg.scale_up == "predictive":
            fc = lam if forecast_rps is None else np.asarray(forecast_rps, dtype=np.float64)
            if fc.shape != lam.shape or np.any(~np.isfinite(fc)) or np.any(fc < 0):
                raise ValueError("forecast_rps: must have one finite rate >= 0 per step [1/s]")
            want = desired if forecast_rps is None else _desired_replicas(sizing, fc)
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
    return FleetResult(res.frame, res.summary, diag, latency=res.latency)


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
    lat = _latency(_ServiceModel(curve, tokens, router), served, R, speed, backlog_wait)
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
    steps = _ServiceSteps(
        demand_rps=lam,
        served_rps=served,
        dropped_rps=dropped,
        replicas=ready,
        replicas_starting=pending,
        utilization_frac=util,
        ttft_p50_s=ttft50,
        ttft_p99_s=ttft99,
        tpot_p50_s=tpot50,
        tpot_p99_s=tpot99,
        slo_attainment_frac=attain,
        prefill_gpus=prefill_g,
        decode_gpus=decode_g,
        gpus=gpus,
    )
    frame = _service_frame(step_s, tokens, steps)
    if phase_power_w is not None:
        frame["gpu_power_w"] = (
            prefill_g * phase_power_w["prefill"]
            + decode_g * phase_power_w["decode"]
            + idle_g * phase_power_w["idle"]
        )
    return FleetResult(
        frame, _summary(frame, step_s, slo), latency=LatencyDistribution.of(lat, curve, tokens, speed)
    )


@dataclass(frozen=True)
class _ServiceSteps:
    """Per-step outputs of one service, colocated or disaggregated (arrays of one value per step).

    ``replica_split`` adds per-pool replica columns after ``replicas_starting`` (disaggregated services).
    """

    demand_rps: FloatArray
    served_rps: FloatArray
    dropped_rps: FloatArray
    replicas: npt.NDArray[np.int64]
    replicas_starting: npt.NDArray[np.int64]
    utilization_frac: FloatArray
    ttft_p50_s: FloatArray
    ttft_p99_s: FloatArray
    tpot_p50_s: FloatArray
    tpot_p99_s: FloatArray
    slo_attainment_frac: FloatArray
    prefill_gpus: FloatArray
    decode_gpus: FloatArray
    gpus: FloatArray
    replica_split: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)


def _service_frame(step_s: float, tokens: TokenStats, st: _ServiceSteps) -> pd.DataFrame:
    """The per-step fleet-mode table shared by colocated and disaggregated services (index ``time_s``)."""
    return pd.DataFrame(
        {
            "demand_rps": st.demand_rps,
            "served_rps": st.served_rps,
            "dropped_rps": st.dropped_rps,
            "replicas": st.replicas,
            "replicas_starting": st.replicas_starting,
            **st.replica_split,
            "utilization_frac": st.utilization_frac,
            "ttft_p50_s": st.ttft_p50_s,
            "ttft_p99_s": st.ttft_p99_s,
            "tpot_p50_s": st.tpot_p50_s,
            "tpot_p99_s": st.tpot_p99_s,
            "slo_attainment_frac": st.slo_attainment_frac,
            "tokens_per_s": st.served_rps * tokens.mean_output_tokens,
            "prompt_tokens_per_s": st.served_rps * tokens.mean_prompt_tokens,
            "prefill_gpus": st.prefill_gpus,
            "decode_gpus": st.decode_gpus,
            "idle_gpus": st.gpus - st.prefill_gpus - st.decode_gpus,
            "gpus": st.gpus,
        },
        index=pd.Index(np.arange(st.demand_rps.size) * step_s, name="time_s"),
    )


def _serve(
    lam: FloatArray, cap: FloatArray, step_s: float, overload: str, max_queue_s: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    if overload == "drop":
        served = np.minimum(lam, cap)
        return served, lam - served, np.zeros_like(lam)
    return _serve_queue(lam, cap, step_s, max_queue_s)


#: Tiered (:mod:`gigawatt.jit`): interpreted up to ~300,000 steps (~2 µs each vs ~0.6 s to compile; an estimate).
@tiered(work=lambda lam, *_: lam.shape[0], budget=300_000)
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
