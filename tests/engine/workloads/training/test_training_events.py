"""Tests for gigawatt.engine.workloads.training.events (event heap in step with simpy, ledger buffer)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy
from tests.engine.workloads.training.helpers import POOL, FakeLedger

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import LoadLedger
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


def _watched_run(wake_at: set[float], step_s: float = 300.0):
    """An engine on a real ledger whose boundary watch (every ``step_s``) is visited by the engine: each visit
    records what it saw and checks that every entry before the boundary ran and none at or after it; at the
    boundaries in ``wake_at`` the visit asks to stop there (an event at the boundary records the heap and
    watches again from the next boundary)."""
    env = simpy.Environment()
    led = LoadLedger(Clock(pd.Timestamp("2026-01-01"), step_s, 200), 2)
    jobs = [
        TrainingJobSpec(f"j{i}", "p", n_gpus=8 * (1 + i % 4), work_s=700.0 + 130.0 * i, submit_s=97.0 * i)
        for i in range(40)
    ]
    eng = TrainingEngine(env, [POOL], jobs, led, np.random.default_rng(0), SchedulerConfig())
    seen: list[tuple[float, int, float]] = []
    stopped: list[tuple[float, float]] = []
    watch = led.watch
    assert watch.writers == 1

    def woke() -> None:  # (the controller's wake: decide, then watch again from the next boundary)
        stopped.append((env.now, eng._heap[0][0] if eng._heap else math.inf))
        watch.t_s = env.now + step_s

    def visit(t_next_s: float) -> bool:
        t_b = watch.t_s
        assert env.now <= t_b <= t_next_s
        assert not eng._heap or eng._heap[0][0] >= t_b  # nothing at or after the boundary has run
        seen.append((t_b, led.n_changes, float(led.level.sum())))
        if t_b in wake_at:
            watch.t_s = math.inf
            ev = env.timeout(t_b - env.now)
            ev.callbacks.append(lambda _e: woke())
            return True
        watch.t_s = (t_next_s // step_s + 1) * step_s  # the first boundary after the next entry
        return False

    watch.visit = visit
    watch.t_s = step_s
    env.run(until=200 * step_s)
    eng.finalize()
    return seen, stopped, eng.jobs_table(), led


def test_engine_visits_the_ledger_watch_at_each_boundary_before_passing_it():
    """The engine visits each boundary of the watch before its first entry at or after it (the ledger's level
    and change count are current there: no hand-over is needed), stops its batch when the visit asks to wake
    there, and runs the same jobs as without a watch."""
    seen, stopped, jobs, led = _watched_run(set())
    assert stopped == []
    assert len(seen) > 20
    times = [s[0] for s in seen]
    assert times == sorted(times) and len(set(times)) == len(times)
    counts = [n for _t, n, _lvl in seen]
    assert counts == sorted(counts) and counts[-1] > counts[0]  # (records only grow)
    seen2, stopped2, jobs2, _ = _watched_run({times[3], times[10]})
    assert seen2[:4] == seen[:4]
    assert [t for t, _h in stopped2] == [times[3], times[10]]
    assert all(h >= t for t, h in stopped2)  # the entries at or after the boundary waited for it
    assert not math.isinf(stopped2[0][1])
    pd.testing.assert_frame_equal(jobs, jobs2)
    # the level the visits saw is the ledger's after each hand-over (the records follow the level)
    occ = led.occupancy()
    assert occ.shape[0] == 200 and (occ >= -1e-9).all()


def test_a_level_below_zero_raises_at_the_hand_over():
    """On a ledger that takes its records after the level, a change taking a cell below zero raises when the
    engine hands its records over (as the ledger's own update would)."""
    env = simpy.Environment()
    led = LoadLedger(Clock(pd.Timestamp("2026-01-01"), 300.0, 10), 2)
    eng = TrainingEngine(env, [POOL], [], led, np.random.default_rng(0), SchedulerConfig())
    eng._lchange(0.0, 1, 1, 4.0)
    eng._lchange(10.0, 1, 1, -4.0)
    assert led.n_changes == 2  # held back, counted
    eng._flush()
    assert led.n_changes == 2 and led.level[1, 1] == pytest.approx(0.0, abs=1e-12)
    eng._lchange(20.0, 0, 2, -1.0)
    with pytest.raises(RuntimeError, match=r"group 0 phase .* went negative"):
        eng._flush()
