"""Tests for gigawatt.engine.workloads.training.events (event heap in step with simpy, ledger buffer)."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from tests.engine.workloads.training.helpers import POOL, FakeLedger

from gigawatt.engine.workloads.training import SchedulerConfig, TrainingEngine, TrainingJobSpec


def test_ledger_change_many_matches_single_changes():
    import pandas as pd

    from gigawatt.engine.clock import Clock
    from gigawatt.engine.ledger import LoadLedger

    clock = Clock(pd.Timestamp("2026-01-01"), 300.0, 12)
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 3600, 40))
    g = rng.integers(0, 3, 40)
    p = rng.integers(1, 3, 40)
    d = rng.uniform(1.0, 8.0, 40)  # arrivals only, so no level goes negative in either order
    one, many = LoadLedger(clock, 3), LoadLedger(clock, 3)
    for args in zip(t, g, p, d, strict=True):
        one.change(*args)
    many.change_many(t[:25], g[:25], p[:25], d[:25])
    many.change_many(t[25:][::-1], g[25:][::-1], p[25:][::-1], d[25:][::-1])  # order does not matter
    np.testing.assert_allclose(many.occupancy(), one.occupancy(), atol=1e-9)
    np.testing.assert_allclose(many.level, one.level)
    assert many.n_changes == one.n_changes == 40
    with pytest.raises(ValueError, match="same length"):
        many.change_many(t[:2], g[:1], p[:2], d[:2])
    with pytest.raises(RuntimeError, match="negative"):
        many.change_many([4000.0], [0], [1], [-1e6])


def test_alarm_fires_one_ulp_early_and_engine_keeps_running():
    """simpy fires a timeout at ``now + (t − now)``, which can round one ulp below ``t``; with another simpy
    event at that same instant the engine must still run the entry at ``t`` and every later one."""
    now0, t_due = 36.51101682448286, 121.0990559140459
    assert now0 + (t_due - now0) < t_due  # the rounding this test is about
    env = simpy.Environment(initial_time=now0)
    led = FakeLedger()
    jobs = [TrainingJobSpec(f"j{i}", "p", n_gpus=8, work_s=50.0, submit_s=t_due + 10.0 * i) for i in range(5)]
    eng = TrainingEngine(env, [POOL], jobs, led, np.random.default_rng(0), SchedulerConfig())

    def other():  # an unrelated simpy event at the exact instant the engine's alarm fires
        yield env.timeout(t_due - now0)

    env.process(other())
    env.run(until=1000.0)
    eng.finalize()
    assert eng.n_submitted == 5
    assert set(eng.jobs_table()["state"]) == {"finished"}
