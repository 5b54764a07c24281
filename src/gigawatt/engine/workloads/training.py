"""Training workloads in simpy: gang scheduling, failures, checkpoints, restarts, goodput.

GPU pools (one per hall and accelerator type) are integer node counters per rack group, never one object per
GPU. A node is a server (8 GPUs) or a scale-up domain (72 GPUs for NVL72). Each job is a small state machine
driven by simpy timeouts with an *epoch* token (a state change invalidates pending timers in O(1)), so the
cost grows with events (arrivals, starts, checkpoints, failures, rate changes), not with GPUs or seconds.

Job life cycle::

    PENDING --submit--> QUEUED --allocate--> STALL(startup) --> COMPUTE <--> CHECKPOINT --> DONE
                          ^                      ^                 |
                          |                      +-- STALL(restart) <-- failure / planned maintenance
                          +---- requeue (no replacement node, or preemption) ------+

Work is measured in seconds of compute at full facility throughput; while computing, progress advances
at the pool's hall ``throughput_frac`` ``r(t)`` (piecewise constant, changed through
:meth:`TrainingEngine.set_throughput`, which re-anchors only the computing jobs of that hall). Failures are
one thinned Poisson process per pool at the aggregate rate of all its GPUs; a hit on a running job's GPU
interrupts that job, and the class is drawn in proportion to the per-class rates. A failure loses the work
since the last completed checkpoint, costs detection + restart time and takes the node out for its MTTR; a
hot spare (or a free node) replaces it at once, otherwise the job is requeued with its checkpointed progress.

Power: computing GPUs are reported to the ledger in ``Phase.TRAIN_COMPUTE``; checkpoint writes, detection,
restarts and start-up in ``Phase.TRAIN_STALL``. A synchronized checkpoint of a 16k-GPU job therefore shows as
a swing of (compute − stall power) × 16,384 ≈ 10 MW of IT power.

Accounting identity per job (exact)::

    gpu_hours = useful_gpu_hours + lost_work_gpu_hours + checkpoint_gpu_hours + restart_gpu_hours
                + throttled_gpu_hours

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
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import pandas as pd
import simpy

from gigawatt.engine.ledger import Phase
from gigawatt.perf.reliability import FailureModel, daly_interval_s, job_mtbf_s

__all__ = [
    "GROUP_COLUMNS",
    "JobState",
    "LedgerLike",
    "PoolSpec",
    "SchedulerConfig",
    "TrainingEngine",
    "TrainingJobSpec",
]

Policy = Literal["fifo", "priority", "easy_backfill"]
#: Interruption groups reported as ``n_interruptions_<group>`` columns of the jobs table.
GROUP_COLUMNS = ("gpu", "network", "host", "software", "planned")
_EPS_S = 1e-9


class LedgerLike(Protocol):
    """What the engine needs from :class:`gigawatt.engine.ledger.LoadLedger`."""

    def change(self, t_s: float, group: int, phase: Phase | int, delta_gpus: float) -> None: ...


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


@dataclass(frozen=True)
class PoolSpec:
    """A gang-scheduling pool: the nodes of one accelerator type in one hall.

    Attributes
    ----------
    name : str
        Pool identifier (jobs name it).
    hall_idx : int
        Hall whose ``throughput_frac`` sets the progress rate.
    group_idx : tuple of int
        Ledger rack-group indices whose nodes form the pool.
    nodes_per_group : tuple of int
        Nodes (servers or NVL72 domains) contributed by each group.
    gpus_per_node : int
        Accelerators per node: 8 for HGX servers, 72 for NVL72 domains.
    spare_nodes : int
        Hot-standby nodes held back from scheduling to replace failed nodes at once.
    """

    name: str
    hall_idx: int
    group_idx: tuple[int, ...]
    nodes_per_group: tuple[int, ...]
    gpus_per_node: int = 8
    spare_nodes: int = 0

    def __post_init__(self) -> None:
        if len(self.group_idx) == 0 or len(self.group_idx) != len(self.nodes_per_group):
            raise ValueError(
                f"pool {self.name!r}: group_idx and nodes_per_group must be non-empty, equal length"
            )
        if any(n < 0 for n in self.nodes_per_group) or self.gpus_per_node <= 0:
            raise ValueError(f"pool {self.name!r}: node counts must be >= 0 and gpus_per_node > 0")
        if not 0 <= self.spare_nodes <= sum(self.nodes_per_group):
            raise ValueError(f"pool {self.name!r}: spare_nodes must be between 0 and the pool's node count")

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
    """

    policy: Policy = "fifo"
    preemption: bool = False
    backfill_depth: int = 100
    failures: FailureModel | None = None
    idle_node_failures: bool = True
    checkpoint_method: Literal["daly", "young"] = "daly"

    def __post_init__(self) -> None:
        if self.policy not in ("fifo", "priority", "easy_backfill"):
            raise ValueError(f"policy must be 'fifo', 'priority' or 'easy_backfill', got {self.policy!r}")
        if self.backfill_depth < 1:
            raise ValueError("backfill_depth must be >= 1")


