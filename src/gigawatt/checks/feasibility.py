"""Static feasibility checks: targets that no run can meet, found before running.

Two severities (``gigawatt check`` lists both; only errors make it exit 2, and only errors stop
:func:`~gigawatt.load_scenario`):

Errors (impossible whatever the run does), reported through the scenario cross-checks
(:func:`gigawatt.checks.targets.target_problems`):

* an inference SLO no replica count can meet: on an idle replica (the best case, unlimited replicas) fewer
  than ``slo.quantile`` of the prompts prefill within ``slo.ttft_s`` at the service's tensor parallelism, or
  a batch-of-one decode step exceeds ``slo.tpot_s`` (:func:`gigawatt.checks.inference.slo_problems` with
  :func:`gigawatt.perf.fleet.slo_ceiling`, on the same token samples and quadrature the run uses);
* a training job larger than its pool, or than its usable GPUs (whole nodes minus hot spares,
  :func:`training_usable_gpus`; checked with the targets).

Warnings (:func:`scenario_warnings`; the run goes ahead and may tell more):

* a training job whose deadline cannot be met even at full speed from its submission (no failures, no
  queueing, no throttling): ``submit + work / (GPUs × peak × MFU) > deadline``;
* a training job larger than any one site of its pool (it must span sites) whose communication factor
  across them (:func:`gigawatt.perf.crosssite.span_throughput_factor`, on the fewest sites that hold it and the
  job's full-speed step) is below :data:`SPAN_WARN_BELOW_FRAC`, or that gives no ``model_params`` (it would
  span without paying for it);
* a request-level window whose expected request count (mean of the demand profile over the window and its
  warm-up) may exceed ``max_requests`` (the run stops there), or whose requests table would take more than
  half of this machine's memory (an **estimate** of ~300 bytes per simulated request).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from gigawatt.checks.buildout import plan_link_warnings
from gigawatt.checks.fleet_time import fleet_time_warnings
from gigawatt.perf import crosssite as cs
from gigawatt.perf import demand as dm
from gigawatt.perf import training as pt
from gigawatt.perf.routing import great_circle_km
from gigawatt.scenario.resolve import target_groups

__all__ = ["BYTES_PER_SIMULATED_REQUEST", "SPAN_WARN_BELOW_FRAC", "scenario_warnings", "training_usable_gpus"]

#: Memory per request of a request-level window (requests table columns + kernel state) [bytes]; estimate.
BYTES_PER_SIMULATED_REQUEST = 300
#: A job that must span sites is flagged when its communication factor across them is below this [-]
#: (a planning threshold: 10 % of the job's GPU time lost to the wide-area link).
SPAN_WARN_BELOW_FRAC = 0.9


def _expected_requests(sc: Any, wl: Any, t0_s: float, t1_s: float) -> float | None:
    """Mean number of requests of a service in ``[t0_s, t1_s)`` (profile demand, or a trace's mean rate)."""
    d = wl.demand
    if d.kind == "trace":
        try:
            data, meta = dm.read_azure_trace(sc.resolve_path(d.path))
        except (OSError, ValueError):
            return None
        rate = len(data) / max(float(meta["duration_s"]), 1.0) * d.rate_scale / d.time_scale
        return rate * (t1_s - t0_s)
    start = sc.start
    start_h = start.hour + start.minute / 60 + start.second / 3600
    weekday = int(start.weekday())
    t = np.linspace(t0_s, t1_s, max(int((t1_s - t0_s) / 60.0), 2))
    rate = d.peak_rps * dm.daily_profile_frac(t, d.daily_peak_hour, d.daily_trough_frac, start_h)
    rate = rate * dm.weekly_profile_frac(
        t + start_h * 3600.0, d.weekend_frac, weekday, d.weekend_transition_h
    )
    rate = rate * dm.growth_factor(t, d.annual_growth_frac)
    p_burst = d.burst_mean_s / (d.burst_mean_s + d.burst_interval_s)
    rate = rate * (1.0 + (d.burst_factor - 1.0) * p_burst)
    if d.launch is not None:
        base = dm.launch_spike_rate_per_s(
            t,
            d.launch.at_h * 3600.0,
            0.0,
            d.launch.peak_rps,
            d.launch.ramp_h * 3600.0,
            d.launch.decay_h * 3600.0,
        )
        rate = np.maximum(rate, base)
    return float(np.mean(rate) * (t1_s - t0_s))


def _memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return math.inf


def training_usable_gpus(sc: Any, wl: Any) -> tuple[int, int]:
    """``(usable GPUs, GPUs per node)`` of a training pool: whole nodes of its target, minus hot spares.

    Mirrors the engine's pool construction (nodes of 72 GPUs on NVL72-class racks, else one server).
    """
    groups = target_groups(sc, wl.target)
    budget = wl.target.gpus if wl.target.gpus is not None else None
    s, h, g = groups[0]
    rg = sc.sites[s].halls[h].racks[g]
    rack_gpus = rg.n_accelerators // max(rg.count, 1)
    gpn = int(wl.scheduler.node_gpus or (72 if rack_gpus == 72 else rg.server.accelerators_per_server))
    nodes = 0
    left = (
        budget
        if budget is not None
        else sum(sc.sites[a].halls[b].racks[c].n_accelerators for a, b, c in groups)
    )
    for a, b, c in groups:
        n = min(sc.sites[a].halls[b].racks[c].n_accelerators // gpn, left // gpn)
        nodes += n
        left -= n * gpn
    return max(nodes - wl.scheduler.spare_nodes, 0) * gpn, gpn


def _achieved_tflops_per_gpu(job: Any, acc: Any, hall: Any, gpn: int) -> float | None:
    """Achieved dense TFLOP/s per GPU of a training job on ``acc`` in ``hall`` (its ``mfu_frac``, else the
    node MFU × the hall fabric's scaling efficiency at the job's size); ``None`` when the accelerator has no
    peak for the job's precision."""
    peak = acc.bf16_dense_tflops if job.precision == "bf16" else acc.fp8_dense_tflops
    if peak is None:
        return None
    mfu = job.mfu_frac
    if mfu is None:
        mfu = float(
            pt.effective_mfu_frac(
                job.mfu_node_frac, job.gpus, hall.fabric.kind, hall.fabric.oversubscription, gpn
            )
        )
    return float(pt.achieved_tflops_per_gpu(peak, mfu))


def _deadline_warnings(sc: Any, wi: int, wl: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        s, h, g = target_groups(sc, wl.target)[0]
    except KeyError:
        return out
    hall = sc.sites[s].halls[h]
    rg = hall.racks[g]
    acc = rg.server.accelerator_spec()
    rack_gpus = rg.n_accelerators // max(rg.count, 1)
    gpn = wl.scheduler.node_gpus or (72 if rack_gpus == 72 else rg.server.accelerators_per_server)
    for ji, job in enumerate(wl.jobs):
        if job.deadline_h is None:
            continue
        if job.duration_h is not None:
            work_h = job.duration_h
        else:
            tflops_or_none = _achieved_tflops_per_gpu(job, acc, hall, gpn)
            if tflops_or_none is None:
                continue
            tflops = tflops_or_none
            flops = job.flops if job.flops is not None else pt.training_flops(job.model_params, job.tokens)
            work_h = float(pt.compute_time_s(flops, job.gpus, tflops)) / 3600.0
        if job.submit_h + work_h > job.deadline_h:
            out.append(
                (
                    f"workloads[{wi}].jobs[{ji}].deadline_h",
                    f"deadline {job.deadline_h:g} h cannot be met even at full speed: the job needs "
                    f"{work_h:,.1f} h of failure-free compute from its submission at {job.submit_h:g} h "
                    f"(earliest finish {job.submit_h + work_h:,.1f} h); add GPUs, move the deadline or cut "
                    "the work",
                )
            )
    return out


def _span_warnings(sc: Any, wi: int, wl: Any) -> list[tuple[str, str]]:
    """Jobs that no single site of a cross-site pool holds, and that would lose much of their speed across sites.

    The estimate takes the fewest sites that hold the job (largest first), the job's GPUs in the last of them
    as the smallest island, the largest one-way latency between them, and the job's step at full speed
    (``6 N T_b / (n F)``, peak × MFU as the engine computes it); the campus term is left out.
    """
    out: list[tuple[str, str]] = []
    x = wl.cross_site
    if x is None:
        return out
    groups = target_groups(sc, wl.target)
    site_gpus: dict[int, int] = {}
    for s, h, g in groups:
        site_gpus[s] = site_gpus.get(s, 0) + sc.sites[s].halls[h].racks[g].n_accelerators
    s0, h0, g0 = groups[0]
    hall = sc.sites[s0].halls[h0]
    rg = hall.racks[g0]
    acc = rg.server.accelerator_spec()
    rack_gpus = rg.n_accelerators // max(rg.count, 1)
    gpn = wl.scheduler.node_gpus or (72 if rack_gpus == 72 else rg.server.accelerators_per_server)
    order = sorted(site_gpus, key=lambda k: -site_gpus[k])
    for ji, job in enumerate(wl.jobs):
        if job.gpus <= site_gpus[order[0]]:
            continue
        if job.model_params is None:
            out.append(
                (
                    f"workloads[{wi}].jobs[{ji}].model_params",
                    f"no site of the pool holds the job's {job.gpus:,} GPUs, so it will span sites, but without "
                    "model_params its gradient size is unknown and it pays no cross-site communication; give "
                    "model_params (and batch_tokens)",
                )
            )
            continue
        used, left = [], job.gpus
        for site in order:
            used.append(site)
            take = min(left, site_gpus[site])
            left -= take
            if left <= 0:
                break
        smallest = take
        tflops_or_none = _achieved_tflops_per_gpu(job, acc, hall, gpn)
        if tflops_or_none is None:
            continue
        tflops = tflops_or_none
        batch = job.batch_tokens or cs.DEFAULT_TOKENS_PER_GPU_PER_STEP * job.gpus
        step_s = float(cs.step_compute_s(job.model_params, batch, job.gpus, tflops))
        if x.latency_ms is not None:
            lat = x.latency_ms / 1000.0
        else:
            locs = [sc.sites[k].location for k in used]
            lat = max(
                float(
                    cs.fibre_latency_s(
                        great_circle_km(a.latitude_deg, a.longitude_deg, b.latitude_deg, b.longitude_deg),
                        x.route_factor,
                        x.fibre_speed_km_per_s,
                    )
                )
                for i, a in enumerate(locs)
                for b in locs[i + 1 :]
            )
        diloco = x.method == "diloco"
        b = x.bytes_per_param or (
            cs.DEFAULT_DILOCO_BYTES_PER_PARAM if diloco else cs.DEFAULT_DP_BYTES_PER_PARAM
        )
        bw = min(x.bandwidth_gbit_per_s or math.inf, (x.bandwidth_gbit_per_s_per_gpu or math.inf) * smallest)
        h = (x.inner_steps or cs.DEFAULT_DILOCO_INNER_STEPS) if diloco else 1
        comm = float(cs.ring_allreduce_s(job.model_params * b / x.compression, len(used), bw, lat))
        f = float(cs.span_throughput_factor(step_s, 0.0, comm, h, 0.0, x.overlap_frac))
        if f < SPAN_WARN_BELOW_FRAC:
            out.append(
                (
                    f"workloads[{wi}].jobs[{ji}].gpus",
                    f"no site of the pool holds the job's {job.gpus:,} GPUs: it must span {len(used)} sites and "
                    f"would run at ≈ {f:.2f} of its speed ({comm:,.2f} s of all-reduce per "
                    f"{h * step_s:,.2f} s of compute); raise cross_site.bandwidth_gbit_per_s, use method: "
                    "diloco or compression, give batch_tokens if the batch is larger, or use fewer GPUs",
                )
            )
    return out


def _window_warnings(sc: Any, wi: int, wl: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    mem = _memory_bytes()
    for k, win in enumerate(wl.request_windows):
        t1 = min((win.start_h + win.duration_h) * 3600.0, sc.horizon_h * 3600.0)
        t0 = max(win.start_h * 3600.0 - win.warmup_s, 0.0)
        if t1 <= t0:
            continue
        n = _expected_requests(sc, wl, t0, t1)
        if n is None:
            continue
        path = f"workloads[{wi}].request_windows[{k}]"
        if n + 3.0 * math.sqrt(n) > win.max_requests:
            out.append(
                (
                    f"{path}.max_requests",
                    f"about {n:,.0f} requests expected in the window and its warm-up, beyond "
                    f"max_requests={win.max_requests:,} (the run would stop); shorten the window or raise "
                    "the limit",
                )
            )
        elif n * BYTES_PER_SIMULATED_REQUEST > 0.5 * mem:
            out.append(
                (
                    f"{path}.duration_h",
                    f"about {n:,.0f} requests expected: ~{n * BYTES_PER_SIMULATED_REQUEST / 1e9:,.1f} GB, more "
                    f"than half of this machine's {mem / 1e9:,.0f} GB; shorten the window",
                )
            )
    return out


def scenario_warnings(sc: Any) -> list[tuple[str, str]]:
    """Warnings ``(path, message)``: targets a run may well miss, that a planner should see before running."""
    out: list[tuple[str, str]] = []
    for wi, wl in enumerate(sc.workloads):
        kind = getattr(wl, "kind", None)
        try:
            if kind == "training":
                out.extend(_deadline_warnings(sc, wi, wl))
                out.extend(_span_warnings(sc, wi, wl))
            elif kind == "inference":
                out.extend(_window_warnings(sc, wi, wl))
        except Exception:  # pragma: no cover - a warning that cannot be evaluated is not given
            continue
    out.extend(fleet_time_warnings(sc))
    out.extend(plan_link_warnings(sc))
    return out
