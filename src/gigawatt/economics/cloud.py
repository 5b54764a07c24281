"""Own vs cloud vs hybrid: break-even utilisation, the same workload run in the cloud, bursts above owned capacity.

Everything is read from a Result and its :class:`~gigawatt.economics.CostReport`, except training on spot:
:func:`spot_training_overhead` re-simulates the scenario with spot reclaims as a failure class of the training
reliability model (through :func:`gigawatt.simulate` on ``Scenario.updated``), and
:func:`spot_overhead_factor` is its first-order fast path. Equations: ``docs/models/economics.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gigawatt.economics.catalog import cloud_prices, cloud_providers
from gigawatt.economics.opex import workload_halls
from gigawatt.economics.report import HOURS_PER_YEAR, CostReport, costs, resolve_economics
from gigawatt.engine.core import simulate
from gigawatt.errors import GigawattWarning
from gigawatt.perf.reliability import DEFAULT_SPOT_NOTICE_S

if TYPE_CHECKING:
    from gigawatt.result import Result
    from gigawatt.scenario.economics import Economics

__all__ = [
    "GPUS_PER_INSTANCE",
    "SPOT_RESTART_H",
    "break_even_table",
    "break_even_utilization",
    "cloud_offer",
    "cloud_workload_costs",
    "hybrid",
    "spot_overhead_factor",
    "spot_training_overhead",
]

#: Time to re-acquire capacity and restart a job or replica after a spot reclaim [h] (gigawatt estimate: new
#: instance, container start and checkpoint/weights load, ~10 min).
SPOT_RESTART_H = 10.0 / 60.0
#: GPUs per cloud instance, the unit a spot interruption takes away (8-GPU instances; estimate for NVL72).
GPUS_PER_INSTANCE = 8
_COMMIT = ("commit_1y", "commit_3y")


def break_even_utilization(
    fixed_usd_per_gpu_year: float | np.ndarray,
    variable_usd_per_busy_gpu_hour: float | np.ndarray,
    cloud_usd_per_gpu_hour: float | np.ndarray,
) -> np.ndarray:
    """Utilisation above which owning is cheaper than renting by the hour [0-1; may exceed 1].

    Owning costs ``F + v u 8760`` per GPU and year (fixed ``F``: annualised capex and fixed opex; variable
    ``v``: energy, water and parts per busy GPU-hour); renting on demand costs ``p u 8760``. They are equal at

    ``u* = F / (8760 (p − v))``;  ``inf`` when ``p ≤ v`` (renting is always cheaper). ``u* > 1``: owning
    never pays at this price.
    """
    f = np.asarray(fixed_usd_per_gpu_year, dtype=float)
    v = np.asarray(variable_usd_per_busy_gpu_hour, dtype=float)
    p = np.asarray(cloud_usd_per_gpu_hour, dtype=float)
    margin = p - v
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(margin > 0, f / (HOURS_PER_YEAR * np.where(margin > 0, margin, 1.0)), np.inf)
    return np.asarray(u, dtype=float)


def spot_overhead_factor(
    n_gpus: float | np.ndarray,
    interruption_rate_per_hour: float | np.ndarray,
    checkpoint_interval_h: float | np.ndarray,
    restart_h: float = SPOT_RESTART_H,
) -> np.ndarray:
    """GPU-hours on spot per GPU-hour of uninterrupted work (≥ 1; ``inf`` when the job cannot progress).

    Spot reclaims act as extra failures: a job on ``n`` GPUs is interrupted at ``λ = λ_inst · n / 8`` per hour
    and each interruption loses half a checkpoint interval plus a restart, ``ℓ = τ/2 + R``. The wall time of
    a renewal process with these losses is ``1 / (1 − λ ℓ)`` times the work (first order, Young 1974).

    This is the fast path of :func:`spot_training_overhead` (the engine re-simulated with reclaims as
    failures); at the same checkpoint interval and ``λℓ`` = 0.067 the two agree within 1 %
    (``tests/economics/test_cloud.py``); the engine re-optimises the interval for reclaims and so gives less
    overhead where first order keeps a long one (see ``docs/models/economics.md``).
    """
    lam = (
        np.asarray(interruption_rate_per_hour, dtype=float)
        * np.maximum(np.asarray(n_gpus, dtype=float), 1.0)
        / GPUS_PER_INSTANCE
    )
    loss = np.asarray(checkpoint_interval_h, dtype=float) / 2.0 + restart_h
    x = lam * loss
    with np.errstate(divide="ignore"):
        return np.where(x < 1.0, 1.0 / np.where(x < 1.0, 1.0 - x, 1.0), np.inf)


def spot_training_overhead(
    result: Result,
    interruption_rate_per_hour: float | Mapping[str, float],
    *,
    restart_h: float = SPOT_RESTART_H,
    notice_s: float = DEFAULT_SPOT_NOTICE_S,
    emergency_checkpoint: bool = False,
) -> pd.DataFrame:
    """Training jobs on spot, re-simulated by the engine with reclaims as failures, against first order.

    The scenario of ``result`` is updated by dotted path (``workloads[i].reliability.spot``: reclaims at
    ``λ_inst / 8`` per GPU-hour, the notice, and a replacement delay ``R − restart_s`` so that a reclaim
    costs the same ``R = restart_h`` of downtime as in the first-order formula) and simulated again with the
    same seed; nothing else changes. Jobs left on their default checkpoint interval get Daly's optimum for
    failures plus reclaims in the re-run (the operator shortens the interval on spot).

    Per job, the engine's overhead is the ratio of GPU-hours per useful GPU-hour, spot run over owned run,

    ``f_engine = (G_spot / U_spot) / (G / U)``,

    which stays right when a job does not finish within the horizon; the first-order factor is
    :func:`spot_overhead_factor` with the owned run's checkpoint interval. Jobs that do useful work in the
    owned run but never start in the re-run take the first-order factor; ``inf`` when a job runs on spot
    without progress.

    Parameters
    ----------
    result : Result
        The owned run.
    interruption_rate_per_hour : float or mapping
        Spot reclaims per 8-GPU instance and hour, for every training workload or by workload name (workloads
        left out or at 0 are not re-simulated on spot).
    restart_h : float
        Downtime per reclaim: new instance + restart [h] (default :data:`SPOT_RESTART_H`, estimate).
    notice_s : float
        Notice before a reclaim [s] (AWS: 120 s).
    emergency_checkpoint : bool
        Checkpoint within the notice when the write fits (no lost work then).

    Returns
    -------
    pandas.DataFrame
        One row per job: ``workload``, ``job``, ``n_gpus``, ``interruption_rate_per_hour``,
        ``checkpoint_interval_s`` and ``spot_checkpoint_interval_s``, ``gpu_hours`` and ``useful_gpu_hours``
        (owned run), ``spot_gpu_hours`` and ``spot_useful_gpu_hours`` (re-run), ``n_reclaims``,
        ``engine_factor``, ``first_order_factor``.
    """
    sc = result.scenario
    names = [w.name for w in sc.workloads if w.kind == "training"]
    if isinstance(interruption_rate_per_hour, Mapping):
        rates = {n: float(interruption_rate_per_hour.get(n, 0.0)) for n in names}
    else:
        rates = dict.fromkeys(names, float(interruption_rate_per_hour))
    rates = {n: lam for n, lam in rates.items() if lam > 0}
    cols = ["workload", "job", "n_gpus", "interruption_rate_per_hour", "checkpoint_interval_s",
            "spot_checkpoint_interval_s", "gpu_hours", "useful_gpu_hours", "spot_gpu_hours",
            "spot_useful_gpu_hours", "n_reclaims", "engine_factor", "first_order_factor"]  # fmt: skip
    if not rates or result.jobs is None or not len(result.jobs):
        return pd.DataFrame(columns=cols)
    updates: dict[str, Any] = {}
    for i, w in enumerate(sc.workloads):
        if w.name in rates:
            delay_s = max(restart_h * 3600.0 - w.reliability.restart_s, 0.0)  # type: ignore[union-attr]
            updates[f"workloads[{i}].reliability.spot"] = {
                "reclaims_per_gpu_hour": rates[w.name] / GPUS_PER_INSTANCE,
                "notice_s": notice_s,
                "emergency_checkpoint": emergency_checkpoint,
                "replacement_delay_s": delay_s,
            }
    with warnings.catch_warnings():  # the owned run has already told the user about its facility
        warnings.simplefilter("ignore", GigawattWarning)
        spot = simulate(sc.updated(updates), seed=result.seed)
    base = result.jobs[result.jobs["workload"].isin(list(rates))].set_index(["workload", "job"])
    sj = spot.jobs if spot.jobs is not None else pd.DataFrame(columns=base.reset_index().columns)
    re = sj.set_index(["workload", "job"]).reindex(base.index)
    g, u = base["gpu_hours"].to_numpy(dtype=float), base["useful_gpu_hours"].to_numpy(dtype=float)
    gs = np.nan_to_num(re["gpu_hours"].to_numpy(dtype=float), nan=0.0)
    us = np.nan_to_num(re["useful_gpu_hours"].to_numpy(dtype=float), nan=0.0)
    lam = np.array([rates[w] for w in base.index.get_level_values("workload")])
    tau_h = np.nan_to_num(base["checkpoint_interval_s"].to_numpy(dtype=float), nan=3600.0) / 3600.0
    first = spot_overhead_factor(base["n_gpus"].to_numpy(dtype=float), lam, tau_h)
    with np.errstate(divide="ignore", invalid="ignore"):
        eng = np.where(
            (u > 0) & (g > 0) & (us > 0),
            (gs / np.where(us > 0, us, 1.0)) / (g / np.where(u > 0, u, 1.0)),
            np.where(u <= 0, 1.0, np.where(gs > 0, np.inf, first)),
        )
    n_rec = (
        re["n_interruptions_spot"].to_numpy(dtype=float)
        if "n_interruptions_spot" in re.columns
        else np.zeros(len(re))
    )
    out = pd.DataFrame(
        {
            "workload": base.index.get_level_values("workload"),
            "job": base.index.get_level_values("job"),
            "n_gpus": base["n_gpus"].to_numpy(),
            "interruption_rate_per_hour": lam,
            "checkpoint_interval_s": base["checkpoint_interval_s"].to_numpy(dtype=float),
            "spot_checkpoint_interval_s": re["checkpoint_interval_s"].to_numpy(dtype=float),
            "gpu_hours": g,
            "useful_gpu_hours": u,
            "spot_gpu_hours": gs,
            "spot_useful_gpu_hours": us,
            "n_reclaims": np.nan_to_num(n_rec, nan=0.0),
            "engine_factor": eng,
            "first_order_factor": first,
        }
    )
    return out[cols]


def cloud_offer(
    accelerator: str, provider: str, pricing: str, usd_per_gpu_hour: float | None = None
) -> dict[str, Any] | None:
    """The catalog row for ``(provider, accelerator, pricing)`` (price overridable), or ``None``."""
    p = cloud_prices()
    sel = p[(p["provider"] == provider) & (p["accelerator"] == accelerator) & (p["pricing"] == pricing)]
    if usd_per_gpu_hour is not None:
        rate = float(sel["interruption_rate_per_hour"].iloc[0]) if len(sel) else 0.0
        return {
            "provider": provider,
            "accelerator": accelerator,
            "pricing": pricing,
            "usd_per_gpu_hour": usd_per_gpu_hour,
            "interruption_rate_per_hour": rate,
            "price_date": "user-supplied",
            "is_estimate": False,
            "source": "user-supplied",
        }
    if not len(sel):
        return None
    return {str(k): v for k, v in sel.iloc[0].to_dict().items()}


def _report(
    result: Result, report: CostReport | None, prices: Economics | Mapping[str, Any] | None
) -> CostReport:
    return report if report is not None else costs(result, prices)


def break_even_table(
    result: Result,
    report: CostReport | None = None,
    offers: pd.DataFrame | None = None,
    prices: Economics | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Own vs rent per hall and cloud offer of the same accelerator.

    Columns: ``hall``, ``accelerator``, ``provider``, ``pricing``, ``cloud_usd_per_gpu_hour``, ``price_date``,
    ``fixed_usd_per_gpu_year``, ``variable_usd_per_busy_gpu_hour``, ``utilization_frac`` (simulated),
    ``own_usd_per_busy_gpu_hour`` (simulated), ``break_even_utilization_frac`` (pay-per-use offers only:
    :func:`break_even_utilization`; ``nan`` for commitments, which are paid for every hour), ``cheaper``
    (``own`` or ``cloud`` at the simulated utilisation: ``F + v u 8760`` against ``p u 8760`` pay-per-use or
    ``p 8760`` committed).
    """
    rep = _report(result, report, prices)
    offers = cloud_prices() if offers is None else offers
    rows = []
    for _, h in rep.halls.iterrows():
        u = h["busy_gpu_hours_per_year"] / h["gpu_hours_per_year"]
        f, v = float(h["fixed_usd_per_gpu_year"]), float(h["variable_usd_per_busy_gpu_hour"])
        own_busy = float(h["tco_usd_per_busy_gpu_hour"])
        for _, o in offers[offers["accelerator"] == h["accelerators"]].iterrows():
            p = float(o["usd_per_gpu_hour"])
            if o["pricing"] in _COMMIT:  # paid for every hour: no break-even utilisation
                be = math.nan
                cloud_year = p * HOURS_PER_YEAR
            else:
                be = float(break_even_utilization(f, v, p))
                cloud_year = p * u * HOURS_PER_YEAR
            own_year = f + v * u * HOURS_PER_YEAR
            rows.append(
                {
                    "hall": h["hall"],
                    "accelerator": h["accelerators"],
                    "provider": o["provider"],
                    "pricing": o["pricing"],
                    "cloud_usd_per_gpu_hour": p,
                    "price_date": o.get("price_date", ""),
                    "fixed_usd_per_gpu_year": f,
                    "variable_usd_per_busy_gpu_hour": v,
                    "utilization_frac": u,
                    "own_usd_per_busy_gpu_hour": own_busy,
                    "break_even_utilization_frac": be,
                    "cheaper": "own" if own_year < cloud_year else "cloud",
                }
            )
    return pd.DataFrame(rows)


