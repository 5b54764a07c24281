"""Training workloads in simpy: gang scheduling, failures, checkpoints, restarts, goodput.

GPU pools (one per hall and accelerator type) are integer node counters per rack group, never one object per
GPU. A node is a server (8 GPUs) or a scale-up domain (72 GPUs for NVL72). Each job is a small state machine
driven by timers with an *epoch* token (a state change invalidates pending timers in O(1)). The timers live
on the engine's own heap, run ahead of simpy time up to the next simpy event (nothing outside the engine can
act earlier, so this equals one simpy timeout per timer). Between interruptions a computing job's
compute/checkpoint cycle is deterministic: only its end is scheduled, and its checkpoints are generated in
one vectorised step when the segment closes. Cost grows with starts, ends, failures and rate changes — not
with GPUs, seconds or checkpoints.

Job life cycle::

    PENDING --submit--> QUEUED --allocate--> STALL(startup) --> COMPUTE <--> CHECKPOINT --> DONE
                          ^                      ^                 |
                          |                      +-- STALL(restart) <-- failure / planned maintenance
                          +---- requeue (no replacement node, or preemption) ------+

Work is measured in seconds of compute at full facility throughput; while computing, a job progresses at
``r(t) = c(t)·(1 − q_p(t))``: the hall's clock (throughput) factor ``c`` (thermal limits, DVFS power caps)
times the share of its priority level ``p`` not paused by the power-capping policy (``q_p``; lowest
priorities are paused first). Both are piecewise constant, changed through
:meth:`TrainingEngine.set_throughput`, which re-anchors only the computing jobs of that hall. Failures are
one thinned Poisson process per pool at the aggregate rate of all its GPUs; a hit on a running job's GPU
interrupts that job, and the class is drawn in proportion to the per-class rates. A failure loses the work
since the last completed checkpoint, costs detection + restart time and takes the node out for its MTTR; a
hot spare (or a free node) replaces it at once, otherwise the job is requeued with its checkpointed progress.

Spot reclaims (a failure class ``spot`` without repair, :meth:`TrainingEngine._reclaim`): the job loses the
work since its last checkpoint (none with an emergency checkpoint within the notice), takes a hot spare or
keeps its other nodes and waits ``replacement_delay_s`` for a new node, then restarts; the reclaimed node is
never repaired (pool count ``replacing``, event ``node_replaced``).

Power loss: when the hall goes dark (:meth:`TrainingEngine.set_power`, announced by the facility controller
when the supply cannot cover what power capping leaves) every running job of its pools is interrupted like a
failure of class ``power`` — the work since its last completed checkpoint is lost — and requeued with its
checkpointed progress; nothing starts in a dark pool, and when power returns the queue is scheduled again (a
restart costs the usual start-up time). The dark time shows as queue wait, not as GPU-hours of the job.

Power: computing GPUs are reported to the ledger in ``Phase.TRAIN_COMPUTE``; checkpoint writes, detection,
restarts and start-up in ``Phase.TRAIN_STALL``. A synchronized checkpoint of a 16k-GPU job therefore shows as
a swing of (compute − stall power) × 16,384 ≈ 10 MW of IT power.

Accounting identity per job (exact)::

    gpu_hours = useful_gpu_hours + lost_work_gpu_hours + checkpoint_gpu_hours + restart_gpu_hours
                + throttled_gpu_hours + paused_gpu_hours

(``throttled``: compute time lost to a clock factor below 1; ``paused``: compute time lost to the power-capping
pause of the job's priority level, ``∫ c·q_p dt`` while computing.)

References
----------
.. [1] Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783, §3.3.4.
.. [2] Lifka, D. (1995). The ANL/IBM SP scheduling system (EASY backfilling). JSSPP '95, LNCS 949.
.. [3] Daly, J. T. (2006). A higher order estimate of the optimum checkpoint interval for restart dumps.
   FGCS 22(3).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

import numpy as np
import pandas as pd
import simpy

from gigawatt.engine.context import SimContext
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import Phase
from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.errors import ScenarioError
from gigawatt.perf import training as perf_training
from gigawatt.perf.cluster_traces import JobMix, generate_job_mix
from gigawatt.perf.reliability import FailureModel, llama3_failure_model, rate_per_gpu_h, spot_rate_per_gpu_h
from gigawatt.scenario.training import JobMixSpec, TrainingWorkload

__all__ = [
    "GROUP_COLUMNS",
    "JobState",
    "LedgerLike",
    "PoolSpec",
    "SchedulerConfig",
    "TrainingEngine",
    "TrainingHandler",
    "TrainingJobSpec",
]

Policy = Literal["fifo", "priority", "easy_backfill"]
#: Interruption groups reported as ``n_interruptions_<group>`` columns of the jobs table.
GROUP_COLUMNS = ("gpu", "network", "host", "software", "planned", "power", "spot")
#: Checkpoint size when a job gives neither ``checkpoint_size_tb`` nor ``model_params`` [TB] (estimate).
DEFAULT_CHECKPOINT_TB: Final = 1.0


class LedgerLike(Protocol):
    """What the engine needs from :class:`gigawatt.engine.ledger.LoadLedger`."""

    def change(self, t_s: float, group: int, phase: Phase | int, delta_gpus: float) -> None: ...


def _step_average(t_s: np.ndarray, delta: np.ndarray, step_s: float, n_steps: int) -> np.ndarray:
    """Step averages of a piecewise-constant level given its changes ``delta`` at times ``t_s``.

    A change ``d`` at ``t`` in step ``k`` adds ``d·((k+1)Δ − t)/Δ`` to step ``k`` and ``d`` to later steps.
    """
    k = np.floor(t_s / step_s).astype(np.int64)
    inside = k < n_steps
    k, t_s, delta = k[inside], t_s[inside], delta[inside]
    full = np.bincount(k + 1, weights=delta, minlength=n_steps + 1)[: n_steps + 1]
    level = np.cumsum(full)[:n_steps]
    part = np.bincount(k, weights=delta * ((k + 1) * step_s - t_s) / step_s, minlength=n_steps)[:n_steps]
    return level + part


class JobState:
    """Job states (plain ints for speed)."""

    PENDING = 0
    QUEUED = 1
    STALL = 2  # start-up, detection + restart
    COMPUTE = 3
    CHECKPOINT = 4
    DONE = 5
    FAILED = 6
    NAMES = ("pending", "queued", "running", "running", "running", "finished", "failed")


#: Columns of :meth:`TrainingEngine.jobs_table` (the table of a run without jobs has these, and no rows).
_JOB_TABLE_COLUMNS = (
    "job",
    "pool",
    "state",
    "n_gpus",
    "n_nodes",
    "priority",
    "submit_s",
    "start_s",
    "end_s",
    "queue_wait_s",
    "work_s",
    "progress_frac",
    "checkpoint_interval_s",
    "n_checkpoints",
    "gpu_hours",
    "useful_gpu_hours",
    "lost_work_gpu_hours",
    "checkpoint_gpu_hours",
    "restart_gpu_hours",
    "throttled_gpu_hours",
    "paused_gpu_hours",
    "goodput_frac",
    "n_interruptions",
    *(f"n_interruptions_{c}" for c in GROUP_COLUMNS),
    "n_preemptions",
    "deadline_s",
    "deadline_met",
)


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
    """

    name: str
    hall_idx: int
    group_idx: tuple[int, ...]
    nodes_per_group: tuple[int, ...]
    gpus_per_node: int = 8
    spare_nodes: int = 0
    group_hall: tuple[int, ...] | None = None
    group_online_s: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
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

    def hall_of(self, group: int) -> int:
        """Hall of a group of the pool."""
        if self.group_hall is None:
            return self.hall_idx
        return self.group_hall[self.group_idx.index(group)]

    @property
    def n_nodes(self) -> int:
        return int(sum(self.nodes_per_group))


@dataclass(frozen=True)
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

    def __post_init__(self) -> None:
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


class _Job:
    __slots__ = (
        "anchor_t",
        "ckpt_end_t",
        "ckpt_progress_s",
        "ckpt_start_progress_s",
        "ckpt_wall_s",
        "compute_wall_s",
        "end_s",
        "epoch",
        "gpus_by_group",
        "idx",
        "interval_s",
        "key",
        "lost_work_s",
        "n_checkpoints",
        "n_int",
        "n_nodes",
        "n_preemptions",
        "nodes_by_group",
        "paused_work_s",
        "phase",
        "phase_since",
        "pool",
        "progress_s",
        "queue_wait_s",
        "queued_since",
        "seg_a",
        "seg_active",
        "seg_c0",
        "seg_clock",
        "seg_cycle",
        "seg_nck",
        "seg_p0",
        "seg_rate",
        "seg_t0",
        "seg_t_fin",
        "spec",
        "stall_wall_s",
        "start_s",
        "state",
        "work_done_s",
    )

    def __init__(self, idx: int, spec: TrainingJobSpec, pool: int, n_nodes: int, interval_s: float) -> None:
        self.idx = idx
        self.spec = spec
        self.pool = pool
        self.n_nodes = n_nodes
        self.interval_s = interval_s
        self.state = JobState.PENDING
        self.key: tuple[float, ...] = ()
        self.epoch = 0
        self.nodes_by_group: dict[int, int] = {}
        self.gpus_by_group: dict[int, int] = {}
        self.phase: int | None = None
        self.phase_since = 0.0
        self.progress_s = 0.0
        self.anchor_t = 0.0
        self.ckpt_progress_s = 0.0
        self.ckpt_start_progress_s = 0.0
        self.work_done_s = 0.0
        self.lost_work_s = 0.0
        self.paused_work_s = 0.0
        self.compute_wall_s = 0.0
        self.ckpt_wall_s = 0.0
        self.stall_wall_s = 0.0
        self.start_s = math.nan
        self.end_s = math.nan
        self.queue_wait_s = 0.0
        self.queued_since = math.nan
        self.n_checkpoints = 0
        self.n_int = dict.fromkeys(GROUP_COLUMNS, 0)
        self.n_preemptions = 0
        self.ckpt_end_t = 0.0
        self.seg_active = False
        self.seg_t0 = self.seg_p0 = self.seg_c0 = self.seg_rate = self.seg_a = self.seg_cycle = 0.0
        self.seg_clock = 0.0
        self.seg_t_fin = 0.0
        self.seg_nck = 0


