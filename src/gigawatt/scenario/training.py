"""Training workloads (``kind: training``): a GPU pool, its scheduler and reliability, and its jobs.

One ``training`` workload owns a gang-scheduling pool (its ``target``: a hall, optionally one rack group and a
GPU count) and runs explicit jobs and/or a stochastic job mix on it. See ``docs/models/training.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel
from gigawatt.scenario.targets import GpuTarget, PoolTarget

__all__ = ["JobMixSpec", "ReliabilitySpec", "SchedulerSpec", "SpotSpec", "TrainingJob", "TrainingWorkload"]


class TrainingJob(StrictModel):
    """One training job. Give its work as ``model_params`` + ``tokens`` (6·N·D FLOPs), ``flops``, or ``duration_h``.

    Achieved FLOP/s per GPU = peak (``precision``, from the accelerator) × MFU, where MFU is ``mfu_frac`` when
    given, else ``mfu_node_frac`` × the network scaling efficiency of the hall's fabric at this job size.
    """

    name: str = Field(min_length=1)
    gpus: int = Field(gt=0, le=100_000_000)
    """GPUs requested (gang-scheduled on whole nodes)."""
    model_params: float | None = Field(None, gt=0, le=1e15)
    """Model parameters N [-] (active parameters for MoE)."""
    tokens: float | None = Field(None, gt=0, le=1e17)
    """Training tokens D [-]."""
    flops: float | None = Field(None, gt=0, le=1e32)
    """Training compute [FLOP] (instead of ``model_params`` × ``tokens``)."""
    duration_h: float | None = Field(None, gt=0, le=876_000)
    """Failure-free compute time at full throughput [h] (instead of a FLOP count)."""
    precision: Literal["bf16", "fp8"] = "bf16"
    mfu_frac: float | None = Field(None, gt=0, le=1)
    """Job-level model FLOPs utilisation including network effects; overrides the network model."""
    mfu_node_frac: float = Field(0.5, gt=0, le=1)
    """Node-level MFU without scale-out loss (default 0.50: estimate from Llama 3 Table 4, see docs)."""
    submit_h: float = Field(0.0, ge=0, le=876_000)
    """Submission time [h after scenario start]."""
    priority: int = 0
    preemptible: bool = False
    deadline_h: float | None = Field(None, gt=0, le=876_000)
    """Completion deadline [h after scenario start] (reported as ``deadline_met``)."""
    checkpoint_interval_s: float | None = Field(None, ge=1, le=1e8)
    """Compute time between checkpoints [s]; default: Daly's optimum from the job's MTBF."""
    checkpoint_write_s: float | None = Field(None, ge=0, le=1e6)
    """Blocking checkpoint write time [s]; default: checkpoint size / storage bandwidth."""
    checkpoint_size_tb: float | None = Field(None, gt=0, le=1e6)
    """Checkpoint size [TB]; default 14 bytes per parameter (needs ``model_params``), else 1 TB (estimate)."""
    max_interruptions: PositiveInt | None = None
    """Mark the job failed after more interruptions than this."""

    @model_validator(mode="after")
    def _one_work_spec(self) -> TrainingJob:
        given = [
            name
            for name, ok in (
                ("model_params+tokens", self.tokens is not None),
                ("flops", self.flops is not None),
                ("duration_h", self.duration_h is not None),
            )
            if ok
        ]
        if len(given) != 1:
            raise ValueError(
                "give the work of the job exactly one way: model_params + tokens, flops, or duration_h "
                f"(got {given or 'none'})"
            )
        if self.tokens is not None and self.model_params is None:
            raise ValueError("tokens needs model_params (work = 6 x model_params x tokens)")
        if self.deadline_h is not None and self.deadline_h <= self.submit_h:
            raise ValueError("deadline_h must be after submit_h")
        return self


class JobMixSpec(StrictModel):
    """A stochastic stream of jobs (arrivals, sizes, durations from published cluster-trace statistics).

    Defaults are estimates shaped after the Philly, Helios, PAI and Meta RSC traces (see
    :mod:`gigawatt.perf.cluster_traces`).
    """

    jobs_per_day: float = Field(100.0, ge=0, le=1e6)
    diurnal_amplitude_frac: float = Field(0.3, ge=0, lt=1)
    diurnal_peak_h: float = Field(14.0, ge=0, lt=24)
    gpu_counts: list[PositiveInt] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048], min_length=1
    )
    gpu_count_probs: list[Annotated[float, Field(ge=0, le=1e12)]] | None = None
    """Probability per entry of ``gpu_counts`` (normalised); default: the built-in estimate."""
    median_duration_h: float = Field(2.0, gt=0, le=87_600)
    duration_sigma: float = Field(1.5, ge=0, le=5)
    duration_size_exponent: float = Field(0.25, ge=-2, le=2)
    max_duration_h: float = Field(504.0, gt=0, le=87_600)
    priority_levels: list[int] = Field(default_factory=lambda: [0], min_length=1)
    preemptible: bool = True
    checkpoint_write_s: float = Field(30.0, ge=0, le=1e6)
    """Checkpoint write time of mix jobs [s] (estimate)."""
    start_h: float = Field(0.0, ge=0, le=876_000)
    end_h: float | None = Field(None, gt=0, le=876_000)
    """Submission window [h]; default: the whole horizon."""

    @model_validator(mode="after")
    def _probs(self) -> JobMixSpec:
        if self.gpu_count_probs is not None:
            if len(self.gpu_count_probs) != len(self.gpu_counts):
                raise ValueError("gpu_count_probs must have one entry per gpu_counts entry")
            if any(p < 0 for p in self.gpu_count_probs) or sum(self.gpu_count_probs) <= 0:
                raise ValueError("gpu_count_probs must be >= 0 with a positive sum")
        elif self.gpu_counts != [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]:
            raise ValueError("custom gpu_counts need gpu_count_probs")
        if self.end_h is not None and self.end_h <= self.start_h:
            raise ValueError("end_h must be after start_h")
        return self


class SchedulerSpec(StrictModel):
    """Gang scheduler of the pool."""

    policy: Literal["fifo", "priority", "easy_backfill"] = "easy_backfill"
    preemption: bool = False
    """A blocked higher-priority job may preempt lower-priority preemptible jobs."""
    spare_nodes: int = Field(0, ge=0, le=10_000_000)
    """Hot-standby nodes held back to replace failed nodes at once."""
    node_gpus: int | None = Field(None, gt=0, le=100_000)
    """Placement unit [GPUs]: default 72 for NVL72-class racks (72 GPUs per rack), else GPUs per server."""
    backfill_depth: int = Field(100, gt=0, le=100_000)


class SpotSpec(StrictModel):
    """Spot (preemptible) nodes: the provider reclaims nodes; a new node replaces each one after a delay.

    A reclaim is an interruption of class ``spot``: no repair, the job loses the work since its last
    checkpoint (unless ``emergency_checkpoint`` and the checkpoint write fits within ``notice_s``) and waits
    for a hot spare or the replacement node. Published rates: the AWS Spot Instance Advisor buckets the share
    of capacity reclaimed per trailing month (< 5 % to > 20 %; > 20 % = more than 0.0073 per node-day);
    GPU spot traces show lifetimes of hours (Wu et al., NSDI 2024). See ``docs/models/training.md``.
    """

    reclaims_per_gpu_hour: float | None = Field(None, ge=0, le=1000)
    """Reclaim rate per GPU-hour [1/(GPU·h)] (an 8-GPU instance reclaimed every 50 h: 0.0025)."""
    reclaims_per_node_day: float | None = Field(None, ge=0, le=1e5)
    """Reclaim rate per node (server, one cloud instance) and day (instead of ``reclaims_per_gpu_hour``)."""
    notice_s: float = Field(120.0, ge=0, le=1e6)
    """Notice before the reclaim [s] (AWS: 120 s; Google Cloud and Azure: 30 s)."""
    emergency_checkpoint: bool = False
    """Write a checkpoint within the notice when it fits (``notice_s`` >= the job's checkpoint write time):
    the reclaim then loses no work, only the write. Off by default (it needs the training code to act on the
    notice, and a large job's write may not fit)."""
    replacement_delay_s: float = Field(300.0, ge=0, le=1e7)
    """Time until a new node replaces a reclaimed one [s] (estimate: 5 min); the restart comes on top."""

    @model_validator(mode="after")
    def _one_rate(self) -> SpotSpec:
        given = [
            n for n in ("reclaims_per_gpu_hour", "reclaims_per_node_day") if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give the spot reclaim rate exactly one way: reclaims_per_gpu_hour or reclaims_per_node_day "
                f"(got {given or 'none'})"
            )
        return self


class ReliabilitySpec(StrictModel):
    """Failures, restarts and checkpoint storage."""

    failures: Literal["llama3", "none"] = "llama3"
    """Failure rates per component class: Llama 3 Table 5 calibration, or none."""
    rate_scale: float = Field(1.0, ge=0, le=1000)
    """Multiplier on every failure rate (e.g. 0.5 for a fleet twice as reliable); applies on top of the
    absolute rates below when they are given, not to ``spot`` reclaims."""
    failures_per_1000_node_days: float | None = Field(None, ge=0)
    """Unexpected interruptions per 1,000 node-days (node = one server of the pool); sets the total
    unexpected rate, the class mix stays that of Llama 3 Table 5. Default: Llama 3's 419 in 54 days on
    16,384 H100 = 3.79 per 1,000 8-GPU node-days (Kokolis et al. 2024 report 6.50 and 2.34 for Meta's RSC-1
    and RSC-2)."""
    failures_per_gpu_day: float | None = Field(None, ge=0)
    """The same as a rate per GPU-day (instead of ``failures_per_1000_node_days``; Llama 3: 4.74e-4)."""
    planned_per_1000_node_days: float | None = Field(None, ge=0)
    """Planned maintenance interruptions per 1,000 node-days, separately from failures. Default: Llama 3's
    47 in 54 days on 16,384 H100 = 0.425 per 1,000 8-GPU node-days."""
    planned_per_gpu_day: float | None = Field(None, ge=0)
    """The same as a rate per GPU-day (instead of ``planned_per_1000_node_days``; Llama 3: 5.31e-5)."""
    planned_maintenance: bool = True
    detection_s: float = Field(120.0, ge=0, le=1e7)
    """Fault-to-detection time [s] (estimate)."""
    restart_s: float = Field(300.0, ge=0, le=1e7)
    """Reschedule + reload + warm-up time [s] (estimate)."""
    idle_node_failures: bool = True
    checkpoint_method: Literal["daly", "young"] = "daly"
    storage_bandwidth_gb_per_s_per_gpu: float = Field(0.125, gt=0, le=1e4)
    """Checkpoint write bandwidth per job GPU [GB/s] (Llama 3: 2 TB/s for 16,384 GPUs = 0.12; BLOOM: 2.3 TB in
    40 s on 384 GPUs = 0.15)."""
    storage_bandwidth_cap_gb_per_s: float | None = Field(None, gt=0, le=1e9)
    """Upper limit of the storage system's write bandwidth [GB/s]."""
    spot: SpotSpec | None = None
    """Spot nodes: reclaims without repair (interruption class ``spot``); ``rate_scale`` does not apply.
    Works with ``failures: none`` too (reclaims only)."""

    @model_validator(mode="after")
    def _absolute_rates(self) -> ReliabilitySpec:
        problems = []
        for a, b in (
            ("failures_per_1000_node_days", "failures_per_gpu_day"),
            ("planned_per_1000_node_days", "planned_per_gpu_day"),
        ):
            if getattr(self, a) is not None and getattr(self, b) is not None:
                problems.append(f"give {a} or {b}, not both")
        given = [
            n
            for n in (
                "failures_per_1000_node_days",
                "failures_per_gpu_day",
                "planned_per_1000_node_days",
                "planned_per_gpu_day",
            )
            if getattr(self, n) is not None
        ]
        if self.failures == "none" and given:
            problems.append(
                f"failures: none turns failures off; remove {', '.join(given)} or use failures: llama3"
            )
        planned = [n for n in given if n.startswith("planned")]
        if not self.planned_maintenance and planned:
            problems.append(f"planned_maintenance is false; remove {planned[0]} or set it true")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TrainingWorkload(StrictModel):
    """Training jobs on a gang-scheduled GPU pool, with failures, checkpoints and facility coupling."""

    kind: Literal["training"] = "training"
    name: ScopeName
    """Workload name (no ``/`` or ``:``; it prefixes the workload's result columns)."""
    target: GpuTarget | PoolTarget
    """The pool: a hall (optionally one rack group, optionally a GPU count), or several halls of one site
    (``halls: [...]`` or ``site: ...``, see ``docs/models/training.md`` for the fabric assumption); one
    accelerator type."""
    jobs: list[TrainingJob] = Field(default_factory=list)
    mix: JobMixSpec | None = None
    scheduler: SchedulerSpec = SchedulerSpec()
    reliability: ReliabilitySpec = ReliabilitySpec()
    allowed_jurisdictions: list[Jurisdiction] | None = Field(None, min_length=1)
    """Data residency / sovereignty: the jurisdictions whose sites may run this workload (a site's
    ``jurisdiction``, its ``location.country_code``, or ``EU`` for a site in an EU member state); ``None``: any.
    ``gigawatt check`` rejects a target outside them."""

    @model_validator(mode="after")
    def _has_work(self) -> TrainingWorkload:
        if not self.jobs and self.mix is None:
            raise ValueError("a training workload needs jobs, a mix, or both")
        names = [j.name for j in self.jobs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"job names must be unique; repeated: {dup}")
        return self