def _queue_wait_h(jobs: pd.DataFrame) -> np.ndarray:
    wait = (
        jobs["queue_wait_s"].to_numpy(dtype=float) if "queue_wait_s" in jobs.columns else np.zeros(len(jobs))
    )
    return np.nan_to_num(wait, nan=0.0) / 3600.0


def cloud_workload_costs(
    result: Result,
    report: CostReport | None = None,
    *,
    provider: str | None = None,
    pricing: str | None = None,
    usd_per_gpu_hour: float | None = None,
    interruption_rate_per_hour: float | None = None,
    prices: Economics | Mapping[str, Any] | None = None,
    spot_method: Literal["engine", "first_order"] = "engine",
) -> pd.DataFrame:
    """The simulated workload run entirely in the cloud, per workload, per year [USD/year].

    Training jobs: their simulated GPU-hours (wall time including failures, checkpoints and restarts, from
    the same engine) × the spot overhead factor on spot. ``spot_method="engine"`` (default) re-simulates the
    scenario once with reclaims as a failure class of the training workloads (:func:`spot_training_overhead`:
    restarts and lost work from the engine, checkpoint intervals re-optimised); ``"first_order"`` is the fast
    path ``1 / (1 − λℓ)`` (:func:`spot_overhead_factor`), no re-simulation. Inference services: their
    autoscaled GPU-hours (the same autoscaler).
    Other load (utilisation workloads): the hall's remaining busy GPU-hours. Pay-per-use offers bill the
    GPU-hours; commitments reserve the hall's peak busy GPUs for the whole year. ``usd_per_gpu_hour`` and
    ``interruption_rate_per_hour`` (spot reclaims per 8-GPU instance and hour) override the catalog. ``own_cost_usd_per_year``
    prices the same GPU-hours at the owned hall's cost per busy GPU-hour. ``expected_outage_gpu_hours_per_year``:
    GPU-hours the provider's outage process (``cloud_providers.csv``) is expected to take away.
    """
    rep = _report(result, report, prices)
    econ = rep_econ(result, prices)
    provider = provider or econ.cloud.provider
    pricing = pricing or econ.cloud.pricing
    usd = usd_per_gpu_hour if usd_per_gpu_hour is not None else econ.cloud.usd_per_gpu_hour
    per_year = HOURS_PER_YEAR / (len(result.timeseries) * result.step_h)
    wl_hall = workload_halls(result)
    rows: list[dict[str, Any]] = []
    n_h = len(rep.halls)
    if spot_method not in ("engine", "first_order"):
        raise ValueError(f"spot_method must be 'engine' or 'first_order', got {spot_method!r}")
    engine_factor: dict[tuple[str, str], float] = {}
    if spot_method == "engine" and result.jobs is not None and len(result.jobs):
        lam_of: dict[str, float] = {}
        for _, h in rep.halls.iterrows():
            lam_h = _spot_rate(h["accelerators"], provider, pricing, usd, interruption_rate_per_hour)
            for wl in result.jobs["workload"].unique():
                if wl_hall.get(str(wl)) == h["hall"] and lam_h > 0:
                    lam_of[str(wl)] = lam_h
        if lam_of:
            ov = spot_training_overhead(result, lam_of)
            engine_factor = {
                (str(w), str(j)): float(f)
                for w, j, f in zip(ov["workload"], ov["job"], ov["engine_factor"], strict=True)
            }
    for _, h in rep.halls.iterrows():
        key, acc = h["hall"], h["accelerators"]
        offer = cloud_offer(acc, provider, pricing, usd)
        p = float(offer["usd_per_gpu_hour"]) if offer else math.nan
        lam = _spot_rate(acc, provider, pricing, usd, interruption_rate_per_hour)
        own_rate = float(h["tco_usd_per_busy_gpu_hour"])
        hall_busy = float(h["busy_gpu_hours_per_year"])
        used = 0.0
        if result.jobs is not None and len(result.jobs):
            for wl, grp in result.jobs.groupby("workload"):
                if wl_hall.get(str(wl)) != key:
                    continue
                gh = grp["gpu_hours"].to_numpy(dtype=float) * per_year
                tau_h = np.nan_to_num(grp["checkpoint_interval_s"].to_numpy(dtype=float), nan=3600.0) / 3600.0
                if lam <= 0:
                    factor: Any = 1.0
                elif spot_method == "engine":
                    factor = np.array([engine_factor.get((str(wl), str(j)), 1.0) for j in grp["job"]])
                else:
                    factor = spot_overhead_factor(grp["n_gpus"].to_numpy(dtype=float), lam, tau_h)
                cloud_gh = float(np.sum(gh * factor))
                used += float(gh.sum())
                rows.append(
                    _cloud_row(str(wl), "training", key, acc, float(gh.sum()), cloud_gh, p, own_rate, offer)
                )
        if result.services is not None and len(result.services):
            for _, s in result.services.iterrows():
                if wl_hall.get(str(s["service"])) != key:
                    continue
                s_gh = float(s["gpu_hours"]) * per_year
                factor_s = float(spot_overhead_factor(GPUS_PER_INSTANCE, lam, 0.0)) if lam > 0 else 1.0
                used += s_gh
                rows.append(
                    _cloud_row(
                        str(s["service"]), "inference", key, acc, s_gh, s_gh * factor_s, p, own_rate, offer
                    )
                )
        other = max(hall_busy - used, 0.0)
        if other > 1e-9 * max(hall_busy, 1.0):
            util_names = [
                w.name
                for w in result.scenario.workloads
                if w.kind == "utilization" and wl_hall.get(w.name) == key
            ]
            name = ", ".join(util_names) or "other load"
            rows.append(_cloud_row(name, "utilization", key, acc, other, other, p, own_rate, offer))
        if pricing in _COMMIT:  # reserved capacity: peak busy GPUs all year, whatever the hourly use
            util = result.timeseries[f"{key}:gpu_utilization_frac" if n_h > 1 else "gpu_utilization_frac"]
            peak_gpus = float(util.max()) * float(h["n_gpus"])
            reserved = peak_gpus * HOURS_PER_YEAR
            hall_rows = [r for r in rows if r["hall"] == key]
            tot = sum(r["cloud_gpu_hours_per_year"] for r in hall_rows)
            for r in hall_rows:
                share = r["cloud_gpu_hours_per_year"] / tot if tot > 0 else 0.0
                r["cloud_gpu_hours_per_year"] = max(reserved * share, r["cloud_gpu_hours_per_year"])
                r["cloud_cost_usd_per_year"] = r["cloud_gpu_hours_per_year"] * p
    return pd.DataFrame(rows)


