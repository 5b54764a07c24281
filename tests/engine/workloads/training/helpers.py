"""Shared helpers of the training-engine tests: a minimal ledger and a one-call run."""

from __future__ import annotations

import math

import numpy as np
import simpy

from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingEngine
from gigawatt.perf.reliability import llama3_failure_model


class FakeLedger:
    """Minimal stand-in for LoadLedger.change (no bulk input): levels now, and time-integrals from the log."""

    def __init__(self) -> None:
        self.level: dict[tuple[int, int], float] = {}
        self.log: list[tuple[float, int, int, float]] = []

    def change(self, t_s, group, phase, delta_gpus):
        key = (int(group), int(phase))
        self.level[key] = self.level.get(key, 0.0) + delta_gpus
        assert self.level[key] >= -1e-9, f"negative occupancy {key}"
        self.log.append((t_s, int(group), int(phase), delta_gpus))

    def total(self, phase) -> float:
        return sum(v for (g, p), v in self.level.items() if p == int(phase))

    def series(self, phase):
        """(times, level) of the phase summed over groups, in time order (changes may arrive late)."""
        rows = sorted((t, d) for (t, g, p, d) in self.log if p == int(phase))
        t = np.array([r[0] for r in rows])
        return t, np.cumsum([r[1] for r in rows])

    def integral(self, phase) -> float:
        t, lvl = self.series(phase)
        return float(np.sum(lvl[:-1] * np.diff(t))) if t.size else 0.0


def run(pools, jobs, config=None, until=None, seed=0, step_s=None, setup=None):
    env = simpy.Environment()
    led = FakeLedger()
    eng = TrainingEngine(
        env, pools, jobs, led, np.random.default_rng(seed), config, horizon_s=until or math.inf
    )
    if setup is not None:
        setup(env, eng)
    env.run(until=until)
    eng.finalize()
    if step_s is not None:
        eng.samples = eng.counter_samples(np.arange(int(until // step_s)) * step_s)
    return eng, led, eng.jobs_table(), eng.events_table()


POOL = PoolSpec("p", hall_idx=0, group_idx=(0, 1), nodes_per_group=(4, 4), gpus_per_node=8)


def fail_config(**kw):
    """Llama 3 failure rates (scaled by ``x``), 60 s detection, 120 s restart; other ``SchedulerConfig`` fields."""
    return SchedulerConfig(
        failures=llama3_failure_model(detection_s=60.0, restart_s=120.0).scaled(kw.pop("x", 1.0)), **kw
    )
