"""Training workloads (``kind: training``): a GPU pool, its scheduler and reliability, and its jobs.

One ``training`` workload owns a gang-scheduling pool (its ``target``: a hall, optionally one rack group and a
GPU count) and runs explicit jobs and/or a stochastic job mix on it. See ``docs/models/training.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel
from gigawatt.scenario.targets import GpuTarget, PoolTarget

__all__ = [
    "CampusLinkSpec",
    "CrossSiteSpec",
    "JobMixSpec",
    "ReliabilitySpec",
    "SchedulerSpec",
    "SpotSpec",
    "TrainingJob",
    "TrainingWorkload",
]


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
    batch_tokens: float | None = Field(None, gt=0, le=1e12)
    """Global batch per optimizer (inner) step [tokens], for the communication penalty of a job placed across
    halls or sites (compute per step ``6 · model_params · batch_tokens / (gpus · F)``); default 1,024 tokens
    per GPU (Llama 3 405B: 16M tokens on 16,384 GPUs; an estimate)."""

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


class CampusLinkSpec(StrictModel):
    """Links between the halls (buildings) of one site that a training job placed in several halls crosses.

    Halls are islands of a hierarchical all-reduce: each job step reduces inside every hall, then all-reduces
    across the halls over these links (ring, ``2(k−1)/k`` of the gradient per hall, plus ``2(k−1)`` one-way
    latencies), then broadcasts inside. Synchronous: every optimizer step (``docs/models/training.md`` §4).
    Without ``campus_link`` the halls are assumed joined at their own fabric's bandwidth (no penalty).
    """

    bandwidth_gbit_per_s_per_gpu: float | None = Field(100.0, gt=0, le=1e5)
    """Boundary bandwidth per GPU of the job in its smallest hall [Gbit/s] (default 100: a 400 Gbit/s NIC per
    GPU with 4:1 oversubscription at the building boundary; an estimate). ``None``: only the aggregate."""
    bandwidth_gbit_per_s: float | None = Field(None, gt=0, le=1e9)
    """Aggregate bandwidth between two halls [Gbit/s] (the smaller of the two limits applies)."""
    latency_ms: float = Field(0.01, ge=0, le=1000)
    """One-way latency between halls [ms] (default 0.01: ≈ 2 km of fibre at ≈ 5 µs/km; an estimate)."""
    gradient_bytes_per_param: float = Field(2.0, gt=0, le=16)
    """Bytes per gradient value all-reduced across halls (default 2: BF16 gradients)."""
    overlap_frac: float = Field(0.0, ge=0, le=1)
    """Share of a step's compute that hides the cross-hall all-reduce (default 0: none, conservative;
    gradient bucketing overlaps the backward pass, at most ≈ 2/3 of a step)."""

    @model_validator(mode="after")
    def _some_bandwidth(self) -> CampusLinkSpec:
        if self.bandwidth_gbit_per_s_per_gpu is None and self.bandwidth_gbit_per_s is None:
            raise ValueError(
                "give the campus link a bandwidth: bandwidth_gbit_per_s_per_gpu and/or bandwidth_gbit_per_s"
            )
        return self


class CrossSiteSpec(StrictModel):
    """The wide-area link between the sites of a training pool and how a job synchronises across it.

    Giving it allows a pool over halls of several sites (``target: {sites: [...]}`` or halls of several
    sites). A job placed in several sites all-reduces across them (ring over the sites): its gradient every
    step (``method: data_parallel``) or its compressed outer pseudo-gradient every ``inner_steps`` steps
    (``method: diloco``, Douillard et al. 2023); the job then progresses at its compute utilisation
    ``H t_c / (H (t_c + e_campus) + e_wan)`` (``docs/models/training.md`` §4). Published figures: INTELLECT-1
    (10B parameters, DiLoCo, 100 inner steps, int8) reached 83 % compute utilisation across three continents
    over the public internet and 96 % within the US (Jaghouar et al. 2024).
    """

    bandwidth_gbit_per_s: float | None = Field(None, gt=0, le=1e9)
    """Aggregate bandwidth between each pair of sites available to one job [Gbit/s]."""
    bandwidth_gbit_per_s_per_gpu: float | None = Field(None, gt=0, le=1e5)
    """Bandwidth per GPU of the job in its smallest site [Gbit/s] (the smaller of the two limits applies)."""
    latency_ms: float | None = Field(None, ge=0, le=10_000)
    """One-way latency between sites [ms]; default from the great-circle distance between the sites'
    locations × ``route_factor`` / ``fibre_speed_km_per_s`` (≈ 5 µs/km of fibre)."""
    route_factor: float = Field(2.1, ge=1, le=10)
    """Fibre route length / great-circle distance [-] (2.1: Bozkurt et al. 2018, Internet paths; a dedicated
    long-haul route is shorter)."""
    fibre_speed_km_per_s: float = Field(2.0e5, gt=1e4, le=3e5)
    """Propagation speed in fibre [km/s] (≈ 2.0e5: 4.9-5 µs/km, ITU-T G.652 group index ≈ 1.47)."""
    method: Literal["data_parallel", "diloco"] = "data_parallel"
    """``data_parallel``: synchronous all-reduce of the gradient every step; ``diloco``: the outer
    pseudo-gradient every ``inner_steps`` steps (DiLoCo, Streaming DiLoCo, INTELLECT-1)."""
    inner_steps: int | None = Field(None, ge=1, le=1_000_000)
    """Steps between synchronisations across sites (``diloco`` only; default 100 as INTELLECT-1; DiLoCo's
    paper used 500)."""
    bytes_per_param: float | None = Field(None, gt=0, le=16)
    """Bytes per value sent across sites before compression (default 2 for ``data_parallel``: BF16
    gradients; 4 for ``diloco``: FP32 pseudo-gradients)."""
    compression: float = Field(1.0, ge=1, le=1000)
    """Compression of the payload across sites [-] (INTELLECT-1's int8 of FP32: 4; Streaming DiLoCo's FP4: 8)."""
    overlap_frac: float = Field(0.0, ge=0, le=1)
    """Share of the compute window (a step, or the ``inner_steps`` of an outer step) that hides the cross-site
    all-reduce (0: blocking, assumed for INTELLECT-1; ≈ 1: Streaming DiLoCo / eager updates)."""

    @model_validator(mode="after")
    def _consistent(self) -> CrossSiteSpec:
        problems = []
        if self.bandwidth_gbit_per_s is None and self.bandwidth_gbit_per_s_per_gpu is None:
            problems.append(
                "give the cross-site link a bandwidth: bandwidth_gbit_per_s (per site pair) and/or "
                "bandwidth_gbit_per_s_per_gpu"
            )
        if self.method == "data_parallel" and self.inner_steps not in (None, 1):
            problems.append("inner_steps is for method: diloco; remove it or set method: diloco")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TrainingWorkload(StrictModel):
    """Training jobs on a gang-scheduled GPU pool, with failures, checkpoints and facility coupling."""

    kind: Literal["training"] = "training"
    name: ScopeName
    """Workload name (no ``/`` or ``:``; it prefixes the workload's result columns)."""
    target: GpuTarget | PoolTarget
    """The pool: a hall (optionally one rack group, optionally a GPU count), or several halls (``halls: [...]``,
    ``site: ...`` or ``sites: [...]``; halls of several sites need ``cross_site``); one accelerator type."""
    jobs: list[TrainingJob] = Field(default_factory=list)
    mix: JobMixSpec | None = None
    scheduler: SchedulerSpec = SchedulerSpec()
    reliability: ReliabilitySpec = ReliabilitySpec()
    campus_link: CampusLinkSpec | None = None
    """Links between the pool's halls within a site: a job placed in several halls of a site pays a
    cross-hall all-reduce every step. ``None``: halls joined at their own fabric's bandwidth (no penalty)."""
    cross_site: CrossSiteSpec | None = None
    """Link between the pool's sites and the jobs' synchronisation method across it; required for a pool over
    several sites."""
    allowed_jurisdictions: list[Jurisdiction] | None = Field(None, min_length=1)
    """Data residency / sovereignty: the jurisdictions whose sites may run this workload (a site's
    ``jurisdiction``, its ``location.country_code``, or ``EU`` for a site in an EU member state); ``None``: any.
    ``gigawatt check`` rejects a target outside them (every site of a pool over several sites)."""

    @model_validator(mode="after")
    def _has_work(self) -> TrainingWorkload:
        if not self.jobs and self.mix is None:
            raise ValueError("a training workload needs jobs, a mix, or both")
        names = [j.name for j in self.jobs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"job names must be unique; repeated: {dup}")
        return self