def _spot_rate(acc: str, provider: str, pricing: str, usd: float | None, override: float | None) -> float:
    """Spot reclaims per 8-GPU instance and hour of the offer (``override`` on spot), 0 without an offer."""
    offer = cloud_offer(acc, provider, pricing, usd)
    lam = float(offer["interruption_rate_per_hour"]) if offer else 0.0
    if override is not None and pricing == "spot":
        lam = override
    return lam


def rep_econ(result: Result, prices: Economics | Mapping[str, Any] | None) -> Economics:
    return resolve_economics(result, prices)


def _cloud_row(
    name: str,
    kind: str,
    hall: str,
    acc: str,
    gpu_hours: float,
    cloud_gh: float,
    p: float,
    own_rate: float,
    offer: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "workload": name,
        "kind": kind,
        "hall": hall,
        "accelerator": acc,
        "provider": offer["provider"] if offer else "",
        "pricing": offer["pricing"] if offer else "",
        "price_date": offer["price_date"] if offer else "",
        "gpu_hours_per_year": gpu_hours,
        "cloud_gpu_hours_per_year": cloud_gh,
        "cloud_usd_per_gpu_hour": p,
        "cloud_cost_usd_per_year": cloud_gh * p,
        "own_cost_usd_per_year": gpu_hours * own_rate,
        "expected_outage_gpu_hours_per_year": cloud_gh
        * _unavailable_frac(offer["provider"] if offer else ""),
    }


