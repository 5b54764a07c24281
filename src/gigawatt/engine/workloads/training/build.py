"""From a ``kind: training`` workload of the scenario to the engine's inputs: pool, jobs, failure model, policy.

Every function checks its part of the workload against the fleet and raises a
:class:`~gigawatt.errors.ScenarioError` naming the field path and the fix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gigawatt.engine.context import SimContext
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.workloads.training.specs import (
    DEFAULT_CHECKPOINT_TB,
    PoolSpec,
    SchedulerConfig,
    SpanLink,
    SpanSpec,
    TrainingJobSpec,
    job_specs,
)
from gigawatt.errors import ScenarioError
from gigawatt.perf import crosssite
from gigawatt.perf import training as perf_training
from gigawatt.perf.cluster_traces import JobMix, generate_job_mix
from gigawatt.perf.reliability import FailureModel, llama3_failure_model, rate_per_gpu_h, spot_rate_per_gpu_h
from gigawatt.perf.routing import great_circle_km
from gigawatt.scenario.training import JobMixSpec, TrainingWorkload

__all__ = ["failure_model", "mix_jobs", "pool_spec", "scenario_jobs", "scheduler_config", "span_spec"]

#: Per job: ``{"mfu_frac": ..., "tflops_per_gpu": ...}`` (NaN for jobs of a mix), columns of the jobs table.
JobInfo = dict[str, float]


def _node_gpus(fleet: Fleet, g: int, override: int | None) -> int:
    if override is not None:
        return override
    rack_gpus = int(fleet.n_gpus[g]) // max(int(fleet.n_racks[g]), 1)
    return 72 if rack_gpus == 72 else int(fleet.gpus_per_server[g])  # NVL72-class scale-up domain


def pool_spec(wl: TrainingWorkload, ctx: SimContext, path: str) -> PoolSpec:
    """The gang-scheduling pool of the workload's target: whole nodes of its rack groups, up to its GPU budget.

    Parameters
    ----------
    wl : TrainingWorkload
        The workload.
    ctx : SimContext
        Simulation context (fleet, target resolution).
    path : str
        Field path of the workload in the scenario (``workloads[i]``), for errors.
    """
    fleet = ctx.fleet
    groups = [int(g) for g in ctx.groups_for(wl.target)]
    accels = {fleet.accelerators[g].name for g in groups}
    if len(accels) > 1:
        raise ScenarioError(
            [(f"{path}.target", f"the pool mixes accelerators {sorted(accels)}; name one rack_group")]
        )
    node_gpus = {_node_gpus(fleet, g, wl.scheduler.node_gpus) for g in groups}
    if len(node_gpus) > 1:
        raise ScenarioError(
            [(f"{path}.scheduler.node_gpus", f"groups differ in node size {node_gpus}; set it")]
        )
    gpn = node_gpus.pop()
    budget = wl.target.gpus if wl.target.gpus is not None else int(fleet.n_gpus[groups].sum())
    nodes: list[int] = []
    for g in groups:
        n = min(int(fleet.n_gpus[g]) // gpn, budget // gpn)
        nodes.append(n)
        budget -= n * gpn
    if sum(nodes) == 0:
        raise ScenarioError([(f"{path}.target", f"the pool holds no whole node of {gpn} GPUs")])
    if wl.scheduler.spare_nodes >= sum(nodes):
        raise ScenarioError(
            [(f"{path}.scheduler.spare_nodes", f"must be below the pool's {sum(nodes)} nodes")]
        )
    group_hall = tuple(int(fleet.group_hall[g]) for g in groups)
    n_halls = len(set(group_hall))
    span = span_spec(wl, ctx, groups, path)
    return PoolSpec(
        wl.name,
        group_hall[0],
        tuple(groups),
        tuple(nodes),
        gpn,
        wl.scheduler.spare_nodes,
        group_hall if n_halls > 1 else None,
        (
            tuple((float(fleet.group_online_s[g, 0]), float(fleet.group_online_s[g, 1])) for g in groups)
            if np.isfinite(fleet.group_online_s[groups]).any()
            else None
        ),
        span,
    )


def span_spec(wl: TrainingWorkload, ctx: SimContext, groups: list[int], path: str) -> SpanSpec | None:
    """The links a job of the pool crosses (``campus_link``, ``cross_site``), or ``None`` when none is priced.

    The one-way latency between two sites defaults to their great-circle distance × route factor / fibre
    speed (:func:`gigawatt.perf.crosssite.fibre_latency_s`).
    """
    fleet = ctx.fleet
    group_site = tuple(int(fleet.group_site[g]) for g in groups)
    sites = sorted(set(group_site))
    if len(sites) > 1 and wl.cross_site is None:
        names = [fleet.site_names[s] for s in sites]
        raise ScenarioError(
            [
                (
                    f"{path}.target",
                    f"a training pool's halls must be in one site unless the workload gives cross_site; these "
                    f"halls lie in sites {names}: add cross_site or target halls of one site",
                )
            ]
        )
    if wl.campus_link is None and wl.cross_site is None:
        return None
    campus = None
    if wl.campus_link is not None:
        c = wl.campus_link
        campus = SpanLink(
            bandwidth_gbit_per_s=math.inf if c.bandwidth_gbit_per_s is None else c.bandwidth_gbit_per_s,
            bandwidth_gbit_per_s_per_gpu=(
                math.inf if c.bandwidth_gbit_per_s_per_gpu is None else c.bandwidth_gbit_per_s_per_gpu
            ),
            latency_s=c.latency_ms / 1000.0,
            bytes_per_param=c.gradient_bytes_per_param,
            overlap_frac=c.overlap_frac,
        )
    wan = None
    inner = 1
    x = wl.cross_site
    if x is not None and len(sites) > 1:
        diloco = x.method == "diloco"
        default_bytes = (
            crosssite.DEFAULT_DILOCO_BYTES_PER_PARAM if diloco else crosssite.DEFAULT_DP_BYTES_PER_PARAM
        )
        pairs: list[tuple[tuple[int, int], float]] = []
        locs = [ctx.scenario.sites[s].location for s in sites]
        for i, a in enumerate(sites):
            for j in range(i + 1, len(sites)):
                if x.latency_ms is not None:
                    lat = x.latency_ms / 1000.0
                else:
                    d = great_circle_km(
                        locs[i].latitude_deg,
                        locs[i].longitude_deg,
                        locs[j].latitude_deg,
                        locs[j].longitude_deg,
                    )
                    lat = float(crosssite.fibre_latency_s(d, x.route_factor, x.fibre_speed_km_per_s))
                pairs.append(((a, sites[j]), lat))
        wan = SpanLink(
            bandwidth_gbit_per_s=math.inf if x.bandwidth_gbit_per_s is None else x.bandwidth_gbit_per_s,
            bandwidth_gbit_per_s_per_gpu=(
                math.inf if x.bandwidth_gbit_per_s_per_gpu is None else x.bandwidth_gbit_per_s_per_gpu
            ),
            latency_s=max(lat for _, lat in pairs),
            bytes_per_param=(x.bytes_per_param or default_bytes) / x.compression,
            overlap_frac=x.overlap_frac,
            pair_latency_s=tuple(pairs),
        )
        if diloco:
            inner = x.inner_steps or crosssite.DEFAULT_DILOCO_INNER_STEPS
    return SpanSpec(group_site=group_site, campus=campus, wan=wan, inner_steps=inner)


def scenario_jobs(
    wl: TrainingWorkload, fleet: Fleet, pool: PoolSpec, path: str
) -> tuple[list[TrainingJobSpec], list[JobInfo]]:
    """The workload's named jobs: work from FLOPs and the achieved MFU, checkpoint write time from its size.

    Raises a :class:`~gigawatt.errors.ScenarioError` listing every job that does not fit the pool or asks for
    a precision the accelerator lacks.
    """
    gpn = pool.gpus_per_node
    accel = fleet.accelerators[pool.group_idx[0]]
    # a pool over several halls: jobs may span them; inside each hall the slowest-scaling fabric applies, and
    # the boundaries a job crosses cost what the workload's campus_link / cross_site say (spanning.py;
    # without them halls are assumed joined at their own fabric's bandwidth)
    fabrics = [fleet.halls[h].fabric for h in pool.halls]
    usable_gpus = (pool.n_nodes - pool.spare_nodes) * gpn
    problems: list[tuple[str, str]] = []
    specs: list[TrainingJobSpec] = []
    info: list[JobInfo] = []
    rel = wl.reliability
    for ji, job in enumerate(wl.jobs):
        jp = f"{path}.jobs[{ji}]"
        if job.gpus > usable_gpus:
            problems.append((f"{jp}.gpus", f"{job.gpus} GPUs requested but the pool has {usable_gpus}"))
            continue
        peak = accel.bf16_dense_tflops if job.precision == "bf16" else accel.fp8_dense_tflops
        if peak is None:
            problems.append((f"{jp}.precision", f"{accel.name} has no FP8 peak in its spec; use bf16"))
            continue
        if job.mfu_frac is not None:
            mfu = job.mfu_frac
        else:
            mfu = min(
                float(
                    perf_training.effective_mfu_frac(
                        job.mfu_node_frac, job.gpus, fabric.kind, fabric.oversubscription, gpn
                    )
                )
                for fabric in fabrics
            )
        tflops = float(perf_training.achieved_tflops_per_gpu(peak, mfu))
        if job.duration_h is not None:
            work_s = job.duration_h * 3600.0
        else:
            if job.flops is not None:
                flops: Any = job.flops
            else:
                assert job.model_params is not None and job.tokens is not None  # checked by the model
                flops = perf_training.training_flops(job.model_params, job.tokens)
            work_s = float(perf_training.compute_time_s(flops, job.gpus, tflops))
        if job.checkpoint_write_s is not None:
            write_s = job.checkpoint_write_s
        else:
            size_tb = job.checkpoint_size_tb
            if size_tb is None:
                size_tb = (
                    float(perf_training.checkpoint_size_tb(job.model_params))
                    if job.model_params is not None
                    else DEFAULT_CHECKPOINT_TB
                )
            bw = rel.storage_bandwidth_gb_per_s_per_gpu * job.gpus
            if rel.storage_bandwidth_cap_gb_per_s is not None:
                bw = min(bw, rel.storage_bandwidth_cap_gb_per_s)
            write_s = float(perf_training.checkpoint_write_time_s(size_tb, bw))
        step_s = None
        if job.model_params is not None:  # compute per optimizer step, for the penalty across halls/sites
            batch = (
                job.batch_tokens
                if job.batch_tokens is not None
                else crosssite.DEFAULT_TOKENS_PER_GPU_PER_STEP * job.gpus
            )
            step_s = float(crosssite.step_compute_s(job.model_params, batch, job.gpus, tflops))
        specs.append(
            TrainingJobSpec(
                name=job.name,
                pool=wl.name,
                n_gpus=job.gpus,
                work_s=work_s,
                submit_s=job.submit_h * 3600.0,
                priority=job.priority,
                checkpoint_interval_s=job.checkpoint_interval_s,
                checkpoint_write_s=write_s,
                preemptible=job.preemptible,
                deadline_s=None if job.deadline_h is None else job.deadline_h * 3600.0,
                max_interruptions=job.max_interruptions,
                model_params=job.model_params,
                step_s=step_s,
            )
        )
        info.append({"mfu_frac": mfu, "tflops_per_gpu": tflops})
    if problems:
        raise ScenarioError(problems)
    return specs, info


def mix_jobs(
    name: str, mix: JobMixSpec, usable_gpus: int, ctx: SimContext
) -> tuple[list[TrainingJobSpec], list[JobInfo]]:
    """Jobs drawn from the workload's job mix (stream ``("workload", name, "mix")``), named ``<name>-mix-NNNNN``."""
    kw: dict[str, Any] = {
        "jobs_per_day": mix.jobs_per_day,
        "diurnal_amplitude_frac": mix.diurnal_amplitude_frac,
        "diurnal_peak_h": mix.diurnal_peak_h,
        "median_duration_h": mix.median_duration_h,
        "duration_sigma": mix.duration_sigma,
        "duration_size_exponent": mix.duration_size_exponent,
        "max_duration_h": mix.max_duration_h,
        "priority_levels": tuple(mix.priority_levels),
    }
    if mix.gpu_count_probs is not None:
        kw["gpu_counts"] = tuple(mix.gpu_counts)
        kw["gpu_count_probs"] = tuple(mix.gpu_count_probs)
    end_h = ctx.clock.horizon_s / 3600.0 if mix.end_h is None else min(mix.end_h, ctx.clock.horizon_s / 3600)
    window_s = max(end_h - mix.start_h, 0.0) * 3600.0
    out = generate_job_mix(JobMix(**kw), window_s, ctx.rng("workload", name, "mix"), usable_gpus)
    t0_s = mix.start_h * 3600.0
    write_s, preemptible = mix.checkpoint_write_s, mix.preemptible
    # plain Python numbers (``tolist``: the same values as ``int``/``float`` of each element, faster)
    n_gpus = out["n_gpus"].astype(np.int64).tolist()
    specs = job_specs(
        name,
        [f"{name}-mix-{i:05d}" for i in range(len(n_gpus))],
        n_gpus,
        out["work_s"].astype(float).tolist(),
        [t0_s + s for s in out["submit_s"].astype(float).tolist()],
        out["priority"].astype(np.int64).tolist(),
        write_s,
        preemptible,
    )
    # no MFU or achieved TFLOP/s for a mix's jobs: one shared (read-only by convention) entry for all of them
    info: list[JobInfo] = [{"mfu_frac": math.nan, "tflops_per_gpu": math.nan}] * len(specs)
    return specs, info


