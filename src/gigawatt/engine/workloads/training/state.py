"""Run-time state of the training engine: job and pool records, and the state every part shares.

:class:`EngineState` declares the attributes of :class:`~gigawatt.engine.workloads.training.engine.TrainingEngine`
and (for type checking only) the methods one part of the engine calls in another; each part
(:mod:`.events`, :mod:`.jobs`, :mod:`.progress`, :mod:`.scheduling`, :mod:`.lending`, :mod:`.failures`,
:mod:`.commissioning`, :mod:`.report`) is a mixin over it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from gigawatt.engine.workloads.training.specs import (
    GROUP_COLUMNS,
    LedgerLike,
    PoolSpec,
    SchedulerConfig,
    TrainingJobSpec,
)

__all__ = ["NO_GROUPS", "NO_INTERRUPTIONS", "EngineState", "Job", "JobState", "Pool"]


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


class Job:
    """A job at run time: state, epoch token of its pending timer, nodes held, progress, time buckets
    (the terms of the accounting identity) and its current compute/checkpoint segment (``seg_*``)."""

    __slots__ = (
        "anchor_t",
        "ckpt_end_t",
        "ckpt_progress_s",
        "ckpt_start_progress_s",
        "ckpt_wall_s",
        "comm_factor",
        "comm_work_s",
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
        "run_slot",
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
        "span_halls",
        "span_sites",
        "span_where",
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
        # the shared empty mapping until the job is placed (``_allocate`` gives it its own), and again once
        # released: two empty dicts less per job (a year's 316,000 jobs)
        self.nodes_by_group: dict[int, int] = NO_GROUPS
        self.gpus_by_group: dict[int, int] = NO_GROUPS
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
        self.run_slot = -1  # position among the pool's running jobs (Pool.job_at_gpu)
        self.n_checkpoints = 0
        self.n_int: Mapping[str, int] = (
            NO_INTERRUPTIONS  # shared until the first interruption (count_interruption)
        )
        self.n_preemptions = 0
        self.ckpt_end_t = 0.0
        self.seg_active = False
        self.seg_t0 = self.seg_p0 = self.seg_c0 = self.seg_rate = self.seg_a = self.seg_cycle = 0.0
        self.seg_clock = 0.0
        self.seg_t_fin = 0.0
        self.seg_nck = 0
        # across halls/sites (spanning.py): communication factor of the current placement, the compute time
        # it cost [s], and the most halls and sites the job's GPUs were in
        self.comm_factor = 1.0
        self.comm_work_s = 0.0
        self.span_halls = 0
        self.span_sites = 0
        self.span_where: tuple[int, ...] = ()  # halls of its widest placement over several halls

    def retire(self) -> None:
        """Drop what a job in a final state (finished, failed) no longer needs: its queue key and the floats of
        its last segment and anchors (set to shared zeros), so a finished job keeps only what the jobs table
        reads (about 400 bytes less each)."""
        self.key = ()
        self.seg_t0 = self.seg_p0 = self.seg_c0 = self.seg_rate = self.seg_a = self.seg_cycle = 0.0
        self.seg_clock = self.seg_t_fin = self.anchor_t = self.phase_since = self.queued_since = 0.0
        self.ckpt_progress_s = self.ckpt_start_progress_s = self.ckpt_end_t = 0.0

    def count_interruption(self, group: str) -> None:
        """Count an interruption of class ``group`` (a column of ``GROUP_COLUMNS``)."""
        n_int = self.n_int
        if not isinstance(n_int, dict):  # the shared zeros: the job's own counts from now on
            n_int = dict.fromkeys(GROUP_COLUMNS, 0)
            self.n_int = n_int
        n_int[group] += 1


class _NoGroups(dict[int, int]):
    """The empty nodes/GPUs-by-group mapping shared by every job that holds no nodes (read-only: a job is
    given its own dict when it is placed)."""

    def _read_only(self, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError(
            "internal: the shared empty nodes/GPUs-by-group mapping of unplaced jobs was changed"
        )

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _read_only  # type: ignore[assignment]


#: Nodes or GPUs by rack group of a job that holds none (shared; see :class:`_NoGroups`).
NO_GROUPS: dict[int, int] = _NoGroups()

#: The interruption counts of a job never interrupted (shared read-only; a job gets its own on the first).
NO_INTERRUPTIONS: Mapping[str, int] = MappingProxyType(dict.fromkeys(GROUP_COLUMNS, 0))


@dataclass
class Pool:
    """A pool at run time: node counters per rack group, queue, running jobs, rate factors, power state."""

    spec: PoolSpec
    free: dict[int, int]  # group -> free nodes (schedulable)
    spare: dict[int, int]  # group -> hot spares
    repair: dict[int, int] = field(default_factory=dict)  # group -> nodes out for repair/maintenance
    replacing: dict[int, int] = field(
        default_factory=dict
    )  # group -> reclaimed spot nodes awaiting a new one
    external: dict[int, int] = field(default_factory=dict)  # group -> nodes lent to other workloads
    queue: list[tuple[tuple[float, ...], int]] = field(default_factory=list)  # sorted (key, job idx)
    # aligned with ``queue``: nodes, remaining work [s] and checkpoint time still to write [s] (fixed while a
    # job waits) and priority of each queued job, for EASY backfill's vectorised pass
    q_nodes: list[int] = field(default_factory=list)
    q_rem_s: list[float] = field(default_factory=list)
    q_ckpt_s: list[float] = field(default_factory=list)
    q_prio: list[int] = field(default_factory=list)
    # changes whenever the backfill window (the queue's first 1 + backfill_depth entries) changes, and what the
    # last EASY pass that started nothing learnt: (window version, rate per priority, time [s], the earliest
    # expected end + start-up time of the window's jobs [s])
    q_version: int = 0
    bf_memo: tuple[int, dict[int, float], float, float] | None = None
    # the window's summary while it does not change (Scheduling._window): (window version, fewest nodes of its
    # jobs, each priority in it with its first position)
    bf_win: tuple[int, int, list[tuple[int, int]]] | None = None
    running: dict[int, Job] = field(default_factory=dict)
    computing: dict[int, Job] = field(default_factory=dict)
    # running jobs by expected end (EASY backfill's shadow time): those with an armed compute segment as sorted
    # (segment end [s], nodes, job idx) -- the end is fixed until the segment closes -- and the others
    # (starting, restarting, inside a checkpoint write, or at zero rate), whose end moves with time
    seg_ends: list[tuple[float, int, int]] = field(default_factory=list)
    unarmed: dict[int, Job] = field(default_factory=dict)
    rate: float = 1.0  # clock (throughput) factor of the hall
    paused: dict[int, float] = field(default_factory=dict)  # priority -> paused fraction (power capping)
    paused_default: float = 0.0  # paused fraction of priorities not in ``paused``
    prio_gpus: dict[int, int] = field(default_factory=dict)  # priority -> allocated GPUs of running jobs
    alloc_gpus: int = 0
    dark_halls: set[int] = field(default_factory=set)  # halls of the pool without power (blackout)
    pending: dict[int, int] = field(default_factory=dict)  # group -> nodes not yet commissioned
    retired: set[int] = field(default_factory=set)  # decommissioned groups (their nodes are gone)
    # pools with priced links (spanning.py): dark halls, and per group the idle nodes held while it is dark
    span_dark: set[int] = field(default_factory=set)
    unpowered: dict[int, int] = field(default_factory=dict)

    @property
    def dark(self) -> bool:
        """The pool (any of its halls) has no power: nothing runs or starts."""
        return bool(self.dark_halls)

    rng: np.random.Generator | None = None
    idx: int = 0  # position among the engine's pools
    usable_nodes: int = 0  # nodes a job may use (``spec.n_nodes − spec.spare_nodes``)
    # multi-hall pools: per hall (clock factor, paused by priority, paused default); empty for one hall
    hall_factors: dict[int, tuple[float, dict[int, float], float]] = field(default_factory=dict)

    # running jobs in start order (the order of ``running``) with their GPUs, for failure candidates: a slot per
    # start, emptied (None, 0 GPUs) on release and compacted when more than half are empty; the GPUs are also
    # held in a binary indexed (Fenwick) tree over the slots (1-based, a power of two of them), so a start, a
    # release and a candidate's lookup each cost O(log slots)
    run_gpus: list[int] = field(default_factory=list)
    run_jobs: list[Job | None] = field(default_factory=list)
    run_dead: int = 0
    run_tree: list[int] = field(default_factory=lambda: [0] * 65)
    # failure candidates (failures.py): their rate at full capacity [1/s], set on first use, and callback
    fail_lam: float | None = None
    fail_nodes: int = 0  # nodes of the pool (``spec.n_nodes``)
    fail_scale_s: float = 0.0  # mean time between candidates, 1 / fail_lam [s]
    fail_cb: Callable[[], None] | None = None
    # node repairs and replacements (failures.py): one callback per rack group, made on first use
    repair_cb: dict[int, Callable[[], None]] = field(default_factory=dict)
    replaced_cb: dict[int, Callable[[], None]] = field(default_factory=dict)

    def _build_tree(self, n_slots: int) -> None:
        """The Fenwick tree of ``run_gpus`` over ``n_slots`` slots (a power of two), built in O(slots)."""
        t = [0] * (n_slots + 1)
        t[1 : len(self.run_gpus) + 1] = self.run_gpus
        for i in range(1, n_slots + 1):
            j = i + (i & -i)
            if j <= n_slots:
                t[j] += t[i]
        self.run_tree = t

    def add_running(self, job: Job) -> None:
        """Give a starting job the next slot (after every running job, as in ``running``)."""
        slot = len(self.run_jobs)
        n = job.spec.n_gpus
        self.run_jobs.append(job)
        self.run_gpus.append(n)
        job.run_slot = slot
        t = self.run_tree
        size = len(t) - 1
        if slot >= size:
            self._build_tree(2 * size)
            return
        i = slot + 1
        while i <= size:
            t[i] += n
            i += i & -i

    def drop_running(self, job: Job) -> None:
        """Empty the slot of a job that stops running (compact the slots when most are empty)."""
        slot = job.run_slot
        n = self.run_gpus[slot]
        self.run_gpus[slot] = 0
        self.run_jobs[slot] = None
        job.run_slot = -1
        t = self.run_tree
        size = len(t) - 1
        i = slot + 1
        while i <= size:
            t[i] -= n
            i += i & -i
        self.run_dead += 1
        if self.run_dead > 64 and 2 * self.run_dead > len(self.run_jobs):
            live = [j for j in self.run_jobs if j is not None]
            for k, j in enumerate(live):
                j.run_slot = k
            self.run_jobs = list[Job | None](live)
            self.run_gpus = [j.spec.n_gpus for j in live]
            self.run_dead = 0
            self._build_tree(size)

    def job_at_gpu(self, u: float) -> tuple[Job, int]:
        """The running job holding GPU slot ``u`` (in ``[0, alloc_gpus)``; running jobs' GPUs laid end to end in
        start order), and the GPUs before it.

        The slot ``k`` with ``before(k) <= u < before(k) + gpus(k)``: a descent of the tree to the most slots
        whose GPUs sum to at most ``u`` -- its integer part, as the sums are integers (the slot a binary search
        of the cumulative sums finds).
        """
        t = self.run_tree
        size = len(t) - 1
        left = int(u)
        pos = 0
        step = size
        while step:
            nxt = pos + step
            if nxt <= size and t[nxt] <= left:
                pos = nxt
                left -= t[nxt]
            step >>= 1
        job = self.run_jobs[pos] if pos < len(self.run_jobs) else None
        if job is None:
            raise RuntimeError("internal: failure candidate on an empty running slot")
        return job, int(u) - left

    @property
    def n_free(self) -> int:
        return sum(self.free.values())

    @property
    def n_spare(self) -> int:
        return sum(self.spare.values())


#: One entry of the engine's event heap: (time [s], sequence, callback, job or None, job epoch).
HeapEntry = tuple[float, int, Callable[..., None], "Job | None", int]
#: One recorded event: (time [s], job idx or -1, pool idx, kind, cause, lost GPU-hours, duration [s], group
#: idx or -1); :meth:`~.report.Reporting.events_table` adds the job and pool names.
EventRow = tuple[float, int, int, str, str, float, float, int]


class EngineState:
    """Attributes shared by the parts of the training engine (set in ``TrainingEngine.__init__``)."""

    env: simpy.Environment
    ledger: LedgerLike
    config: SchedulerConfig
    horizon_s: float
    pools: list[Pool]
    jobs: list[Job]
    n_submitted: int
    n_queued: int
    n_running: int
    n_finished: int
    n_failed: int
    # event heap (events.py)
    _heap: list[HeapEntry]
    _seq: int
    _now: float
    _in_batch: bool
    _alarm_t: float
    _alarm_ev: simpy.Event | None
    # submissions fed into the heap one at a time (events.py): time, sequence and job in submission order
    _sub_t: array  # ("d")
    _sub_seq: array  # ("q")
    _sub_jobs: list[Job]
    _sub_k: int
    # ledger changes buffered during a batch (events.py)
    _bulk: bool
    _lt: list[float]
    _lg: list[int]
    _lp: list[int]
    _ld: list[float]
    _pulses: bool
    _lists: bool
    _lchunks: list[tuple[np.ndarray, np.ndarray, int, float]]  # checkpoint pulses: starts, ends, group, GPUs
    _n_lpulse: int  # pulses in _lchunks
    _level: np.ndarray | None  # the ledger's level, updated at each change (when it takes records later)
    _low: bool  # a level cell went below zero since the last hand-over
    _watch: Any  # the ledger's boundary watch (gigawatt.engine.ledger.BoundaryWatch) or an inert one
    # pools
    _pool_index: dict[str, int]
    _hall_pools: dict[int, list[Pool]]
    # jobs and failures
    _startup_s: float
    _fail_rate_per_gpu_s: float
    _class_cum: np.ndarray
    _class_cum_list: list[float]
    _fail_classes: list[tuple[str, str, bool, float]]  # per class: name, group, needs repair, MTTR [s]
    _recovery_s: float
    # records (report.py) and allocation listeners (lending.py)
    _ev: list[EventRow]
    _listeners: list[Callable[[str, int], None]]
    _count_buf: array  # job counters per change: (time, submitted, queued, running, finished, failed, GPUs)
    _alloc_gpus: int
    _plt: array  # phase log (report.py): time [s] ("d"), phase ("q"), delta GPUs ("d") per change
    _plp: array
    _pld: array
    _plchunks: list[
        tuple[np.ndarray, np.ndarray, float | np.ndarray]
    ]  # checkpoint pulses: starts, ends, GPUs
    # checkpoint completions: times, job (per time in a merged chunk)
    _ev_ck: list[tuple[np.ndarray, int | np.ndarray]]

    if TYPE_CHECKING:  # what the parts call in each other (defined in the module named on each line)

        def _sync(self) -> None: ...  # events
        def _flush(self) -> None: ...  # events
        def _lchange(self, t_s: float, group: int, phase: int, delta: float) -> None: ...  # events
        def _at(self, t_s: float, fn: Callable[[], None]) -> None: ...  # events
        def _timer(self, job: Job, delay_s: float, fn: Callable[[Job], None]) -> None: ...  # events
        def _transition(self, job: Job, state: int, phase: int | None) -> None: ...  # jobs
        def _enqueue(self, job: Job) -> None: ...  # jobs
        def _start(self, pool: Pool, job: Job, at: int = -1) -> None: ...  # jobs
        def _begin_compute(self, job: Job) -> None: ...  # jobs
        def _leave_compute(self, job: Job) -> None: ...  # jobs
        def _finish(self, job: Job) -> None: ...  # jobs
        def _fail_job(self, job: Job, reason: str) -> None: ...  # jobs
        def _lose_work(self, job: Job) -> float: ...  # jobs
        def _requeue(self, job: Job, kind: str, cause: str = "") -> None: ...  # jobs
        def _rate(self, job: Job) -> float: ...  # progress
        def _clock(self, job: Job) -> float: ...  # progress
        def _anchor(self, job: Job) -> None: ...  # progress
        def _arm_segment(self, job: Job) -> None: ...  # progress
        def _allocate_packed(self, pool: Pool, job: Job) -> None: ...  # spanning
        def _update_span(self, job: Job) -> None: ...  # spanning
        def _take_replacement_near(self, pool: Pool, g: int) -> int | None: ...  # spanning
        def _set_power_span(
            self, pool: Pool, hall_idx: int, powered: bool, cause: str
        ) -> None: ...  # spanning
        def _schedule(self, pool: Pool) -> None: ...  # scheduling
        def _preemptable(self, pool: Pool, below_priority: float) -> list[Job]: ...  # scheduling
        def _preempt(self, job: Job, cause: str) -> None: ...  # scheduling
        def _notify(self, what: str, pool: int) -> None: ...  # lending
        def _arm_failure(self, pool: Pool) -> None: ...  # failures
        def _commission(self, pool: Pool, g: int) -> None: ...  # commissioning
        def _decommission(self, pool: Pool, g: int) -> None: ...  # commissioning
        def _submit(self, job: Job) -> None: ...  # jobs
        def _init_submissions(self) -> None: ...  # events
        def _interval(self, spec: TrainingJobSpec) -> float: ...  # jobs
        def _event(
            self,
            kind: str,
            job: Job | None,
            pool: int,
            group: int,
            cause: str = "",
            lost_gpu_h: float = 0.0,
            duration_s: float = 0.0,
        ) -> None: ...  # report
        def _log_counts(self) -> None: ...  # report