@dataclass
class _Pool:
    spec: PoolSpec
    free: dict[int, int]  # group -> free nodes (schedulable)
    spare: dict[int, int]  # group -> hot spares
    repair: dict[int, int] = field(default_factory=dict)  # group -> nodes out for repair/maintenance
    replacing: dict[int, int] = field(
        default_factory=dict
    )  # group -> reclaimed spot nodes awaiting a new one
    external: dict[int, int] = field(default_factory=dict)  # group -> nodes lent to other workloads
    queue: list[tuple[tuple[float, ...], int]] = field(default_factory=list)  # sorted (key, job idx)
    running: dict[int, _Job] = field(default_factory=dict)
    computing: dict[int, _Job] = field(default_factory=dict)
    rate: float = 1.0  # clock (throughput) factor of the hall
    paused: dict[int, float] = field(default_factory=dict)  # priority -> paused fraction (power capping)
    paused_default: float = 0.0  # paused fraction of priorities not in ``paused``
    prio_gpus: dict[int, int] = field(default_factory=dict)  # priority -> allocated GPUs of running jobs
    alloc_gpus: int = 0
    dark_halls: set[int] = field(default_factory=set)  # halls of the pool without power (blackout)
    pending: dict[int, int] = field(default_factory=dict)  # group -> nodes not yet commissioned
    retired: set[int] = field(default_factory=set)  # decommissioned groups (their nodes are gone)

    @property
    def dark(self) -> bool:
        """The pool (any of its halls) has no power: nothing runs or starts."""
        return bool(self.dark_halls)

    rng: np.random.Generator | None = None
    # multi-hall pools: per hall (clock factor, paused by priority, paused default); empty for one hall
    hall_factors: dict[int, tuple[float, dict[int, float], float]] = field(default_factory=dict)

    @property
    def n_free(self) -> int:
        return sum(self.free.values())

    @property
    def n_spare(self) -> int:
        return sum(self.spare.values())