class _Job:
    __slots__ = (
        "anchor_t",
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
        "phase",
        "phase_since",
        "pool",
        "progress_s",
        "queue_wait_s",
        "queued_since",
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


@dataclass
class _Pool:
    spec: PoolSpec
    free: dict[int, int]  # group -> free nodes (schedulable)
    spare: dict[int, int]  # group -> hot spares
    repair: dict[int, int] = field(default_factory=dict)  # group -> nodes out for repair/maintenance
    external: dict[int, int] = field(default_factory=dict)  # group -> nodes lent to other workloads
    queue: list[tuple[tuple[float, ...], int]] = field(default_factory=list)  # sorted (key, job idx)
    running: dict[int, _Job] = field(default_factory=dict)
    computing: dict[int, _Job] = field(default_factory=dict)
    rate: float = 1.0
    alloc_gpus: int = 0
    rng: np.random.Generator | None = None

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
            spare: dict[int, int] = {}
            left = p.spare_nodes
            for g in reversed(p.group_idx):  # spares from the last groups
                take = min(left, free[g])
                spare[g] = take
                free[g] -= take
                left -= take
            self.pools.append(_Pool(spec=p, free=free, spare=spare, rng=child[i]))
        self._hall_pools: dict[int, list[_Pool]] = {}
        for pool in self.pools:
            self._hall_pools.setdefault(pool.spec.hall_idx, []).append(pool)

        fm = self.config.failures
        self._fail_rate_per_gpu_s = (
            0.0 if fm is None else (fm.total_rate_per_gpu_h + fm.planned_rate_per_gpu_h) / 3600
        )
        if fm is not None:
            rates = np.append(fm.rate_per_gpu_h, fm.planned_rate_per_gpu_h)
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
        for job in self.jobs:
            self._at(job.spec.submit_s, functools.partial(self._submit, job))
        if self._fail_rate_per_gpu_s > 0:
            for pool in self.pools:
                self._arm_failure(pool)

    # ------------------------------------------------------------------------------------------ helpers
    def _interval(self, spec: TrainingJobSpec) -> float:
        if spec.checkpoint_interval_s is not None:
            return spec.checkpoint_interval_s
        fm = self.config.failures
        if fm is None or fm.total_rate_per_gpu_h <= 0:
            return math.inf
        mtbf = float(job_mtbf_s(spec.n_gpus, fm.total_rate_per_gpu_h))
        if self.config.checkpoint_method == "young":
            return max(math.sqrt(2.0 * spec.checkpoint_write_s * mtbf), 1.0)
        return max(float(daly_interval_s(spec.checkpoint_write_s, mtbf)), 1.0)

    def _at(self, t_s: float, fn: Callable[[], None]) -> None:
        ev = self.env.timeout(max(t_s - self.env.now, 0.0))
        ev.callbacks.append(lambda _e: fn())

    def _timer(self, job: _Job, delay_s: float, fn: Callable[[_Job], None]) -> None:
        job.epoch += 1
        ep = job.epoch
        ev = self.env.timeout(max(delay_s, 0.0))
        ev.callbacks.append(lambda _e: fn(job) if job.epoch == ep else None)

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
                self.env.now,
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
        now = self.env.now
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
            for g, n in job.gpus_by_group.items():
                if job.phase is not None:
                    self.ledger.change(now, g, job.phase, -n)
                if phase is not None:
                    self.ledger.change(now, g, phase, n)
            job.phase = phase

    def _anchor(self, job: _Job) -> None:
        """Bring ``progress_s`` up to now (computing jobs only)."""
        if job.state == JobState.COMPUTE:
            now = self.env.now
            done = self.pools[job.pool].rate * (now - job.anchor_t)
            job.progress_s += done
            job.work_done_s += done
            job.anchor_t = now

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
        job.queued_since = self.env.now
        job.key = self._queue_key(job)
        bisect.insort(pool.queue, (job.key, job.idx))
        self.n_queued += 1

    def _submit(self, job: _Job) -> None:
        self.n_submitted += 1
        pool = self.pools[job.pool]
        usable = pool.spec.n_nodes - pool.spec.spare_nodes
        if job.n_nodes > usable:
            job.state = JobState.FAILED
            job.end_s = self.env.now
            self.n_failed += 1
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
        now = self.env.now
        job.queue_wait_s += now - job.queued_since
        if math.isnan(job.start_s):
            job.start_s = now
        self._allocate(pool, job)
        pool.running[job.idx] = job
        pool.alloc_gpus += job.spec.n_gpus
        self._event("start", job, job.pool, -1)
        job.phase = None
        job.phase_since = now
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        restart = 0.0 if self.config.failures is None else self.config.failures.restart_s
        self._timer(job, restart, self._begin_compute)
        self._notify("start", job.pool)

    def _begin_compute(self, job: _Job) -> None:
        self._transition(job, JobState.COMPUTE, Phase.TRAIN_COMPUTE)
        job.anchor_t = self.env.now
        self.pools[job.pool].computing[job.idx] = job
        self._arm_work(job)

    def _target(self, job: _Job) -> float:
        return min(job.ckpt_progress_s + job.interval_s, job.spec.work_s)

    def _arm_work(self, job: _Job) -> None:
        """Schedule the next work milestone (checkpoint due or completion) at the current rate."""
        rate = self.pools[job.pool].rate
        if rate <= 0:
            job.epoch += 1  # no progress: cancel the milestone until the rate recovers
            return
        self._timer(job, (self._target(job) - job.progress_s) / rate, self._on_milestone)

    def _leave_compute(self, job: _Job) -> None:
        self._anchor(job)
        self.pools[job.pool].computing.pop(job.idx, None)

    def _on_milestone(self, job: _Job) -> None:
        self._anchor(job)
        target = self._target(job)
        if target - job.progress_s > 1e-9 * max(1.0, target):  # not there yet (rounding): re-arm
            self._arm_work(job)
            return
        job.work_done_s += target - job.progress_s  # snap the rounding residue
        job.progress_s = target
        self.pools[job.pool].computing.pop(job.idx, None)
        if job.progress_s >= job.spec.work_s:
            self._finish(job)
            return
        self._transition(job, JobState.CHECKPOINT, Phase.TRAIN_STALL)
        job.ckpt_start_progress_s = job.progress_s
        self._timer(job, job.spec.checkpoint_write_s, self._on_checkpoint_done)

    def _on_checkpoint_done(self, job: _Job) -> None:
        job.ckpt_progress_s = job.ckpt_start_progress_s
        job.n_checkpoints += 1
        self._event("checkpoint", job, job.pool, -1, duration_s=job.spec.checkpoint_write_s)
        self._begin_compute(job)

    def _release(self, job: _Job) -> None:
        """Return the job's nodes to the pool (GPUs must already be out of the ledger)."""
        pool = self.pools[job.pool]
        for g, n in job.nodes_by_group.items():
            pool.free[g] += n
        job.nodes_by_group = {}
        job.gpus_by_group = {}
        pool.running.pop(job.idx, None)
        pool.computing.pop(job.idx, None)
        pool.alloc_gpus -= job.spec.n_gpus
        job.epoch += 1
        self.n_running -= 1

    def _finish(self, job: _Job) -> None:
        self._transition(job, JobState.DONE, None)
        self._release(job)
        job.end_s = self.env.now
        self.n_finished += 1
        self._event("finish", job, job.pool, -1)
        self._notify("end", job.pool)
        self._schedule(self.pools[job.pool])

    def _fail_job(self, job: _Job, reason: str) -> None:
        self._leave_compute(job)
        self._transition(job, JobState.FAILED, None)
        self._release(job)
        job.end_s = self.env.now
        self.n_failed += 1
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
        remaining = max(job.spec.work_s - job.progress_s, 0.0)
        n_ckpt = 0.0 if math.isinf(job.interval_s) else remaining / job.interval_s
        return self.env.now + remaining / max(rate, 1e-3) + n_ckpt * job.spec.checkpoint_write_s

    def _schedule(self, pool: _Pool) -> None:
        """Start queued jobs by policy (gang: all nodes or none)."""
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
        ends = sorted((self._expected_end_s(j, pool.rate), j.n_nodes) for j in pool.running.values())
        avail, shadow_s = free, math.inf
        for t_end, n in ends:
            avail += n
            if avail >= head.n_nodes:
                shadow_s = t_end
                break
        extra = avail - head.n_nodes if math.isfinite(shadow_s) else 0
        restart = 0.0 if self.config.failures is None else self.config.failures.restart_s
        started = False
        for _key, idx in list(pool.queue[1 : 1 + self.config.backfill_depth]):
            if free <= 0:
                break
            job = self.jobs[idx]
            if job.n_nodes > free:
                continue
            end = self._expected_end_s(job, pool.rate) + restart
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
            self.preempt(j, cause=f"priority {head.spec.priority} job {head.spec.name}")
        return True

    def preempt(self, job_idx_or_job: int | _Job, cause: str = "") -> None:
        """Preempt a running job: work since its last checkpoint is lost and it is requeued.

        Parameters
        ----------
        job_idx_or_job : int or job
            Job index (row of the jobs table) or internal job.
        cause : str
            Recorded in the events table.
        """
        job = self.jobs[job_idx_or_job] if isinstance(job_idx_or_job, int) else job_idx_or_job
        if job.state not in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
            raise ValueError(f"job {job.spec.name!r} is not running")
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
        pool = self.pools[pool_idx]
        if n_nodes < 0:
            raise ValueError("n_nodes must be >= 0")
        if preempt and pool.n_free < n_nodes:
            for j in self._preemptable(pool, below_priority):
                if pool.n_free >= n_nodes:
                    break
                self.preempt(j, cause="external preemption")
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
        return got

    def release_nodes(self, pool_idx: int, nodes_by_group: dict[int, int]) -> None:
        """Give back nodes obtained from :meth:`acquire_nodes` and reschedule the pool."""
        pool = self.pools[pool_idx]
        for g, n in nodes_by_group.items():
            if n < 0 or pool.external.get(g, 0) < n:
                raise ValueError(f"releasing {n} nodes of group {g} that were not acquired")
            pool.external[g] -= n
            pool.free[g] += n
        self._schedule(pool)

    def set_throughput(self, hall_idx: int, throughput_frac: float) -> None:
        """Set the progress rate of every pool in ``hall_idx`` from now on (cost O(jobs computing there)).

        Parameters
        ----------
        hall_idx : int
            Hall index.
        throughput_frac : float
            Facility throughput factor in [0, 1] (thermal throttling, power caps, curtailment).
        """
        if not 0.0 <= throughput_frac <= 1.0 + 1e-12:
            raise ValueError(f"throughput_frac must be in [0, 1], got {throughput_frac}")
        for pool in self._hall_pools.get(hall_idx, ()):
            if pool.rate == throughput_frac:
                continue
            for job in pool.computing.values():
                self._anchor(job)
            pool.rate = throughput_frac
            for job in list(pool.computing.values()):
                self._arm_work(job)

    # ------------------------------------------------------------------------------------------ failures
    def _arm_failure(self, pool: _Pool) -> None:
        assert pool.rng is not None
        lam = self._fail_rate_per_gpu_s * pool.spec.n_nodes * pool.spec.gpus_per_node
        if lam <= 0:
            return
        t = self.env.now + pool.rng.exponential(1.0 / lam)
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
        u = pool.rng.random() * spec.n_nodes * gpn
        k = min(int(np.searchsorted(self._class_cum, pool.rng.random(), side="right")), len(fm.names))
        planned = k == len(fm.names)
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
                    self._interrupt(pool, pi, job, g, k, planned)
                    break
        elif self.config.idle_node_failures and (planned or fm.needs_repair[k]):
            node = int((u - pool.alloc_gpus) // gpn)
            acc_n = 0
            done = False
            for bucket in (pool.free, pool.spare):
                for g, n in bucket.items():
                    acc_n += n
                    if node < acc_n:
                        bucket[g] -= 1
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
        self._at(self.env.now + out_s, lambda: self._repaired(pool, g))

    def _repaired(self, pool: _Pool, g: int) -> None:
        pool.repair[g] -= 1
        if pool.n_spare < pool.spec.spare_nodes:
            pool.spare[g] = pool.spare.get(g, 0) + 1
        else:
            pool.free[g] += 1
        self._event("node_repaired", None, self._pool_index[pool.spec.name], g)
        self._schedule(pool)

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
            self.ledger.change(self.env.now, g_from, job.phase, -n)
            self.ledger.change(self.env.now, g_to, job.phase, n)

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
        """Node counts of a pool now: total, allocated, free, spare, repair, external."""
        pool = self.pools[pool_idx]
        alloc = sum(sum(j.nodes_by_group.values()) for j in pool.running.values())
        return {
            "total": pool.spec.n_nodes,
            "allocated": alloc,
            "free": pool.n_free,
            "spare": pool.n_spare,
            "repair": sum(pool.repair.values()),
            "external": sum(pool.external.values()),
        }

    def allocated_gpus(self, pool_idx: int) -> int:
        """GPUs held by running training jobs in the pool now."""
        return self.pools[pool_idx].alloc_gpus

    def recorder(self, step_s: float, n_steps: int) -> simpy.Process:
        """Start a process sampling counters at ``k·step_s`` (k = 1..n_steps); read :attr:`samples`."""
        self.samples: dict[str, list[int]] = {
            k: [] for k in ("submitted", "queued", "running", "finished", "failed", "allocated_gpus")
        }

        def proc() -> simpy.events.ProcessGenerator:
            for _ in range(n_steps):
                yield self.env.timeout(step_s)
                for key, v in self.counts().items():
                    self.samples[key].append(v)
                self.samples["allocated_gpus"].append(sum(p.alloc_gpus for p in self.pools))

        return self.env.process(proc())

    def finalize(self) -> None:
        """Close the time buckets of running jobs at ``env.now`` (call once, at the end of the run)."""
        for job in self.jobs:
            if job.state in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
                self._anchor(job)
                now = self.env.now
                dt = now - job.phase_since
                if job.state == JobState.COMPUTE:
                    job.compute_wall_s += dt
                elif job.state == JobState.CHECKPOINT:
                    job.ckpt_wall_s += dt
                else:
                    job.stall_wall_s += dt
                job.phase_since = now
            elif job.state == JobState.QUEUED:
                job.queue_wait_s += self.env.now - job.queued_since
                job.queued_since = self.env.now

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
                "throttled_gpu_hours": (j.compute_wall_s - j.work_done_s) * gh,
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
        return pd.DataFrame(self._ev, columns=cols)
