"""The training engine: gang-scheduling pools, jobs, failures and checkpoints on simpy (the parts wired).

:class:`TrainingEngine` is assembled from one mixin per job of the engine, each in its own module:

=====================  ==============================================================================
:mod:`.events`         its own event heap, kept in step with simpy time; buffered ledger changes
:mod:`.jobs`           job state machine and GPU-hour accounting (submit, start, release, finish, requeue)
:mod:`.progress`       progress rates, compute/checkpoint segments, rate changes (``set_throughput``)
:mod:`.scheduling`     FIFO / priority / EASY backfill, preemption
:mod:`.lending`        nodes lent to other workloads (``acquire_nodes``/``release_nodes``), listeners
:mod:`.failures`       failures, repair, spot reclaims, planned maintenance, power loss (``set_power``)
:mod:`.commissioning`  rack groups joining and leaving a pool over time
:mod:`.spanning`       packing placement and the communication factor of jobs across halls and sites
:mod:`.report`         events/jobs tables, counters, phase occupancy
=====================  ==============================================================================

Their shared attributes are declared once in :class:`~gigawatt.engine.workloads.training.state.EngineState`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import simpy

from gigawatt.engine.workloads.training.commissioning import Commissioning
from gigawatt.engine.workloads.training.events import EventQueue
from gigawatt.engine.workloads.training.failures import Failures
from gigawatt.engine.workloads.training.jobs import JobLifecycle
from gigawatt.engine.workloads.training.lending import Lending
from gigawatt.engine.workloads.training.progress import Progress
from gigawatt.engine.workloads.training.report import Reporting
from gigawatt.engine.workloads.training.scheduling import Scheduling
from gigawatt.engine.workloads.training.spanning import Spanning
from gigawatt.engine.workloads.training.specs import LedgerLike, PoolSpec, SchedulerConfig, TrainingJobSpec
from gigawatt.engine.workloads.training.state import Job, Pool

__all__ = ["TrainingEngine"]


class TrainingEngine(
    EventQueue, JobLifecycle, Progress, Scheduling, Lending, Failures, Commissioning, Spanning, Reporting
):
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
        self._init_queue(env, ledger)
        self.config = config or SchedulerConfig()
        self.horizon_s = horizon_s
        names = [p.name for p in pools]
        if len(set(names)) != len(names):
            raise ValueError("pool names must be unique")
        self._pool_index = {p.name: i for i, p in enumerate(pools)}
        child = rng.spawn(len(pools)) if pools else []
        self.pools = []
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
            self.pools.append(
                Pool(
                    spec=p,
                    free=free,
                    spare=spare,
                    rng=child[i],
                    pending=pending,
                    idx=i,
                    usable_nodes=p.n_nodes - p.spare_nodes,
                )
            )
        self._hall_pools = {}
        for pool in self.pools:
            for h in pool.spec.halls:
                self._hall_pools.setdefault(h, []).append(pool)
            if len(pool.spec.halls) > 1:
                pool.hall_factors = {h: (1.0, {}, 0.0) for h in pool.spec.halls}

        fm = self.config.failures
        startup = self.config.startup_s
        self._startup_s = (0.0 if fm is None else fm.restart_s) if startup is None else startup
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
            # the same values as plain Python lists and floats, for the per-candidate code (failures.py)
            self._class_cum_list = self._class_cum.tolist()
            self._fail_classes = list(
                zip(fm.names, fm.groups, fm.needs_repair.tolist(), fm.mttr_s.tolist(), strict=True)
            )
            self._recovery_s = fm.recovery_s

        self.jobs = []
        names_seen: set[str] = set()
        pool_index = self._pool_index
        gpn_of = [p.gpus_per_node for p in pools]
        # a job's checkpoint interval depends on these three fields only (jobs of a mix share a few)
        intervals: dict[tuple[float | None, int, float], float] = {}
        for i, spec in enumerate(jobs):
            pi = pool_index.get(spec.pool)
            if pi is None:
                raise ValueError(f"job {spec.name!r}: unknown pool {spec.pool!r} (pools: {names})")
            if spec.name in names_seen:
                raise ValueError(f"job name {spec.name!r} is used twice")
            names_seen.add(spec.name)
            key = (spec.checkpoint_interval_s, spec.n_gpus, spec.checkpoint_write_s)
            interval_s = intervals.get(key)
            if interval_s is None:
                interval_s = intervals[key] = self._interval(spec)
            self.jobs.append(Job(i, spec, pi, -(-spec.n_gpus // gpn_of[pi]), interval_s))

        self.n_submitted = self.n_queued = self.n_running = self.n_finished = self.n_failed = 0
        self._init_records()
        self._init_submissions()  # one pending submission in the heap at a time (events.py)
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