class TrainingEngine:
    """Event-driven training scheduler and reliability model on simpy.

    Parameters
    ----------
    env : simpy.Environment
        Simulation environment (time in seconds).
    pools : sequence of PoolSpec
        GPU pools.
    jobs : sequence of TrainingJobSpec
        Jobs (submitted at their ``submit_s``).
    ledger : LedgerLike
        Receives ``change(t_s, group, phase, delta_gpus)`` on every phase transition.
    rng : numpy.random.Generator
        Parent generator; one child stream per pool drives its failures.
    config : SchedulerConfig
        Policy and failure model.
    horizon_s : float, optional
        End of the simulation [s]; failure processes stop there.
    """

    def __init__(
        self,
        env: simpy.Environment,
        pools: Sequence[PoolSpec],
        jobs: Sequence[TrainingJobSpec],
        ledger: LedgerLike,
        rng: np.random.Generator,
        config: SchedulerConfig | None = None,
        horizon_s: float = math.inf,
    ) -> None:
        self.env = env
        self._heap: list[tuple[float, int, Callable[..., None], _Job | None, int]] = []
        self._seq = 0
        self._now = env.now
        self._in_batch = False
        self._alarm_t = math.inf
        self._alarm_ev: simpy.Event | None = None
        # ledger changes are buffered during a batch when the ledger accepts bulk input (change_many)
        self._bulk = callable(getattr(ledger, "change_many", None))
        self._lt: list[float] = []
        self._lg: list[int] = []
        self._lp: list[int] = []
        self._ld: list[float] = []
        self._lchunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.ledger = ledger
        self.config = config or SchedulerConfig()
        self.horizon_s = horizon_s
        names = [p.name for p in pools]
        if len(set(names)) != len(names):
            raise ValueError("pool names must be unique")
        self._pool_index = {p.name: i for i, p in enumerate(pools)}
        child = rng.spawn(len(pools)) if pools else []
        self.pools: list[_Pool] = []
        for i, p in enumerate(pools):
            free = dict(zip(p.group_idx, p.nodes_per_group, strict=True))
            pending: dict[int, int] = {}
            for j, (c, d) in enumerate(p.group_online_s or ()):
                g = p.group_idx[j]
                if d <= env.now:  # retired before the start
                    free[g] = 0
                elif c > env.now:  # commissioned later: its nodes join then
                    pending[g] = free[g]
                    free[g] = 0
            spare: dict[int, int] = {}
            left = p.spare_nodes
            for g in reversed(p.group_idx):  # spares from the last groups
                take = min(left, free[g])
                spare[g] = take
                free[g] -= take
                left -= take
            self.pools.append(_Pool(spec=p, free=free, spare=spare, rng=child[i], pending=pending))
        self._hall_pools: dict[int, list[_Pool]] = {}
        for pool in self.pools:
            for h in pool.spec.halls:
                self._hall_pools.setdefault(h, []).append(pool)
            if len(pool.spec.halls) > 1:
                pool.hall_factors = {h: (1.0, {}, 0.0) for h in pool.spec.halls}

        fm = self.config.failures
        startup = self.config.startup_s
        self._startup_s: float = (0.0 if fm is None else fm.restart_s) if startup is None else startup
        self._fail_rate_per_gpu_s = (
            0.0
            if fm is None
            else (fm.total_rate_per_gpu_h + fm.planned_rate_per_gpu_h + fm.spot_rate_per_gpu_h) / 3600
        )
        if fm is not None:
            # classes, then planned maintenance (index n), then spot reclaims (index n + 1)
            rates = np.append(fm.rate_per_gpu_h, [fm.planned_rate_per_gpu_h, fm.spot_rate_per_gpu_h])
            self._class_cum = np.cumsum(rates) / rates.sum() if rates.sum() > 0 else np.ones(1)
            self._class_cum[-1] = 1.0

        self.jobs: list[_Job] = []
        names_seen: set[str] = set()
        for i, spec in enumerate(jobs):
            if spec.pool not in self._pool_index:
                raise ValueError(f"job {spec.name!r}: unknown pool {spec.pool!r} (pools: {names})")
            if spec.name in names_seen:
                raise ValueError(f"job name {spec.name!r} is used twice")
            names_seen.add(spec.name)
            pi = self._pool_index[spec.pool]
            gpn = self.pools[pi].spec.gpus_per_node
            self.jobs.append(_Job(i, spec, pi, -(-spec.n_gpus // gpn), self._interval(spec)))

        self.n_submitted = self.n_queued = self.n_running = self.n_finished = self.n_failed = 0
        self._ev: list[tuple[float, int, str, int, str, str, str, float, float, int]] = []
        self._listeners: list[Callable[[str, int], None]] = []
        self._count_log: list[tuple[float, int, int, int, int, int, int]] = []
        self._plt: list[float] = []  # phase log (time, phase, delta GPUs) for per-workload columns
        self._plp: list[int] = []
        self._pld: list[float] = []
        self._plchunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._ev_ck: list[tuple[np.ndarray, int]] = []  # checkpoint completions per segment: (times, job)
        for job in self.jobs:
            self._at(job.spec.submit_s, functools.partial(self._submit, job))
        for pool in self.pools:
            for j, (c, d) in enumerate(pool.spec.group_online_s or ()):
                g = pool.spec.group_idx[j]
                if env.now < c < horizon_s:
                    self._at(c, functools.partial(self._commission, pool, g))
                if env.now < d < horizon_s:
                    self._at(d, functools.partial(self._decommission, pool, g))
        if self._fail_rate_per_gpu_s > 0:
            for pool in self.pools:
                self._arm_failure(pool)

    # ------------------------------------------------------------------------------------------ helpers
    def _interval(self, spec: TrainingJobSpec) -> float:
        if spec.checkpoint_interval_s is not None:
            return spec.checkpoint_interval_s
        fm = self.config.failures
        lam = 0.0 if fm is None else fm.lossy_rate_per_gpu_h(spec.checkpoint_write_s)
        if lam <= 0:
            return math.inf
        mtbf = 3600.0 / (spec.n_gpus * lam)  # job_mtbf_s, scalar (failures and lossy spot reclaims)
        d = spec.checkpoint_write_s
        if self.config.checkpoint_method == "young":
            return max(math.sqrt(2.0 * d * mtbf), 1.0)
        # daly_interval_s, scalar (this runs once per job)
        if d >= 2.0 * mtbf:
            return mtbf
        x = d / (2.0 * mtbf)
        return max(math.sqrt(2.0 * d * mtbf) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - d, 1.0)

    # ---------------------------------------------------------------------------- internal event queue
    # The engine keeps its own event heap and runs it ahead of simpy time up to the next simpy event
    # (``env.peek()``): nothing outside the engine can act before then, so the result is the same as one
    # simpy timeout per event, at a fraction of the cost. Public entry points call ``_sync()`` first.
    def _sync(self) -> None:
        if not self._in_batch:
            self._now = self.env.now

    def _push(self, t_s: float, fn: Callable[..., None], job: _Job | None = None, epoch: int = -1) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t_s, self._seq, fn, job, epoch))
        if not self._in_batch and t_s < self._alarm_t:
            self._set_alarm(t_s)

    def _set_alarm(self, t_s: float) -> None:
        """Wake the engine when its earliest pending entry ``t_s`` is due.

        The alarm is held as an event and ``_alarm_t`` is the time simpy will actually fire it
        (``now + (t_s − now)``, which may round one ulp below ``t_s``), so the comparisons in :meth:`_push`
        and :meth:`_on_alarm` never depend on that rounding: an alarm is cleared by identity when it fires.
        """
        now = self.env.now
        delay = max(t_s - now, 0.0)
        ev = self.env.timeout(delay)
        self._alarm_t = now + delay  # what simpy schedules: ``env.now + delay``
        self._alarm_ev = ev
        ev.callbacks.append(self._on_alarm)

    def _on_alarm(self, ev: simpy.Event) -> None:
        now = self.env.now
        if ev is self._alarm_ev:  # the pending alarm fired (a superseded, later one changes nothing)
            self._alarm_t = math.inf
            self._alarm_ev = None
        limit = max(self.env.peek(), now)
        heap = self._heap
        self._in_batch = True
        try:
            while heap and (heap[0][0] < limit or heap[0][0] <= now):
                t_s, _seq, fn, job, epoch = heapq.heappop(heap)
                self._now = t_s
                if job is None:
                    fn()
                elif job.epoch == epoch:
                    fn(job)
        finally:
            self._in_batch = False
            self._now = now
            self._flush()
        if heap and heap[0][0] < self._alarm_t:
            self._set_alarm(heap[0][0])

    def _lchange(self, t_s: float, group: int, phase: int, delta: float) -> None:
        if self._bulk:
            self._lt.append(t_s)
            self._lg.append(group)
            self._lp.append(phase)
            self._ld.append(delta)
        else:
            self.ledger.change(t_s, group, phase, delta)

    def _flush(self) -> None:
        if self._lt or self._lchunks:
            chunks = [
                (
                    np.asarray(self._lt, dtype=float),
                    np.asarray(self._lg, dtype=np.int64),
                    np.asarray(self._lp, dtype=np.int64),
                    np.asarray(self._ld, dtype=float),
                ),
                *self._lchunks,
            ]
            self.ledger.change_many(  # type: ignore[attr-defined]
                *(np.concatenate([c[i] for c in chunks]) for i in range(4))
            )
            self._lt, self._lg, self._lp, self._ld = [], [], [], []
            self._lchunks = []

    def _at(self, t_s: float, fn: Callable[[], None]) -> None:
        self._push(max(t_s, self._now), fn)

    def _timer(self, job: _Job, delay_s: float, fn: Callable[[_Job], None]) -> None:
        job.epoch += 1
        self._push(self._now + max(delay_s, 0.0), fn, job, job.epoch)

    def _event(
        self,
        kind: str,
        job: _Job | None,
        pool: int,
        group: int,
        cause: str = "",
        lost_gpu_h: float = 0.0,
        duration_s: float = 0.0,
    ) -> None:
        self._ev.append(
            (
                self._now,
                -1 if job is None else job.idx,
                "" if job is None else job.spec.name,
                pool,
                self.pools[pool].spec.name,
                kind,
                cause,
                lost_gpu_h,
                duration_s,
                group,
            )
        )

    def _transition(self, job: _Job, state: int, phase: int | None) -> None:
        """Close the time bucket of the current state, move the GPUs between ledger phases, set ``state``."""
        now = self._now
        dt = now - job.phase_since
        if job.phase is not None:
            if job.state == JobState.COMPUTE:
                job.compute_wall_s += dt
            elif job.state == JobState.CHECKPOINT:
                job.ckpt_wall_s += dt
            else:
                job.stall_wall_s += dt
        job.phase_since = now
        job.state = state
        if job.phase != phase:
            n_gpus = job.spec.n_gpus
            if job.phase is not None:
                self._plt.append(now)
                self._plp.append(job.phase)
                self._pld.append(-n_gpus)
            if phase is not None:
                self._plt.append(now)
                self._plp.append(phase)
                self._pld.append(n_gpus)
            old = job.phase
            if self._bulk:
                lt, lg, lp, ld = self._lt, self._lg, self._lp, self._ld
                for g, n in job.gpus_by_group.items():
                    if old is not None:
                        lt.append(now)
                        lg.append(g)
                        lp.append(old)
                        ld.append(-n)
                    if phase is not None:
                        lt.append(now)
                        lg.append(g)
                        lp.append(phase)
                        ld.append(n)
            else:
                for g, n in job.gpus_by_group.items():
                    if old is not None:
                        self.ledger.change(now, g, old, -n)
                    if phase is not None:
                        self.ledger.change(now, g, phase, n)
            job.phase = phase

    def _rate(self, job: _Job) -> float:
        """Progress rate of a computing job: clock factor × (1 − paused fraction of its priority level); over
        several halls the slowest of the job's halls."""
        pool = self.pools[job.pool]
        if pool.hall_factors:
            return self._hall_clock_rate(pool, job)[1]
        return pool.rate * (1.0 - pool.paused.get(job.spec.priority, pool.paused_default))

    def _clock(self, job: _Job) -> float:
        """Clock (throughput) factor a job runs at: its hall's, or the slowest of its halls'."""
        pool = self.pools[job.pool]
        return self._hall_clock_rate(pool, job)[0] if pool.hall_factors else pool.rate

    def _hall_clock_rate(self, pool: _Pool, job: _Job) -> tuple[float, float]:
        """``(min_h c_h, min_h c_h·(1 − q_h,p))`` over the halls holding the job's GPUs (a job spanning halls
        moves in lockstep, so the slowest hall sets its pace)."""
        halls = {pool.spec.hall_of(g) for g in job.gpus_by_group} or set(pool.hall_factors)
        p = job.spec.priority
        clock = rate = math.inf
        for h in halls:
            c, paused, dflt = pool.hall_factors[h]
            clock = min(clock, c)
            rate = min(rate, c * (1.0 - paused.get(p, dflt)))
        return clock, rate

    def _anchor(self, job: _Job) -> None:
        """Bring a computing job up to now: close its compute/checkpoint segment (it may then be inside a
        checkpoint write, state CHECKPOINT) or, at zero rate, just move its anchor."""
        if job.state == JobState.COMPUTE:
            if job.seg_active:
                self._materialize(job)
            else:
                now = self._now
                rate = self._rate(job)
                done = rate * (now - job.anchor_t)
                job.progress_s += done
                job.work_done_s += done
                job.paused_work_s += (self._clock(job) - rate) * (now - job.anchor_t)
                job.anchor_t = now
                job.compute_wall_s += now - job.phase_since
                job.phase_since = now

    def _notify(self, what: str, pool: int) -> None:
        for fn in self._listeners:
            fn(what, pool)

    def add_listener(self, fn: Callable[[str, int], None]) -> None:
        """Call ``fn(what, pool_idx)`` on allocation changes (``"start"``, ``"end"``, ``"requeue"``)."""
        self._listeners.append(fn)

    # ------------------------------------------------------------------------------------- job lifecycle
    def _queue_key(self, job: _Job) -> tuple[float, ...]:
        if self.config.policy == "fifo":
            return (job.spec.submit_s, job.idx)
        return (-job.spec.priority, job.spec.submit_s, job.idx)

    def _enqueue(self, job: _Job) -> None:
        pool = self.pools[job.pool]
        job.state = JobState.QUEUED
        job.queued_since = self._now
        job.key = self._queue_key(job)
        bisect.insort(pool.queue, (job.key, job.idx))
        self.n_queued += 1
        self._log_counts()

    def _submit(self, job: _Job) -> None:
        self.n_submitted += 1
        pool = self.pools[job.pool]
        usable = pool.spec.n_nodes - pool.spec.spare_nodes
        if job.n_nodes > usable:
            job.state = JobState.FAILED
            job.end_s = self._now
            self.n_failed += 1
            self._log_counts()
            self._event("rejected", job, job.pool, -1, f"needs {job.n_nodes} nodes, pool has {usable}")
            return
        self._event("submit", job, job.pool, -1)
        self._enqueue(job)
        self._schedule(pool)

    def _allocate(self, pool: _Pool, job: _Job) -> None:
        need = job.n_nodes
        gpn = pool.spec.gpus_per_node
        left_gpus = job.spec.n_gpus
        job.nodes_by_group = {}
        job.gpus_by_group = {}
        for g in pool.spec.group_idx:
            if need == 0:
                break
            take = min(need, pool.free[g])
            if take:
                pool.free[g] -= take
                need -= take
                job.nodes_by_group[g] = take
                gpus = min(take * gpn, left_gpus)
                job.gpus_by_group[g] = gpus
                left_gpus -= gpus
        if need:
            raise RuntimeError("internal: allocation without enough free nodes")

    def _start(self, pool: _Pool, job: _Job) -> None:
        pool.queue.remove((job.key, job.idx))
        self.n_queued -= 1
        self.n_running += 1
        pool.alloc_gpus += job.spec.n_gpus
        self._log_counts()
        now = self._now
        job.queue_wait_s += now - job.queued_since
        if math.isnan(job.start_s):
            job.start_s = now
        self._allocate(pool, job)
        prio = job.spec.priority
        pool.prio_gpus[prio] = pool.prio_gpus.get(prio, 0) + job.spec.n_gpus
        pool.running[job.idx] = job
        self._event("start", job, job.pool, -1)
        job.phase = None
        job.phase_since = now
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        restart = self._startup_s
        self._timer(job, restart, self._begin_compute)
        self._notify("start", job.pool)

    def _begin_compute(self, job: _Job) -> None:
        self._transition(job, JobState.COMPUTE, Phase.TRAIN_COMPUTE)
        self.pools[job.pool].computing[job.idx] = job
        self._arm_segment(job)

    # ------------------------------------------------------------------ compute/checkpoint segments
    # Between interruptions a computing job follows a deterministic cycle: compute until its progress reaches
    # the next checkpoint, write the checkpoint (delta s), repeat, finish. The engine schedules only the end
    # of that segment; the checkpoints inside it are generated (vectorised) when the segment closes — at its
    # end, or earlier when a failure, preemption, rate change or the end of the run interrupts it.
    def _arm_segment(self, job: _Job) -> None:
        rate = self._rate(job)
        job.anchor_t = self._now
        if rate <= 0:
            job.seg_active = False
            job.epoch += 1  # no progress: nothing to schedule until the rate recovers
            return
        work, tau, d = job.spec.work_s, job.interval_s, job.spec.checkpoint_write_s
        p0, c0 = job.progress_s, job.ckpt_progress_s
        if math.isinf(tau) or c0 + tau >= work:
            nck = 0
            first = work
        else:
            nck = max(math.ceil((work - c0) / tau - 1e-9) - 1, 0)
            first = c0 + tau
        job.seg_active = True
        job.seg_t0 = self._now
        job.seg_p0 = p0
        job.seg_c0 = c0
        job.seg_rate = rate
        job.seg_clock = self._clock(job)
        job.seg_a = max(first - p0, 0.0) / rate
        job.seg_cycle = d + tau / rate if nck else math.inf
        job.seg_nck = nck
        job.seg_t_fin = self._now + max(work - p0, 0.0) / rate + nck * d
        self._timer(job, job.seg_t_fin - self._now, self._on_segment_end)

    def _on_segment_end(self, job: _Job) -> None:
        self._materialize(job, final=True)
        self.pools[job.pool].computing.pop(job.idx, None)
        self._finish(job)

    def _materialize(self, job: _Job, final: bool = False) -> None:
        """Close the job's segment at now: record its checkpoints (events, ledger, accounting) and set its
        state (COMPUTE, or CHECKPOINT when now falls inside a checkpoint write)."""
        now = self._now
        t0, p0, c0, r = job.seg_t0, job.seg_p0, job.seg_c0, job.seg_rate
        tau, d, a, cyc, nck = (
            job.interval_s,
            job.spec.checkpoint_write_s,
            job.seg_a,
            job.seg_cycle,
            job.seg_nck,
        )
        e = now - t0
        in_ckpt = False
        if final:
            m, progress = nck, job.spec.work_s
        elif nck == 0 or e < a:
            m, progress = 0, p0 + r * e
        else:
            k = min(int((e - a) // cyc), nck - 1)
            within = e - a - k * cyc
            if within < d:
                m, in_ckpt, progress = k, True, c0 + (k + 1) * tau
            else:
                m, progress = k + 1, c0 + (k + 1) * tau + r * (within - d)
        n_started = m + int(in_ckpt)
        ckpt_time = m * d
        if n_started:
            starts = t0 + a + cyc * np.arange(n_started)
            ends = starts[:m] + d
            if in_ckpt:
                ckpt_time += now - starts[m]
                job.ckpt_end_t = starts[m] + d
            self._record_checkpoints(job, starts, ends)
        job.compute_wall_s += e - ckpt_time
        job.paused_work_s += (job.seg_clock - r) * (e - ckpt_time)
        job.ckpt_wall_s += ckpt_time
        job.work_done_s += progress - p0
        job.progress_s = progress
        job.ckpt_progress_s = c0 + m * tau if m else c0
        job.n_checkpoints += m
        job.phase_since = now
        job.anchor_t = now
        job.seg_active = False
        job.epoch += 1  # cancel the segment-end timer
        if in_ckpt:
            job.ckpt_start_progress_s = progress
            job.state = JobState.CHECKPOINT
            job.phase = Phase.TRAIN_STALL

    def _record_checkpoints(self, job: _Job, starts: np.ndarray, ends: np.ndarray) -> None:
        """Ledger, phase-log and event entries of checkpoints starting at ``starts`` (completed at ``ends``)."""
        m = ends.size
        n = job.spec.n_gpus
        comp, stall = int(Phase.TRAIN_COMPUTE), int(Phase.TRAIN_STALL)
        # per completed checkpoint, in time order: at start compute -n, stall +n; at end stall -n, compute +n;
        # a checkpoint still being written (starts has one more entry) adds only its start
        t_all = np.column_stack([starts[:m], starts[:m], ends, ends]).ravel()
        ph_all = np.tile([comp, stall, stall, comp], m)
        sign = np.tile([-1.0, 1.0, -1.0, 1.0], m)
        if starts.size > m:
            t_all = np.append(t_all, [starts[m], starts[m]])
            ph_all = np.append(ph_all, [comp, stall])
            sign = np.append(sign, [-1.0, 1.0])
        self._plchunks.append((t_all, ph_all, sign * n))
        for g, ng in job.gpus_by_group.items():
            if self._bulk:
                self._lchunks.append((t_all, np.full(t_all.size, g, dtype=np.int64), ph_all, sign * ng))
            else:
                for t_s, ph, dd in zip(t_all.tolist(), ph_all.tolist(), (sign * ng).tolist(), strict=True):
                    self.ledger.change(t_s, g, ph, dd)
        if m:
            self._ev_ck.append((ends, job.idx))

    def _leave_compute(self, job: _Job) -> None:
        self._anchor(job)
        self.pools[job.pool].computing.pop(job.idx, None)

    def _on_checkpoint_done(self, job: _Job) -> None:
        job.ckpt_progress_s = job.ckpt_start_progress_s
        job.n_checkpoints += 1
        self._event("checkpoint", job, job.pool, -1, duration_s=job.spec.checkpoint_write_s)
        self._begin_compute(job)

    def _release(self, job: _Job) -> None:
        """Return the job's nodes to the pool (GPUs must already be out of the ledger)."""
        pool = self.pools[job.pool]
        for g, n in job.nodes_by_group.items():
            if g not in pool.retired:  # nodes of a decommissioned group are gone
                pool.free[g] += n
        job.nodes_by_group = {}
        job.gpus_by_group = {}
        pool.running.pop(job.idx, None)
        pool.computing.pop(job.idx, None)
        pool.alloc_gpus -= job.spec.n_gpus
        prio = job.spec.priority
        pool.prio_gpus[prio] -= job.spec.n_gpus
        if pool.prio_gpus[prio] == 0:
            del pool.prio_gpus[prio]
        job.epoch += 1
        self.n_running -= 1

    def _finish(self, job: _Job) -> None:
        self._transition(job, JobState.DONE, None)
        self._release(job)
        job.end_s = self._now
        self.n_finished += 1
        self._log_counts()
        self._event("finish", job, job.pool, -1)
        self._notify("end", job.pool)
        self._schedule(self.pools[job.pool])

    def _fail_job(self, job: _Job, reason: str) -> None:
        self._leave_compute(job)
        self._transition(job, JobState.FAILED, None)
        self._release(job)
        job.end_s = self._now
        self.n_failed += 1
        self._log_counts()
        self._event("job_failed", job, job.pool, -1, reason)
        self._notify("end", job.pool)
        self._schedule(self.pools[job.pool])

    def _lose_work(self, job: _Job) -> float:
        """Roll progress back to the last completed checkpoint; returns the lost work [s]."""
        self._leave_compute(job)
        lost = job.progress_s - job.ckpt_progress_s
        job.lost_work_s += lost
        job.progress_s = job.ckpt_progress_s
        return lost

    def _requeue(self, job: _Job, kind: str, cause: str = "") -> None:
        """Release the job's nodes and put it back in the queue with its checkpointed progress."""
        self._transition(job, JobState.QUEUED, None)
        self._release(job)
        self._event(kind, job, job.pool, -1, cause)
        self._enqueue(job)
        self._notify("requeue", job.pool)

    # ---------------------------------------------------------------------------------------- scheduling
    def _expected_end_s(self, job: _Job, rate: float) -> float:
        if job.seg_active:
            return job.seg_t_fin
        remaining = max(job.spec.work_s - job.progress_s, 0.0)
        n_ckpt = 0.0 if math.isinf(job.interval_s) else remaining / job.interval_s
        return self._now + remaining / max(rate, 1e-3) + n_ckpt * job.spec.checkpoint_write_s

    def _schedule(self, pool: _Pool) -> None:
        """Start queued jobs by policy (gang: all nodes or none)."""
        if pool.dark:
            return
        started = False
        while pool.queue:
            head = self.jobs[pool.queue[0][1]]
            if head.n_nodes <= pool.n_free:
                self._start(pool, head)
                started = True
                continue
            if self.config.preemption and self._preempt_for(pool, head):
                continue
            if self.config.policy == "easy_backfill":
                started |= self._backfill(pool, head)
            break
        if started:
            self._schedule_hook(pool)

    def _schedule_hook(self, pool: _Pool) -> None:
        """Extension point called after a scheduling pass started jobs (no-op)."""

    def _backfill(self, pool: _Pool, head: _Job) -> bool:
        free = pool.n_free
        window = pool.queue[1 : 1 + self.config.backfill_depth]
        if free <= 0 or all(self.jobs[idx].n_nodes > free for _key, idx in window):
            return False  # nothing in the window fits the free nodes: skip the shadow-time pass (O(R log R))
        ends = sorted((self._expected_end_s(j, self._rate(j)), j.n_nodes) for j in pool.running.values())
        avail, shadow_s = free, math.inf
        for t_end, n in ends:
            avail += n
            if avail >= head.n_nodes:
                shadow_s = t_end
                break
        extra = avail - head.n_nodes if math.isfinite(shadow_s) else 0
        restart = self._startup_s
        started = False
        for _key, idx in list(pool.queue[1 : 1 + self.config.backfill_depth]):
            if free <= 0:
                break
            job = self.jobs[idx]
            if job.n_nodes > free:
                continue
            end = self._expected_end_s(job, self._rate(job)) + restart
            if end <= shadow_s:
                pass
            elif job.n_nodes <= extra:
                extra -= job.n_nodes
            else:
                continue
            free -= job.n_nodes
            self._start(pool, job)
            self._event("backfill", job, self._pool_index[pool.spec.name], -1)
            started = True
        return started

    def _preemptable(self, pool: _Pool, below_priority: float) -> list[_Job]:
        cands = [j for j in pool.running.values() if j.spec.preemptible and j.spec.priority < below_priority]
        cands.sort(key=lambda j: (j.spec.priority, -j.start_s, -j.idx))  # lowest priority, youngest first
        return cands

    def _preempt_for(self, pool: _Pool, head: _Job) -> bool:
        cands = self._preemptable(pool, head.spec.priority)
        if pool.n_free + sum(j.n_nodes for j in cands) < head.n_nodes:
            return False
        for j in cands:
            if pool.n_free >= head.n_nodes:
                break
            self._preempt(j, cause=f"priority {head.spec.priority} job {head.spec.name}")
        return True

    def preempt(self, job_idx: int, cause: str = "") -> None:
        """Preempt a running job: work since its last checkpoint is lost, it is requeued, and the pool is
        rescheduled (the job may restart at once if nothing else claims its nodes).

        Parameters
        ----------
        job_idx : int
            Job index (row of the jobs table).
        cause : str
            Recorded in the events table.
        """
        self._sync()
        job = self.jobs[job_idx]
        if job.state not in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
            raise ValueError(f"job {job.spec.name!r} is not running")
        self._preempt(job, cause)
        self._schedule(self.pools[job.pool])
        self._flush()

    def _preempt(self, job: _Job, cause: str) -> None:
        lost = self._lose_work(job)
        job.n_preemptions += 1
        self._event("preemption", job, job.pool, -1, cause, lost * job.spec.n_gpus / 3600.0)
        self._requeue(job, "requeue", "preemption")

    # ---------------------------------------------------------------------- hooks for other workloads
    def pool_index(self, name: str) -> int:
        """Index of the pool called ``name``."""
        try:
            return self._pool_index[name]
        except KeyError:
            raise ValueError(f"unknown pool {name!r} (pools: {list(self._pool_index)})") from None

    def acquire_nodes(
        self, pool_idx: int, n_nodes: int, preempt: bool = False, below_priority: float = math.inf
    ) -> dict[int, int]:
        """Lend up to ``n_nodes`` free nodes to another workload (e.g. inference), preempting if asked.

        Parameters
        ----------
        pool_idx : int
            Pool index (:meth:`pool_index`).
        n_nodes : int
            Nodes wanted.
        preempt : bool
            Preempt preemptible training jobs (lowest priority first) when free nodes are short.
        below_priority : float
            Only jobs with a lower priority than this are preempted.

        Returns
        -------
        dict of int to int
            Nodes obtained per rack group (sum may be below ``n_nodes``). The caller reports their power to
            the ledger itself and gives them back with :meth:`release_nodes`.
        """
        self._sync()
        pool = self.pools[pool_idx]
        if n_nodes < 0:
            raise ValueError("n_nodes must be >= 0")
        if preempt and pool.n_free < n_nodes:
            for j in self._preemptable(pool, below_priority):
                if pool.n_free >= n_nodes:
                    break
                self._preempt(j, cause="external preemption")
        got: dict[int, int] = {}
        need = n_nodes
        for g in pool.spec.group_idx:
            take = min(need, pool.free[g])
            if take:
                pool.free[g] -= take
                pool.external[g] = pool.external.get(g, 0) + take
                got[g] = take
                need -= take
        if preempt:
            self._schedule(pool)  # preempted jobs that fit elsewhere in the pool
        self._flush()
        return got

    def release_nodes(self, pool_idx: int, nodes_by_group: dict[int, int]) -> None:
        """Give back nodes obtained from :meth:`acquire_nodes` and reschedule the pool."""
        self._sync()
        pool = self.pools[pool_idx]
        for g, n in nodes_by_group.items():
            if n < 0 or pool.external.get(g, 0) < n:
                raise ValueError(f"releasing {n} nodes of group {g} that were not acquired")
            pool.external[g] -= n
            if g not in pool.retired:
                pool.free[g] += n
        self._schedule(pool)
        self._flush()

    def set_throughput(
        self,
        hall_idx: int,
        throughput_frac: float,
        paused_frac: Mapping[int, float] | None = None,
        paused_default_frac: float = 0.0,
    ) -> None:
        """Set the progress rate of every pool in ``hall_idx`` from now on (cost O(jobs computing there)).

        A computing job of priority ``p`` progresses at ``throughput_frac · (1 − paused_frac[p])``.

        Parameters
        ----------
        hall_idx : int
            Hall index.
        throughput_frac : float
            Facility throughput (clock) factor in [0, 1] (thermal throttling, DVFS power caps).
        paused_frac : mapping of int to float, optional
            Paused fraction in [0, 1] of each training priority level (power capping pauses the lowest
            priorities first; carbon-/price-aware pausing applies to every level).
        paused_default_frac : float
            Paused fraction of priority levels missing from ``paused_frac``.
        """
        self._sync()
        if not 0.0 <= throughput_frac <= 1.0 + 1e-12:
            raise ValueError(f"throughput_frac must be in [0, 1], got {throughput_frac}")
        paused = dict(paused_frac or {})
        for p, q in [*paused.items(), (None, paused_default_frac)]:
            if not 0.0 <= q <= 1.0 + 1e-12:
                what = "paused_default_frac" if p is None else f"paused_frac[{p}]"
                raise ValueError(f"{what} must be in [0, 1], got {q}")
        for pool in self._hall_pools.get(hall_idx, ()):
            if pool.hall_factors:  # several halls: this hall's factors, the jobs with GPUs there re-timed
                if pool.hall_factors[hall_idx] == (throughput_frac, paused, paused_default_frac):
                    continue
                jobs = [
                    j
                    for j in pool.computing.values()
                    if any(pool.spec.hall_of(g) == hall_idx for g in j.gpus_by_group)
                ]
                for job in jobs:
                    self._anchor(job)
                pool.hall_factors[hall_idx] = (throughput_frac, dict(paused), paused_default_frac)
            else:
                if (
                    pool.rate == throughput_frac
                    and pool.paused == paused
                    and pool.paused_default == paused_default_frac
                ):
                    continue
                jobs = list(pool.computing.values())
                for job in jobs:
                    self._anchor(job)
                pool.rate = throughput_frac
                pool.paused = dict(paused)
                pool.paused_default = paused_default_frac
            for job in jobs:
                if job.state == JobState.COMPUTE:
                    self._arm_segment(job)
                else:  # inside a checkpoint write: compute resumes (at the new rate) when it completes
                    pool.computing.pop(job.idx, None)
                    self._timer(job, job.ckpt_end_t - self._now, self._on_checkpoint_done)
        self._flush()

    # ---------------------------------------------------------------------------------------- power loss
    def set_power(self, hall_idx: int, powered: bool, cause: str = "blackout") -> None:
        """The hall loses (``powered=False``) or regains power from now on.

        A pool spanning several halls stops as a whole while any of its halls is dark (conservative: a job
        placed only on the lit halls is interrupted too; gang-scheduled jobs of such pools usually span them).

        On loss, every running job of the hall's pools (starting, computing or writing a checkpoint) is
        interrupted like a failure of class ``power``: the work since its last completed checkpoint is lost
        (``lost_gpu_hours`` of a ``power_loss`` event), ``n_interruptions_power`` counts it (and it counts
        towards ``max_interruptions``), and the job is requeued with its checkpointed progress and its nodes
        released; nodes lent to other workloads stay lent (they are dark too). While the hall is dark nothing
        starts and no failure candidate hits its nodes. On return, a ``power_restored`` event is logged and
        the pools are scheduled (each restarting job pays the start-up time). Cost O(running jobs).

        Parameters
        ----------
        hall_idx : int
            Hall index.
        powered : bool
            Whether the hall has power from now on.
        cause : str
            Recorded in the events table.
        """
        self._sync()
        for pool in self._hall_pools.get(hall_idx, ()):
            was_dark = pool.dark
            if powered:
                pool.dark_halls.discard(hall_idx)
            else:
                pool.dark_halls.add(hall_idx)
            if pool.dark == was_dark:
                continue  # no change, or another hall of a multi-hall pool is still dark
            pi = self._pool_index[pool.spec.name]
            if powered:
                self._event("power_restored", None, pi, -1, cause)
                self._schedule(pool)
                continue
            self._event("power_lost", None, pi, -1, cause)
            for job in sorted(pool.running.values(), key=lambda j: j.idx):
                lost = self._lose_work(job)
                job.n_int["power"] += 1
                self._event("power_loss", job, pi, -1, cause, lost * job.spec.n_gpus / 3600.0)
                mx = job.spec.max_interruptions
                if mx is not None and sum(job.n_int.values()) > mx:
                    self._fail_job(job, f"more than {mx} interruptions")
                    continue
                self._requeue(job, "requeue", cause)
        self._flush()

    # ---------------------------------------------------------------------------- a fleet that changes
    def _commission(self, pool: _Pool, g: int) -> None:
        """Group ``g``'s nodes join the pool (spares are topped up first), and the pool is scheduled."""
        n = pool.pending.pop(g, 0)
        if n <= 0 or g in pool.retired:
            return
        to_spare = min(n, max(pool.spec.spare_nodes - pool.n_spare, 0))
        if to_spare:
            pool.spare[g] = pool.spare.get(g, 0) + to_spare
        pool.free[g] += n - to_spare
        self._event("nodes_commissioned", None, self._pool_index[pool.spec.name], g, "commissioning")
        self._schedule(pool)

    def _decommission(self, pool: _Pool, g: int) -> None:
        """Group ``g`` is retired: its free, spare and pending nodes leave the pool; every running job with a
        node on it is preempted — the work since its last completed checkpoint is lost (``preemption`` event
        with cause ``decommissioning``) — and requeued, its nodes on other groups returned to the pool; nodes
        in repair or lent out do not come back. Then the pool is scheduled."""
        pool.retired.add(g)
        pool.free[g] = 0
        pool.spare[g] = 0
        pool.pending.pop(g, None)
        pi = self._pool_index[pool.spec.name]
        self._event("nodes_decommissioned", None, pi, g, "decommissioning")
        for job in sorted(pool.running.values(), key=lambda j: j.idx):
            if job.nodes_by_group.get(g, 0) > 0:
                self._preempt(job, cause="decommissioning")
        self._schedule(pool)

    # ------------------------------------------------------------------------------------------ failures
    def _arm_failure(self, pool: _Pool) -> None:
        assert pool.rng is not None
        lam = self._fail_rate_per_gpu_s * pool.spec.n_nodes * pool.spec.gpus_per_node
        if lam <= 0:
            return
        t = self._now + pool.rng.exponential(1.0 / lam)
        if t < self.horizon_s:
            self._at(t, functools.partial(self._on_failure_candidate, pool))

    def _on_failure_candidate(self, pool: _Pool) -> None:
        """Thinning: a candidate at the pool's full-capacity rate hits a uniformly random GPU slot.

        Slots ``[0, alloc)`` are the running jobs' GPUs (in pool order), then the idle nodes' GPUs (free, then
        spare); nodes in repair or lent out are not exposed, so those candidates are rejected.
        """
        assert pool.rng is not None and self.config.failures is not None
        fm = self.config.failures
        spec = pool.spec
        pi = self._pool_index[spec.name]
        gpn = spec.gpus_per_node
        if pool.dark:  # unpowered hardware does not fail (the candidate is thinned away)
            self._arm_failure(pool)
            return
        u = pool.rng.random() * spec.n_nodes * gpn
        k = min(int(np.searchsorted(self._class_cum, pool.rng.random(), side="right")), len(fm.names) + 1)
        planned = k == len(fm.names)
        spot = k == len(fm.names) + 1
        if u < pool.alloc_gpus:
            acc = 0.0
            for job in pool.running.values():
                acc += job.spec.n_gpus
                if u < acc:
                    off = u - (acc - job.spec.n_gpus)
                    a2 = 0.0
                    g = -1
                    for gg, n in job.gpus_by_group.items():
                        a2 += n
                        g = gg
                        if off < a2:
                            break
                    if spot:
                        self._reclaim(pool, pi, job, g)
                    else:
                        self._interrupt(pool, pi, job, g, k, planned)
                    break
        elif self.config.idle_node_failures and (planned or spot or fm.needs_repair[k]):
            node = int((u - pool.alloc_gpus) // gpn)
            acc_n = 0
            done = False
            for bucket in (pool.free, pool.spare):
                for g, n in bucket.items():
                    acc_n += n
                    if node < acc_n:
                        bucket[g] -= 1
                        if spot:
                            delay = fm.spot_replacement_delay_s
                            self._event("idle_node_reclaimed", None, pi, g, "spot", duration_s=delay)
                            self._to_replacement(pool, g, delay)
                            done = True
                            break
                        cause = "planned_maintenance" if planned else fm.names[k]
                        out_s = fm.planned_duration_s if planned else float(fm.mttr_s[k])
                        self._event("idle_node_down", None, pi, g, cause, duration_s=out_s)
                        self._to_repair(pool, g, out_s)
                        done = True
                        break
                if done:
                    break
        self._arm_failure(pool)

    def _to_repair(self, pool: _Pool, g: int, out_s: float) -> None:
        pool.repair[g] = pool.repair.get(g, 0) + 1
        self._at(self._now + out_s, lambda: self._repaired(pool, g))

    def _repaired(self, pool: _Pool, g: int) -> None:
        pool.repair[g] -= 1
        if g in pool.retired:  # decommissioned while in repair: the node does not come back
            return
        if pool.n_spare < pool.spec.spare_nodes:
            pool.spare[g] = pool.spare.get(g, 0) + 1
        else:
            pool.free[g] += 1
        self._event("node_repaired", None, self._pool_index[pool.spec.name], g)
        self._schedule(pool)

    def _to_replacement(self, pool: _Pool, g: int, delay_s: float) -> None:
        """A reclaimed spot node leaves the pool; a new one arrives after ``delay_s`` (no repair)."""
        pool.replacing[g] = pool.replacing.get(g, 0) + 1
        self._at(self._now + delay_s, lambda: self._replaced(pool, g))

    def _replaced(self, pool: _Pool, g: int) -> None:
        pool.replacing[g] -= 1
        if pool.n_spare < pool.spec.spare_nodes:
            pool.spare[g] = pool.spare.get(g, 0) + 1
        else:
            pool.free[g] += 1
        self._event("node_replaced", None, self._pool_index[pool.spec.name], g, "spot")
        self._schedule(pool)

    def _reclaim(self, pool: _Pool, pi: int, job: _Job, g: int) -> None:
        """A spot reclaim of one of the job's nodes (interruption class ``spot``; no repair).

        The job loses the work since its last checkpoint (none with an emergency checkpoint that fits within
        the notice: it then pays the write instead) and restarts once it has a node again: a hot spare at
        once (the reclaimed slot returns to the pool as a new node after the replacement delay), otherwise it
        keeps its other nodes and waits for the new node, which joins it directly after the delay. Free nodes
        of the pool are not taken: a spot cluster rents nodes per job, so a free node stands for capacity
        nobody holds. No detection time: the notice announces the reclaim.
        """
        fm = self.config.failures
        assert fm is not None
        restart_s = fm.restart_s
        if not fm.spot_loses_work(job.spec.checkpoint_write_s) and job.state in (
            JobState.COMPUTE,
            JobState.CHECKPOINT,
        ):
            self._leave_compute(job)  # emergency checkpoint within the notice: nothing lost but the write
            job.ckpt_progress_s = job.progress_s
            lost = 0.0
            stall_s = job.spec.checkpoint_write_s + restart_s
        else:
            lost = self._lose_work(job)
            stall_s = restart_s
        job.n_int["spot"] += 1
        self._event("spot_reclaim", job, pi, g, "spot", lost * job.spec.n_gpus / 3600.0)
        delay = fm.spot_replacement_delay_s
        mx = job.spec.max_interruptions
        if mx is not None and sum(job.n_int.values()) > mx:
            job.nodes_by_group[g] -= 1  # the reclaimed node is gone, the others go back to the pool
            self._to_replacement(pool, g, delay)
            self._fail_job(job, f"more than {mx} interruptions")
            return
        spare = next((gg for gg, n in pool.spare.items() if n > 0), None)
        if spare is not None:
            pool.spare[spare] -= 1
            self._to_replacement(pool, g, delay)
            self._move_node(pool, job, g, spare)
            wait_s = 0.0
        else:
            wait_s = delay
            self._at(
                self._now + delay,
                functools.partial(self._event, "node_replaced", job, pi, g, "spot"),
            )
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        self._event("restart", job, pi, g, "spot", duration_s=wait_s + stall_s)
        self._timer(job, wait_s + stall_s, self._begin_compute)

    def _take_replacement(self, pool: _Pool) -> int | None:
        for bucket in (pool.spare, pool.free):
            for g, n in bucket.items():
                if n > 0:
                    bucket[g] -= 1
                    return g
        return None

    def _move_node(self, pool: _Pool, job: _Job, g_from: int, g_to: int) -> None:
        """Replace one of the job's nodes in group ``g_from`` by a node of ``g_to`` (ledger follows)."""
        job.nodes_by_group[g_from] -= 1
        if job.nodes_by_group[g_from] == 0:
            del job.nodes_by_group[g_from]
        job.nodes_by_group[g_to] = job.nodes_by_group.get(g_to, 0) + 1
        if g_from == g_to:
            return
        n = min(pool.spec.gpus_per_node, job.gpus_by_group[g_from])
        job.gpus_by_group[g_from] -= n
        if job.gpus_by_group[g_from] == 0:
            del job.gpus_by_group[g_from]
        job.gpus_by_group[g_to] = job.gpus_by_group.get(g_to, 0) + n
        if job.phase is not None:
            self._lchange(self._now, g_from, job.phase, -n)
            self._lchange(self._now, g_to, job.phase, n)

    def _interrupt(self, pool: _Pool, pi: int, job: _Job, g: int, k: int, planned: bool) -> None:
        fm = self.config.failures
        assert fm is not None
        if planned:
            # automated maintenance drains the job with a final checkpoint: no work is lost
            cause, group, needs_node, out_s = "planned_maintenance", "planned", True, fm.planned_duration_s
            self._leave_compute(job)
            if job.state in (JobState.COMPUTE, JobState.CHECKPOINT):
                job.ckpt_progress_s = job.progress_s
                stall_s = job.spec.checkpoint_write_s + fm.restart_s
            else:
                stall_s = fm.restart_s
            lost = 0.0
        else:
            cause, group = fm.names[k], fm.groups[k]
            needs_node, out_s = bool(fm.needs_repair[k]), float(fm.mttr_s[k])
            lost = self._lose_work(job)
            stall_s = fm.recovery_s
        job.n_int[group] += 1
        self._event(
            "maintenance" if planned else "failure", job, pi, g, cause, lost * job.spec.n_gpus / 3600.0
        )
        mx = job.spec.max_interruptions
        if mx is not None and sum(job.n_int.values()) > mx:
            if needs_node:
                job.nodes_by_group[g] -= 1  # the failed node goes to repair, the others back to the pool
                self._to_repair(pool, g, out_s)
            self._fail_job(job, f"more than {mx} interruptions")
            return
        if needs_node:
            repl = self._take_replacement(pool)
            self._to_repair(pool, g, out_s)
            if repl is None:
                job.nodes_by_group[g] -= 1  # this node goes to repair, the rest back to the pool
                self._requeue(job, "requeue", f"no replacement node after {cause}")
                self._schedule(pool)
                return
            self._move_node(pool, job, g, repl)
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        self._event("restart", job, pi, g, cause, duration_s=stall_s)
        self._timer(job, stall_s, self._begin_compute)

    # ------------------------------------------------------------------------------------------- outputs
    def counts(self) -> dict[str, int]:
        """Job counters now: submitted, queued, running, finished, failed."""
        return {
            "submitted": self.n_submitted,
            "queued": self.n_queued,
            "running": self.n_running,
            "finished": self.n_finished,
            "failed": self.n_failed,
        }

    def pool_nodes(self, pool_idx: int) -> dict[str, int]:
        """Node counts of a pool now: total, allocated, free, spare, repair, replacing (reclaimed spot nodes
        awaiting their replacement), external."""
        pool = self.pools[pool_idx]
        alloc = sum(sum(j.nodes_by_group.values()) for j in pool.running.values())
        return {
            "total": pool.spec.n_nodes,
            "allocated": alloc,
            "free": pool.n_free,
            "spare": pool.n_spare,
            "repair": sum(pool.repair.values()),
            "replacing": sum(pool.replacing.values()),
            "external": sum(pool.external.values()),
        }

    def allocated_gpus_by_priority(self, pool_idx: int) -> dict[int, int]:
        """GPUs allocated to running jobs of the pool, by job priority (kept as jobs start and end)."""
        return dict(self.pools[pool_idx].prio_gpus)

    def allocated_gpus_by_hall_priority(self, pool_idx: int) -> dict[int, dict[int, int]]:
        """GPUs allocated to running jobs of the pool, per hall and job priority (O(running jobs))."""
        pool = self.pools[pool_idx]
        if not pool.hall_factors:
            return {pool.spec.hall_idx: dict(pool.prio_gpus)}
        out: dict[int, dict[int, int]] = {h: {} for h in pool.spec.halls}
        for job in pool.running.values():
            by = out
            for g, n in job.gpus_by_group.items():
                row = by[pool.spec.hall_of(g)]
                row[job.spec.priority] = row.get(job.spec.priority, 0) + n
        return out

    def allocated_gpus(self, pool_idx: int) -> int:
        """GPUs held by running training jobs in the pool now."""
        return self.pools[pool_idx].alloc_gpus

    def _log_counts(self) -> None:
        self._count_log.append(
            (
                self._now,
                self.n_submitted,
                self.n_queued,
                self.n_running,
                self.n_finished,
                self.n_failed,
                sum(p.alloc_gpus for p in self.pools),
            )
        )

    def counter_samples(self, times_s: np.ndarray) -> dict[str, np.ndarray]:
        """Job counters and allocated GPUs as they stood at ``times_s`` (after every event at that time).

        Returns
        -------
        dict of numpy.ndarray
            ``submitted``, ``queued``, ``running``, ``finished``, ``failed``, ``allocated_gpus`` per time.
            ``submitted = finished + running + queued + failed`` holds at every time.
        """
        keys = ("submitted", "queued", "running", "finished", "failed", "allocated_gpus")
        t = np.asarray(times_s, dtype=float)
        if not self._count_log:
            return {k: np.zeros(t.shape, dtype=np.int64) for k in keys}
        log = np.asarray(self._count_log, dtype=float)
        idx = np.searchsorted(log[:, 0], t, side="right") - 1
        vals = np.vstack([np.zeros((1, log.shape[1])), log])[idx + 1]
        return {k: vals[:, i + 1].astype(np.int64) for i, k in enumerate(keys)}

    def phase_occupancy(self, step_s: float, n_steps: int) -> dict[int, np.ndarray]:
        """Step-averaged GPUs of this engine's jobs per ledger phase (exact time weighting).

        Returns
        -------
        dict of int to numpy.ndarray
            ``{Phase.TRAIN_COMPUTE: (n_steps,), Phase.TRAIN_STALL: (n_steps,)}`` [GPUs].
        """
        out = {}
        ch = self._plchunks
        t = np.concatenate([np.asarray(self._plt, dtype=float), *(c[0] for c in ch)])
        p = np.concatenate([np.asarray(self._plp, dtype=np.int64), *(c[1] for c in ch)])
        d = np.concatenate([np.asarray(self._pld, dtype=float), *(c[2] for c in ch)])
        for ph in (Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL):
            sel = p == int(ph)
            out[int(ph)] = _step_average(t[sel], d[sel], step_s, n_steps)
        return out

    def finalize(self) -> None:
        """Close the time buckets of running jobs at ``env.now`` (call once, at the end of the run)."""
        self._sync()
        for job in self.jobs:
            if job.state in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
                self._anchor(job)
                now = self._now
                dt = now - job.phase_since
                if job.state == JobState.COMPUTE:
                    job.compute_wall_s += dt
                elif job.state == JobState.CHECKPOINT:
                    job.ckpt_wall_s += dt
                else:
                    job.stall_wall_s += dt
                job.phase_since = now
            elif job.state == JobState.QUEUED:
                job.queue_wait_s += self._now - job.queued_since
                job.queued_since = self._now

    def jobs_table(self) -> pd.DataFrame:
        """One row per job (call :meth:`finalize` first). Units in column names; times in s since start."""
        rows = []
        for j in self.jobs:
            n = j.spec.n_gpus
            gh = n / 3600.0
            wall = j.compute_wall_s + j.ckpt_wall_s + j.stall_wall_s
            useful = j.progress_s
            row = {
                "job": j.spec.name,
                "pool": j.spec.pool,
                "state": JobState.NAMES[j.state],
                "n_gpus": n,
                "n_nodes": j.n_nodes,
                "priority": j.spec.priority,
                "submit_s": j.spec.submit_s,
                "start_s": j.start_s,
                "end_s": j.end_s,
                "queue_wait_s": j.queue_wait_s,
                "work_s": j.spec.work_s,
                "progress_frac": useful / j.spec.work_s,
                "checkpoint_interval_s": j.interval_s,
                "n_checkpoints": j.n_checkpoints,
                "gpu_hours": wall * gh,
                "useful_gpu_hours": useful * gh,
                "lost_work_gpu_hours": j.lost_work_s * gh,
                "checkpoint_gpu_hours": j.ckpt_wall_s * gh,
                "restart_gpu_hours": j.stall_wall_s * gh,
                "throttled_gpu_hours": (j.compute_wall_s - j.work_done_s - j.paused_work_s) * gh,
                "paused_gpu_hours": j.paused_work_s * gh,
                "goodput_frac": useful / wall if wall > 0 else math.nan,
                "n_interruptions": sum(j.n_int[c] for c in GROUP_COLUMNS if c != "planned"),
                **{f"n_interruptions_{c}": j.n_int[c] for c in GROUP_COLUMNS},
                "n_preemptions": j.n_preemptions,
                "deadline_s": math.nan if j.spec.deadline_s is None else j.spec.deadline_s,
                "deadline_met": (j.state == JobState.DONE and j.end_s <= j.spec.deadline_s)
                if j.spec.deadline_s is not None
                else None,
            }
            rows.append(row)
        if not rows:  # no job (e.g. a sparse mix over a short horizon): same columns, no rows
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _JOB_TABLE_COLUMNS})
        return pd.DataFrame(rows)

    def events_table(self) -> pd.DataFrame:
        """Events in time order: time_s, job_idx, job, pool_idx, pool, kind, cause, lost_gpu_hours,
        duration_s, group_idx (-1 where not applicable)."""
        cols = [
            "time_s",
            "job_idx",
            "job",
            "pool_idx",
            "pool",
            "kind",
            "cause",
            "lost_gpu_hours",
            "duration_s",
            "group_idx",
        ]
        df = pd.DataFrame(self._ev, columns=cols)
        if self._ev_ck:
            times = np.concatenate([c[0] for c in self._ev_ck])
            idx = np.concatenate([np.full(c[0].size, c[1], dtype=np.int64) for c in self._ev_ck])
            names = np.array([j.spec.name for j in self.jobs], dtype=object)
            pidx = np.array([j.pool for j in self.jobs], dtype=np.int64)
            pnames = np.array([p.spec.name for p in self.pools], dtype=object)
            write = np.array([j.spec.checkpoint_write_s for j in self.jobs])
            ck = pd.DataFrame(
                {
                    "time_s": times,
                    "job_idx": idx,
                    "job": names[idx],
                    "pool_idx": pidx[idx],
                    "pool": pnames[pidx[idx]],
                    "kind": "checkpoint",
                    "cause": "",
                    "lost_gpu_hours": 0.0,
                    "duration_s": write[idx],
                    "group_idx": -1,
                }
            )
            df = pd.concat([df, ck], ignore_index=True) if len(df) else ck
        return df.sort_values("time_s", kind="stable", ignore_index=True)


# ============================================================================ scenario wiring (kind: training)
def _forward_power(eng: TrainingEngine, hall: int, _t_s: float, powered: bool) -> None:
    """Board callback: a hall of the pool lost or regained power."""
    eng.set_power(hall, powered)


def _forward_throughput(
    eng: TrainingEngine,
    hall: int,
    _t_s: float,
    clock: float,
    paused: dict[int, float],
    paused_default: float,
) -> None:
    """Training listener of one hall: hand the controller's factors to the engine."""
    eng.set_throughput(hall, clock, paused, paused_default)


def _node_gpus(fleet: Fleet, g: int, override: int | None) -> int:
    if override is not None:
        return override
    rack_gpus = int(fleet.n_gpus[g]) // max(int(fleet.n_racks[g]), 1)
    return 72 if rack_gpus == 72 else int(fleet.gpus_per_server[g])  # NVL72-class scale-up domain


class TrainingHandler(WorkloadHandler):
    """``kind: training``: one gang-scheduled pool on the target, its jobs and job mix, coupled to the facility.

    Time-series columns (``"<workload>:<column>"``): ``training_compute_gpus``, ``training_stall_gpus``,
    ``allocated_gpus`` (step averages), ``allocation_frac`` (allocated / pool GPUs), and job counters at the
    start of each step ``submitted_jobs``, ``queued_jobs``, ``running_jobs``, ``finished_jobs``,
    ``failed_jobs`` (submitted = finished + running + queued + failed).
    """

    kind = "training"

    def __init__(self, spec: Any, ctx: SimContext, index: int) -> None:
        super().__init__(spec, ctx, index)
        wl: TrainingWorkload = spec
        fleet = ctx.fleet
        path = f"workloads[{index}]"
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
        self.hall = int(fleet.group_hall[groups[0]])
        group_hall = tuple(int(fleet.group_hall[g]) for g in groups)
        self.halls = tuple(dict.fromkeys(group_hall))
        self.pool = PoolSpec(
            wl.name,
            self.hall,
            tuple(groups),
            tuple(nodes),
            gpn,
            wl.scheduler.spare_nodes,
            group_hall if len(self.halls) > 1 else None,
            (
                tuple((float(fleet.group_online_s[g, 0]), float(fleet.group_online_s[g, 1])) for g in groups)
                if np.isfinite(fleet.group_online_s[groups]).any()
                else None
            ),
        )
        self.pool_gpus = sum(nodes) * gpn
        accel = fleet.accelerators[groups[0]]
        # a pool over several halls: jobs may span them; the halls are assumed joined at their own fabric's
        # bandwidth (no extra cross-building penalty, an estimate), and the slowest-scaling fabric applies
        fabrics = [fleet.halls[h].fabric for h in self.halls]
        usable_gpus = (sum(nodes) - wl.scheduler.spare_nodes) * gpn

        problems: list[tuple[str, str]] = []
        self.job_specs: list[TrainingJobSpec] = []
        self.job_info: list[dict[str, float]] = []
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
            self.job_specs.append(
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
                )
            )
            self.job_info.append({"mfu_frac": mfu, "tflops_per_gpu": tflops})
        if problems:
            raise ScenarioError(problems)
        if wl.mix is not None:
            self._add_mix(wl.mix, usable_gpus, ctx)

        fm = None
        # absolute rates per node-day count nodes as servers: GPU-weighted over the pool's groups
        pool_servers = sum(
            n * gpn / max(int(fleet.gpus_per_server[g]), 1) for g, n in zip(groups, nodes, strict=True)
        )
        gpus_per_server = self.pool_gpus / max(pool_servers, 1e-9)
        if rel.failures == "llama3":
            fm = (
                llama3_failure_model(rel.detection_s, rel.restart_s, rel.planned_maintenance)
                .with_total_rates(
                    rate_per_gpu_h(
                        rel.failures_per_1000_node_days, rel.failures_per_gpu_day, gpus_per_server
                    ),
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
        self.config = SchedulerConfig(
            policy=wl.scheduler.policy,
            preemption=wl.scheduler.preemption,
            backfill_depth=wl.scheduler.backfill_depth,
            failures=fm,
            idle_node_failures=rel.idle_node_failures,
            checkpoint_method=rel.checkpoint_method,
            startup_s=rel.restart_s,
        )
        self.engine: TrainingEngine | None = None

    def _add_mix(self, mix: JobMixSpec, usable_gpus: int, ctx: SimContext) -> None:
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
        end_h = (
            ctx.clock.horizon_s / 3600.0 if mix.end_h is None else min(mix.end_h, ctx.clock.horizon_s / 3600)
        )
        window_s = max(end_h - mix.start_h, 0.0) * 3600.0
        out = generate_job_mix(
            JobMix(**kw), window_s, ctx.rng("workload", self.spec.name, "mix"), usable_gpus
        )
        for i in range(out["submit_s"].size):
            self.job_specs.append(
                TrainingJobSpec(
                    name=f"{self.spec.name}-mix-{i:05d}",
                    pool=self.spec.name,
                    n_gpus=int(out["n_gpus"][i]),
                    work_s=float(out["work_s"][i]),
                    submit_s=mix.start_h * 3600.0 + float(out["submit_s"][i]),
                    priority=int(out["priority"][i]),
                    checkpoint_write_s=mix.checkpoint_write_s,
                    preemptible=mix.preemptible,
                )
            )
            self.job_info.append({"mfu_frac": math.nan, "tflops_per_gpu": math.nan})

    def start(self) -> None:
        ctx = self.ctx
        eng = TrainingEngine(
            ctx.env,
            [self.pool],
            self.job_specs,
            ctx.ledger,
            ctx.rng("workload", self.spec.name, "failures"),
            self.config,
            horizon_s=ctx.clock.horizon_s,
        )
        self.engine = eng
        board = ctx.throughput
        for hall in self.halls:
            eng.set_throughput(hall, *board.training(hall))
            board.subscribe_training(hall, functools.partial(_forward_throughput, eng, hall))
        # one representative group per hall (the controller weights priorities by its compute power)
        first_group = {self.pool.hall_of(g): g for g in reversed(self.pool.group_idx)}
        board.add_training_source(
            lambda: [
                (hall, first_group[hall], by_prio)
                for hall, by_prio in eng.allocated_gpus_by_hall_priority(0).items()
            ]
        )
        for (
            hall
        ) in self.halls:  # a hall losing power interrupts the pool's jobs (see TrainingEngine.set_power)
            board.subscribe_power(hall, functools.partial(_forward_power, eng, hall))
        ctx.extras.setdefault("training_engines", {})[self.spec.name] = eng

    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        eng = self.engine
        assert eng is not None
        eng.finalize()
        clock = self.ctx.clock
        name = self.spec.name
        occ = eng.phase_occupancy(clock.step_s, clock.n_steps)
        compute = occ[Phase.TRAIN_COMPUTE]
        stall = occ[Phase.TRAIN_STALL]
        cols: dict[str, np.ndarray] = {
            f"{name}:training_compute_gpus": compute,
            f"{name}:training_stall_gpus": stall,
            f"{name}:allocated_gpus": compute + stall,
            f"{name}:allocation_frac": (compute + stall) / self.pool_gpus,
        }
        counts = eng.counter_samples(clock.step_start_s)
        for key in ("submitted", "queued", "running", "finished", "failed"):
            cols[f"{name}:{key}_jobs"] = counts[key].astype(float)

        jobs = eng.jobs_table()
        jobs.insert(0, "workload", name)
        jobs["mfu_frac"] = [i["mfu_frac"] for i in self.job_info]
        jobs["tflops_per_gpu"] = [i["tflops_per_gpu"] for i in self.job_info]
        jobs["checkpoint_write_s"] = [j.checkpoint_write_s for j in self.job_specs]
        for col in ("submit", "start", "end"):
            jobs[f"{col}_time"] = clock.start + pd.to_timedelta(jobs[f"{col}_s"], unit="s")
        events = eng.events_table()
        events.insert(0, "time", clock.start + pd.to_timedelta(events["time_s"], unit="s"))
        events.insert(1, "workload", name)
        gk = self.ctx.fleet.group_keys
        events["rack_group"] = [gk[g] if g >= 0 else "" for g in events["group_idx"]]

        gh = jobs["gpu_hours"].sum()
        kpis = {
            f"{name}:jobs_submitted": float(eng.n_submitted),
            f"{name}:jobs_finished": float(eng.n_finished),
            f"{name}:jobs_failed": float(eng.n_failed),
            f"{name}:interruptions": float(jobs["n_interruptions"].sum()),
            f"{name}:power_interruptions": float(jobs["n_interruptions_power"].sum()),
            f"{name}:gpu_hours": float(gh),
            f"{name}:useful_gpu_hours": float(jobs["useful_gpu_hours"].sum()),
            f"{name}:lost_work_gpu_hours": float(jobs["lost_work_gpu_hours"].sum()),
            f"{name}:checkpoint_gpu_hours": float(jobs["checkpoint_gpu_hours"].sum()),
            f"{name}:restart_gpu_hours": float(jobs["restart_gpu_hours"].sum()),
            f"{name}:throttled_gpu_hours": float(jobs["throttled_gpu_hours"].sum()),
            f"{name}:paused_gpu_hours": float(jobs["paused_gpu_hours"].sum()),
            f"{name}:goodput_frac": float(jobs["useful_gpu_hours"].sum() / gh) if gh > 0 else math.nan,
            f"{name}:mean_allocation_frac": float(np.mean(cols[f"{name}:allocation_frac"])),
        }
        return WorkloadOutput(columns=cols, jobs=jobs, events=events, kpis=kpis)