def _unavailable_frac(provider: str) -> float:
    """Expected unavailable share of a provider: outage rate x mean outage duration / 8760 h."""
    rec = _provider(provider)
    if rec is None:
        return 0.0
    return float(rec["outage_rate_per_year"]) * float(rec["mean_outage_h"]) / HOURS_PER_YEAR


def _provider(provider: str) -> dict[str, Any] | None:
    recs = cloud_providers().to_dict(orient="index")
    rec = recs.get(provider)
    return None if rec is None else {str(k): v for k, v in rec.items()}


def hybrid(
    result: Result,
    report: CostReport | None = None,
    *,
    provider: str | None = None,
    pricing: str | None = None,
    usd_per_gpu_hour: float | None = None,
    max_queue_wait_h: float = 1.0,
    prices: Economics | Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Owned capacity plus cloud bursts for the demand it could not serve.

    Bursts (first order: the owned schedule is not re-simulated):

    * inference: per step, the dropped demand at the service's simulated throughput per GPU,
      ``ΔGPU_t = dropped_rps_t · gpus_t / served_rps_t``, plus replicas a shared pool could not lend
      (``pool_shortfall_replicas × tensor_parallel``);
    * training: a job that waited longer than ``max_queue_wait_h`` for owned GPUs runs in the cloud instead
      (its simulated GPU-hours).

    Inference bursts are capped per step at the provider's ``capacity_gpus`` (``cloud_providers.csv``); the
    rest is reported as ``unserved_gpu_hours_per_year``.

    Returns
    -------
    rows : pandas.DataFrame
        Per burst source: ``workload``, ``kind``, ``hall``, ``accelerator``, ``cloud_gpu_hours_per_year``,
        ``cloud_usd_per_gpu_hour``, ``cloud_cost_usd_per_year``.
    summary : pandas.Series
        ``owned_gpu_hours_per_year`` (busy), ``cloud_gpu_hours_per_year``, ``cloud_share_frac``,
        ``owned_tco_usd_per_year``, ``cloud_cost_usd_per_year``, ``hybrid_cost_usd_per_year``,
        ``hybrid_usd_per_gpu_hour`` (per served GPU-hour), ``cloud_capacity_gpus``,
        ``unserved_gpu_hours_per_year``, ``expected_cloud_outage_gpu_hours_per_year``.
    """
    rep = _report(result, report, prices)
    econ = rep_econ(result, prices)
    provider = provider or econ.cloud.provider
    pricing = pricing or econ.cloud.pricing
    usd = usd_per_gpu_hour if usd_per_gpu_hour is not None else econ.cloud.usd_per_gpu_hour
    ts, dt_h = result.timeseries, result.step_h
    per_year = HOURS_PER_YEAR / (len(ts) * dt_h)
    wl_hall = workload_halls(result)
    acc_of = dict(zip(rep.halls["hall"], rep.halls["accelerators"], strict=True))
    rows: list[dict[str, Any]] = []
    prov = _provider(provider)
    cap_gpus = float(prov["capacity_gpus"]) if prov is not None else np.inf
    unserved = 0.0

    def price(acc: str) -> tuple[float, str]:
        offer = cloud_offer(acc, provider, pricing, usd)
        if offer is None:
            return math.nan, ""
        return float(offer["usd_per_gpu_hour"]), str(offer["price_date"])

    if result.services is not None:
        for _, s in result.services.iterrows():
            name = str(s["service"])
            served, dropped = ts.get(f"{name}:served_rps"), ts.get(f"{name}:dropped_rps")
            gpus = ts.get(f"{name}:gpus")
            if served is None or dropped is None or gpus is None:
                continue
            per_gpu = np.divide(
                served.to_numpy(), gpus.to_numpy(), out=np.zeros(len(ts)), where=gpus.to_numpy() > 0
            )
            burst = np.divide(dropped.to_numpy(), per_gpu, out=np.zeros(len(ts)), where=per_gpu > 0)
            short = ts.get(f"{name}:pool_shortfall_replicas")
            if short is not None:
                burst = burst + short.to_numpy() * float(s.get("tensor_parallel", 1))
            capped = np.minimum(burst, cap_gpus)
            unserved += float((burst - capped).sum() * dt_h) * per_year
            gh = float(capped.sum() * dt_h) * per_year
            hall = wl_hall.get(name, "")
            acc = str(s.get("accelerator", acc_of.get(hall, "")))
            p, date = price(acc)
            rows.append(_burst_row(name, "inference", hall, acc, gh, p, date))
    if result.jobs is not None and len(result.jobs):
        jobs = result.jobs
        late = _queue_wait_h(jobs) > max_queue_wait_h
        for wl, grp in jobs[late].groupby("workload"):
            hall = wl_hall.get(str(wl), "")
            acc = acc_of.get(hall, "")
            p, date = price(acc)
            gh = float(grp["gpu_hours"].sum()) * per_year
            rows.append(_burst_row(str(wl), "training", hall, acc, gh, p, date))
    df = pd.DataFrame(rows, columns=["workload", "kind", "hall", "accelerator", "cloud_gpu_hours_per_year",
                                     "cloud_usd_per_gpu_hour", "price_date", "cloud_cost_usd_per_year"])  # fmt: skip
    owned = float(rep.kpis["busy_gpu_hours_per_year"])
    if result.jobs is not None and len(result.jobs):
        late = _queue_wait_h(result.jobs) > max_queue_wait_h
        owned -= float(result.jobs.loc[late, "gpu_hours"].sum()) * per_year
    cloud_gh = float(df["cloud_gpu_hours_per_year"].sum())
    cloud_cost = float(df["cloud_cost_usd_per_year"].sum())
    tco = float(rep.kpis["tco_usd_per_year"])
    served_gh = owned + cloud_gh
    summary = pd.Series(
        {
            "owned_gpu_hours_per_year": owned,
            "cloud_gpu_hours_per_year": cloud_gh,
            "cloud_share_frac": cloud_gh / served_gh if served_gh > 0 else math.nan,
            "owned_tco_usd_per_year": tco,
            "cloud_cost_usd_per_year": cloud_cost,
            "hybrid_cost_usd_per_year": tco + cloud_cost,
            "hybrid_usd_per_gpu_hour": (tco + cloud_cost) / served_gh if served_gh > 0 else math.nan,
            "cloud_capacity_gpus": cap_gpus,
            "unserved_gpu_hours_per_year": unserved,
            "expected_cloud_outage_gpu_hours_per_year": cloud_gh * _unavailable_frac(provider),
        },
        dtype=float,
        name="value",
    )
    return df, summary


def _burst_row(name: str, kind: str, hall: str, acc: str, gh: float, p: float, date: str) -> dict[str, Any]:
    return {
        "workload": name,
        "kind": kind,
        "hall": hall,
        "accelerator": acc,
        "cloud_gpu_hours_per_year": gh,
        "cloud_usd_per_gpu_hour": p,
        "price_date": date,
        "cloud_cost_usd_per_year": gh * p,
    }
