"""Inputs of the training engine: pools, jobs, scheduler settings, and what it needs from the ledger."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np

from gigawatt.perf.reliability import FailureModel
from gigawatt.physics.phases import Phase

__all__ = [
    "DEFAULT_CHECKPOINT_TB",
    "GROUP_COLUMNS",
    "LedgerLike",
    "Policy",
    "PoolSpec",
    "SchedulerConfig",
    "SpanLink",
    "SpanSpec",
    "TrainingJobSpec",
    "job_specs",
]

Policy = Literal["fifo", "priority", "easy_backfill"]
#: Interruption groups reported as ``n_interruptions_<group>`` columns of the jobs table.
GROUP_COLUMNS = ("gpu", "network", "host", "software", "planned", "power", "spot")
#: Checkpoint size when a job gives neither ``checkpoint_size_tb`` nor ``model_params`` [TB] (estimate).
DEFAULT_CHECKPOINT_TB: Final = 1.0


class LedgerLike(Protocol):
    """What the engine needs from :class:`gigawatt.engine.ledger.LoadLedger`."""

    def change(self, t_s: float, group: int, phase: Phase | int, delta_gpus: float) -> None: ...


@dataclass(frozen=True)
class SpanLink:
    """A boundary link a job crosses (between halls of a site, or between sites); see
    :mod:`gigawatt.perf.crosssite`.

    Attributes
    ----------
    bandwidth_gbit_per_s : float
        Aggregate bandwidth between two islands [Gbit/s] (``inf``: no aggregate limit).
    bandwidth_gbit_per_s_per_gpu : float
        Bandwidth per GPU of the job in its smallest island [Gbit/s] (``inf``: no per-GPU limit).
    latency_s : float
        One-way latency [s] (for sites: the default when a pair is missing from ``pair_latency_s``).
    bytes_per_param : float
        Bytes per parameter sent per synchronisation, after compression [B].
    overlap_frac : float
        Share of the compute window hiding the communication [0-1].
    pair_latency_s : tuple of ((int, int), float)
        One-way latency per pair of islands (site indices, smaller first) [s].
    """

    bandwidth_gbit_per_s: float = math.inf
    bandwidth_gbit_per_s_per_gpu: float = math.inf
    latency_s: float = 0.0
    bytes_per_param: float = 2.0
    overlap_frac: float = 0.0
    pair_latency_s: tuple[tuple[tuple[int, int], float], ...] = ()

    def __post_init__(self) -> None:
        if not (self.bandwidth_gbit_per_s > 0 and self.bandwidth_gbit_per_s_per_gpu > 0):
            raise ValueError("span link bandwidths must be > 0")
        if math.isinf(self.bandwidth_gbit_per_s) and math.isinf(self.bandwidth_gbit_per_s_per_gpu):
            raise ValueError("a span link needs a finite aggregate or per-GPU bandwidth")
        if not 0.0 <= self.overlap_frac <= 1.0:
            raise ValueError("span link overlap_frac must be in [0, 1]")


@dataclass(frozen=True)
class SpanSpec:
    """What a job of a pool pays when placed across halls or sites (``None`` on a pool: nothing, and jobs are
    placed first-fit over the groups as before).

    With a span spec the pool packs each job into one hall if one has room, else into one site, and spans
    only when it must (:func:`~gigawatt.engine.workloads.training.spanning.pack_nodes`); a job placed in
    several halls/sites progresses at its throughput factor
    (:func:`gigawatt.perf.crosssite.span_throughput_factor`).

    Attributes
    ----------
    group_site : tuple of int
        Site of each group of the pool (aligned with ``PoolSpec.group_idx``).
    campus : SpanLink or None
        Link between halls of one site (synchronous every step); ``None``: no cross-hall penalty.
    wan : SpanLink or None
        Link between sites; ``None``: the pool is in one site.
    inner_steps : int
        Steps between synchronisations across sites (1: synchronous data parallelism; DiLoCo: H).
    """

    group_site: tuple[int, ...]
    campus: SpanLink | None = None
    wan: SpanLink | None = None
    inner_steps: int = 1

    def __post_init__(self) -> None:
        if self.inner_steps < 1:
            raise ValueError("span inner_steps must be >= 1")


@dataclass(frozen=True)
class PoolSpec:
    """A gang-scheduling pool: the nodes of one accelerator type in one hall, or in several halls of a site.

    Attributes
    ----------
    name : str
        Pool identifier (jobs name it).
    hall_idx : int
        Hall whose ``throughput_frac`` sets the progress rate (the first hall of a multi-hall pool).
    group_idx : tuple of int
        Ledger rack-group indices whose nodes form the pool.
    nodes_per_group : tuple of int
        Nodes (servers or NVL72 domains) contributed by each group.
    gpus_per_node : int
        Accelerators per node: 8 for HGX servers, 72 for NVL72 domains.
    spare_nodes : int
        Hot-standby nodes held back from scheduling to replace failed nodes at once.
    group_hall : tuple of int, optional
        Hall of each group, for a pool over several halls (default: every group in ``hall_idx``). A job
        progresses at the slowest factor of the halls its nodes are in.
    group_online_s : tuple of (float, float), optional
        Per group: commissioning and decommissioning time [s] (``±inf`` when undated; a fleet that changes
        over time, ``docs/models/fleet_time.md``). A group's nodes join the pool when it is commissioned
        and leave it when it is decommissioned (jobs on them are requeued with their last checkpoint).
        Default: every group installed throughout.
    span : SpanSpec, optional
        Links between the pool's halls and sites and the communication penalty of a job placed across
        them; ``None``: no penalty (halls joined at their own fabric's bandwidth), first-fit placement.
    """

    name: str
    hall_idx: int
    group_idx: tuple[int, ...]
    nodes_per_group: tuple[int, ...]
    gpus_per_node: int = 8
    spare_nodes: int = 0
    group_hall: tuple[int, ...] | None = None
    group_online_s: tuple[tuple[float, float], ...] | None = None
    span: SpanSpec | None = None

    def __post_init__(self) -> None:
        if self.span is not None and len(self.span.group_site) != len(self.group_idx):
            raise ValueError(f"pool {self.name!r}: span.group_site needs one site per group")
        if self.group_online_s is not None and len(self.group_online_s) != len(self.group_idx):
            raise ValueError(
                f"pool {self.name!r}: group_online_s needs one (commission, decommission) per group"
            )
        if len(self.group_idx) == 0 or len(self.group_idx) != len(self.nodes_per_group):
            raise ValueError(
                f"pool {self.name!r}: group_idx and nodes_per_group must be non-empty, equal length"
            )
        if any(n < 0 for n in self.nodes_per_group) or self.gpus_per_node <= 0:
            raise ValueError(f"pool {self.name!r}: node counts must be >= 0 and gpus_per_node > 0")
        if not 0 <= self.spare_nodes <= sum(self.nodes_per_group):
            raise ValueError(f"pool {self.name!r}: spare_nodes must be between 0 and the pool's node count")
        if self.group_hall is not None and len(self.group_hall) != len(self.group_idx):
            raise ValueError(f"pool {self.name!r}: group_hall needs one hall per group")

    @property
    def halls(self) -> tuple[int, ...]:
        """Halls of the pool (in first-seen group order)."""
        if self.group_hall is None:
            return (self.hall_idx,)
        return tuple(dict.fromkeys(self.group_hall))

    @functools.cached_property
    def hall_map(self) -> dict[int, int]:
        """Hall of each group of the pool (a dict, for lookups per job start)."""
        return {g: self.hall_of(g) for g in self.group_idx}

    def hall_of(self, group: int) -> int:
        """Hall of a group of the pool."""
        if self.group_hall is None:
            return self.hall_idx
        return self.group_hall[self.group_idx.index(group)]

    @property
    def n_nodes(self) -> int:
        return int(sum(self.nodes_per_group))


@dataclass(frozen=True, slots=True)  # slots: a job-heavy year holds ~300,000 of them
class TrainingJobSpec:
    """One training job.

    Attributes
    ----------
    name : str
        Identifier in the jobs/events tables.
    pool : str
        Pool name.
    n_gpus : int
        GPUs requested (gang-scheduled on ``ceil(n_gpus / gpus_per_node)`` whole nodes).
    work_s : float
        Failure-free compute time at full throughput [s] (see :func:`gigawatt.perf.training.compute_time_s`).
    submit_s : float
        Submission time [s since simulation start].
    priority : int
        Higher runs first under ``priority``/``easy_backfill``; preemption only hits lower priorities.
    checkpoint_interval_s : float or None
        Compute time between checkpoints [s]; ``None`` = Daly optimum from the job's MTBF.
    checkpoint_write_s : float
        Blocking checkpoint write time [s] (:func:`gigawatt.perf.training.checkpoint_write_time_s`).
    preemptible : bool
        May be preempted by higher-priority jobs or by :meth:`TrainingEngine.acquire_nodes`.
    deadline_s : float or None
        Optional completion deadline [s since start]; reported as ``deadline_met``.
    max_interruptions : int or None
        Job is marked failed after more interruptions than this (``None`` = never).
    model_params : float or None
        Parameters N, the size of what a job placed across halls/sites all-reduces over the boundary
        (``None``: unknown; such a job pays no communication penalty).
    step_s : float or None
        Compute time of one optimizer (inner) step at full throughput [s]
        (:func:`gigawatt.perf.crosssite.step_compute_s`); needed with ``model_params`` for the penalty.
    """

    name: str
    pool: str
    n_gpus: int
    work_s: float
    submit_s: float = 0.0
    priority: int = 0
    checkpoint_interval_s: float | None = None
    checkpoint_write_s: float = 60.0
    preemptible: bool = False
    deadline_s: float | None = None
    max_interruptions: int | None = None
    model_params: float | None = None
    step_s: float | None = None

    def __post_init__(self) -> None:
        if self.step_s is not None and not self.step_s > 0:
            raise ValueError(f"job {self.name!r}: step_s must be > 0")
        if self.n_gpus <= 0:
            raise ValueError(f"job {self.name!r}: n_gpus must be > 0")
        if not self.work_s > 0 or not math.isfinite(self.work_s):
            raise ValueError(f"job {self.name!r}: work_s must be a finite number > 0")
        if self.submit_s < 0:
            raise ValueError(f"job {self.name!r}: submit_s must be >= 0")
        if self.checkpoint_interval_s is not None and not self.checkpoint_interval_s > 0:
            raise ValueError(
                f"job {self.name!r}: checkpoint_interval_s must be > 0 (or None for Daly's optimum)"
            )
        if self.checkpoint_write_s < 0:
            raise ValueError(f"job {self.name!r}: checkpoint_write_s must be >= 0")


def job_specs(
    pool: str,
    names: list[str],
    n_gpus: list[int],
    work_s: list[float],
    submit_s: list[float],
    priority: list[int],
    checkpoint_write_s: float,
    preemptible: bool,
) -> list[TrainingJobSpec]:
    """Specs of many jobs of one pool (a job mix), the other fields at their defaults.

    The same specs as ``TrainingJobSpec(name=..., pool=pool, ...)`` one at a time, checked column by column
    and built without the per-field frozen ``__setattr__`` of the dataclass (about a third of the cost: a
    year's mix has 316,000 jobs). Columns failing a check are built one at a time, which raises the error of
    the first bad job.

    Parameters
    ----------
    pool : str
        Pool of every job.
    names, n_gpus, work_s, submit_s, priority : list
        Per job: name, GPUs, work [s], submission time [s] and priority (plain Python numbers).
    checkpoint_write_s : float
        Checkpoint write time of every job [s].
    preemptible : bool
        Whether every job is preemptible.
    """
    n = len(names)
    if not len(n_gpus) == len(work_s) == len(submit_s) == len(priority) == n:
        raise ValueError("job_specs: the columns must have the same length")
    w = np.asarray(work_s, dtype=float)
    ok = n == 0 or (
        min(n_gpus) > 0
        and bool((w > 0).all() and np.isfinite(w).all())
        and bool((np.asarray(submit_s, dtype=float) >= 0).all())
        and checkpoint_write_s >= 0
    )
    if not ok:
        return [
            TrainingJobSpec(
                name=nm,
                pool=pool,
                n_gpus=g,
                work_s=ws,
                submit_s=ss,
                priority=pr,
                checkpoint_write_s=checkpoint_write_s,
                preemptible=preemptible,
            )
            for nm, g, ws, ss, pr in zip(names, n_gpus, work_s, submit_s, priority, strict=True)
        ]
    # the slots' own setters (what the dataclass's __init__ does through object.__setattr__), every field set
    d = TrainingJobSpec.__dict__
    set_name, set_pool, set_gpus, set_work, set_submit, set_prio = (
        d[f].__set__ for f in ("name", "pool", "n_gpus", "work_s", "submit_s", "priority")
    )
    set_interval, set_deadline, set_max_int, set_params, set_step = (
        d[f].__set__
        for f in ("checkpoint_interval_s", "deadline_s", "max_interruptions", "model_params", "step_s")
    )
    set_write, set_preempt = d["checkpoint_write_s"].__set__, d["preemptible"].__set__
    new = object.__new__
    out: list[TrainingJobSpec] = []
    append = out.append
    for nm, g, ws, ss, pr in zip(names, n_gpus, work_s, submit_s, priority, strict=True):
        spec = new(TrainingJobSpec)
        set_name(spec, nm)
        set_pool(spec, pool)
        set_gpus(spec, g)
        set_work(spec, ws)
        set_submit(spec, ss)
        set_prio(spec, pr)
        set_write(spec, checkpoint_write_s)
        set_preempt(spec, preemptible)
        set_interval(spec, None)
        set_deadline(spec, None)
        set_max_int(spec, None)
        set_params(spec, None)
        set_step(spec, None)
        append(spec)
    return out


@dataclass(frozen=True)
class SchedulerConfig:
    """Scheduling and reliability settings.

    Attributes
    ----------
    policy : {"fifo", "priority", "easy_backfill"}
        Queue order: submission (``fifo``), priority then submission (``priority``), or priority order with
        EASY backfilling (the head job gets a reservation; later jobs start if they do not delay it).
    preemption : bool
        A blocked head job may preempt lower-priority preemptible jobs.
    backfill_depth : int
        Queue entries examined per backfill pass (like Slurm's ``bf_max_job_test``).
    failures : FailureModel or None
        Failure processes; ``None`` disables failures and planned maintenance.
    idle_node_failures : bool
        Hardware failures also strike idle nodes (they leave the pool for repair).
    checkpoint_method : {"daly", "young"}
        Optimum used when a job leaves ``checkpoint_interval_s`` unset.
    startup_s : float or None
        Launch time of a job (stall before its first compute) [s]; ``None``: the failure model's
        ``restart_s`` (0 without a failure model).
    """

    policy: Policy = "fifo"
    preemption: bool = False
    backfill_depth: int = 100
    failures: FailureModel | None = None
    idle_node_failures: bool = True
    checkpoint_method: Literal["daly", "young"] = "daly"
    startup_s: float | None = None

    def __post_init__(self) -> None:
        if self.policy not in ("fifo", "priority", "easy_backfill"):
            raise ValueError(f"policy must be 'fifo', 'priority' or 'easy_backfill', got {self.policy!r}")
        if self.backfill_depth < 1:
            raise ValueError("backfill_depth must be >= 1")