def failure_model(wl: TrainingWorkload, fleet: Fleet, pool: PoolSpec) -> FailureModel | None:
    """The pool's failure model: Llama 3 classes at the workload's rates, and spot reclaims (``None``: none).

    Absolute rates per node-day count nodes as servers, GPU-weighted over the pool's groups.
    """
    rel = wl.reliability
    gpn = pool.gpus_per_node
    pool_gpus = pool.n_nodes * gpn
    pool_servers = sum(
        n * gpn / max(int(fleet.gpus_per_server[g]), 1)
        for g, n in zip(pool.group_idx, pool.nodes_per_group, strict=True)
    )
    gpus_per_server = pool_gpus / max(pool_servers, 1e-9)
    fm = None
    if rel.failures == "llama3":
        fm = (
            llama3_failure_model(rel.detection_s, rel.restart_s, rel.planned_maintenance)
            .with_total_rates(
                rate_per_gpu_h(rel.failures_per_1000_node_days, rel.failures_per_gpu_day, gpus_per_server),
                rate_per_gpu_h(rel.planned_per_1000_node_days, rel.planned_per_gpu_day, gpus_per_server),
            )
            .scaled(rel.rate_scale)
        )
    if rel.spot is not None:  # spot reclaims: a class of their own, without repair (not rate-scaled)
        if fm is None:
            fm = FailureModel(
                names=(),
                groups=(),
                rate_per_gpu_h=np.zeros(0),
                needs_repair=np.zeros(0, dtype=bool),
                mttr_s=np.zeros(0),
                detection_s=rel.detection_s,
                restart_s=rel.restart_s,
            )
        spot_rate = spot_rate_per_gpu_h(
            rel.spot.reclaims_per_gpu_hour, rel.spot.reclaims_per_node_day, gpus_per_server
        )
        fm = fm.with_spot(
            spot_rate or 0.0,
            rel.spot.notice_s,
            rel.spot.replacement_delay_s,
            rel.spot.emergency_checkpoint,
        )
    return fm


def scheduler_config(wl: TrainingWorkload, fm: FailureModel | None) -> SchedulerConfig:
    """Scheduling policy and reliability settings of the workload."""
    rel = wl.reliability
    return SchedulerConfig(
        policy=wl.scheduler.policy,
        preemption=wl.scheduler.preemption,
        backfill_depth=wl.scheduler.backfill_depth,
        failures=fm,
        idle_node_failures=rel.idle_node_failures,
        checkpoint_method=rel.checkpoint_method,
        startup_s=rel.restart_s,
    )
