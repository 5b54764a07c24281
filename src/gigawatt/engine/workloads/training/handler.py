"""``kind: training``: the workload handler, which wires a pool's engine to the scenario and the facility."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gigawatt.engine.context import SimContext
from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.engine.workloads.training import build
from gigawatt.engine.workloads.training.engine import TrainingEngine
from gigawatt.engine.workloads.training.report import workload_output
from gigawatt.scenario.training import TrainingWorkload

__all__ = ["TrainingHandler"]


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


class TrainingHandler(WorkloadHandler):
    """``kind: training``: one gang-scheduled pool on the target, its jobs and job mix, coupled to the facility.

    Time-series columns (``"<workload>:<column>"``): ``training_compute_gpus``, ``training_stall_gpus``,
    ``allocated_gpus`` (step averages), ``allocation_frac`` (allocated / pool GPUs), and job counters at the
    start of each step ``submitted_jobs``, ``queued_jobs``, ``running_jobs``, ``finished_jobs``,
    ``failed_jobs`` (submitted = finished + running + queued + failed).
    """

    kind = "training"

    @property
    def runs_processes(self) -> bool:
        """No simpy process of its own: the engine's alarms visit the ledger's boundary watch."""
        return False

    def __init__(self, spec: Any, ctx: SimContext, index: int) -> None:
        super().__init__(spec, ctx, index)
        wl: TrainingWorkload = spec
        path = f"workloads[{index}]"
        self.pool = build.pool_spec(wl, ctx, path)
        self.hall = self.pool.hall_idx
        self.halls = self.pool.halls
        self.pool_gpus = self.pool.n_nodes * self.pool.gpus_per_node
        self.job_specs, self.job_info = build.scenario_jobs(wl, ctx.fleet, self.pool, path)
        if wl.mix is not None:
            usable_gpus = (self.pool.n_nodes - self.pool.spare_nodes) * self.pool.gpus_per_node
            specs, info = build.mix_jobs(wl.name, wl.mix, usable_gpus, ctx)
            self.job_specs += specs
            self.job_info += info
        self.config = build.scheduler_config(wl, build.failure_model(wl, ctx.fleet, self.pool))
        self.engine: TrainingEngine | None = None

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
        ctx.training_pools.register(self.spec.name, eng)

    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        eng = self.engine
        assert eng is not None
        eng.finalize()
        n = len(self.job_info)
        mfu = np.fromiter((i["mfu_frac"] for i in self.job_info), dtype=float, count=n)
        tflops = np.fromiter((i["tflops_per_gpu"] for i in self.job_info), dtype=float, count=n)
        # the specs are not needed any more: once the outputs free the engine's job records, theirs go too
        self.job_specs, self.job_info = [], []
        return workload_output(
            eng, self.spec.name, self.ctx.clock, self.ctx.fleet.group_keys, mfu, tflops, self.pool_gpus
        )
