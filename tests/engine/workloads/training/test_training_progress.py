"""Tests for gigawatt.engine.workloads.training.progress (rates, checkpoint segments, rate changes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import simpy
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, FakeLedger, fail_config, run

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import LoadLedger
from gigawatt.engine.workloads.training import PoolSpec, TrainingEngine, TrainingJobSpec
from gigawatt.engine.workloads.training import progress as progress_mod
from gigawatt.physics.phases import Phase


def test_throughput_scales_progress_lazily():
    job = TrainingJobSpec("a", "p", n_gpus=8, work_s=1000.0)

    def setup(env, eng):
        def ctl():
            yield env.timeout(200)
            eng.set_throughput(0, 0.5)  # 200 s done, 800 s left at half speed
            yield env.timeout(400)  # +200 s of work
            eng.set_throughput(0, 0.0)  # stalled for 100 s
            yield env.timeout(100)
            eng.set_throughput(0, 1.0)  # 600 s left at full speed

        env.process(ctl())

    _, _, jt, _ = run([POOL], [job], setup=setup)
    r = jt.iloc[0]
    assert_allclose(r.end_s, 200 + 400 + 100 + 600)
    assert_allclose(r.throttled_gpu_hours, 8 * (200 + 100) / 3600)
    assert_allclose(r.useful_gpu_hours, 8 * 1000 / 3600)


def test_paused_priority_levels_progress_at_clock_times_unpaused_share():
    jobs = [
        TrainingJobSpec("lo", "p", n_gpus=16, work_s=1000.0, priority=0),
        TrainingJobSpec("hi", "p", n_gpus=16, work_s=1000.0, priority=5),
    ]
    seen = {}

    def setup(env, eng):
        def ctl():
            yield env.timeout(100)
            seen["gpus"] = eng.allocated_gpus_by_priority(0)
            eng.set_throughput(0, 0.8, {0: 1.0, 5: 0.0})  # priority 0 paused, clock 0.8 for everyone
            yield env.timeout(250)  # hi: +200 s of work
            eng.set_throughput(0, 1.0, {0: 0.5}, paused_default_frac=0.0)  # lo at half speed
            yield env.timeout(200)  # lo: +100 s of work
            eng.set_throughput(0, 1.0)

        env.process(ctl())

    eng, _, jt, _ = run([POOL], jobs, setup=setup)
    r = jt.set_index("job")
    assert seen["gpus"] == {0: 16, 5: 16}
    assert eng.allocated_gpus_by_priority(0) == {}
    assert_allclose(r.loc["hi", "end_s"], 100 + 250 + 700)
    assert_allclose(r.loc["hi", "throttled_gpu_hours"], 16 * 50 / 3600)  # 250 s at clock 0.8
    assert_allclose(r.loc["hi", "paused_gpu_hours"], 0.0, atol=1e-9)
    assert_allclose(r.loc["lo", "end_s"], 100 + 250 + 200 + 800)
    assert_allclose(r.loc["lo", "paused_gpu_hours"], 16 * (250 * 0.8 + 200 * 0.5) / 3600)
    assert_allclose(r.loc["lo", "throttled_gpu_hours"], 16 * 250 * 0.2 / 3600, atol=1e-12)
    for _, row in r.iterrows():
        parts = row.useful_gpu_hours + row.throttled_gpu_hours + row.paused_gpu_hours
        assert_allclose(parts, row.gpu_hours, rtol=1e-12)
    with pytest.raises(ValueError, match=r"paused_frac\[0\]"):
        eng.set_throughput(0, 1.0, {0: 1.5})


def test_other_halls_unaffected_by_rate_change():
    pools = [POOL, PoolSpec("q", 1, (2,), (4,))]
    jobs = [TrainingJobSpec("a", "p", 8, 100.0), TrainingJobSpec("b", "q", 8, 100.0)]

    def setup(env, eng):
        eng.set_throughput(1, 0.25)

    _, _, jt, _ = run(pools, jobs, setup=setup)
    assert_allclose(jt.end_s.to_numpy(), [100.0, 400.0])
    with pytest.raises(ValueError):
        TrainingEngine(
            simpy.Environment(), pools, jobs, FakeLedger(), np.random.default_rng(0)
        ).set_throughput(0, 2)


def test_rate_change_inside_a_checkpoint():
    # compute 0-100 s, checkpoint 100-150 s; the rate halves at 120 s (inside the write), so the next 100 s of
    # work take 200 s: checkpoint 350-400 s, finish at 600 s
    job = TrainingJobSpec("a", "p", 8, 300.0, checkpoint_interval_s=100.0, checkpoint_write_s=50.0)

    def setup(env, eng):
        def ctl():
            yield env.timeout(120)
            eng.set_throughput(0, 0.5)

        env.process(ctl())

    _, led, jt, ev = run([POOL], [job], setup=setup)
    r = jt.iloc[0]
    assert_allclose(r.end_s, 600.0)
    assert r.n_checkpoints == 2
    assert_allclose(ev.loc[ev.kind == "checkpoint", "time_s"].to_numpy(), [150.0, 400.0])
    assert_allclose(r.throttled_gpu_hours, 8 * 200 / 3600)
    assert_allclose(r.checkpoint_gpu_hours, 8 * 100 / 3600)
    assert_allclose(led.integral(Phase.TRAIN_STALL), 8 * 100)


def test_pool_over_two_halls_runs_at_the_slowest_hall():
    """A pool over two halls (group 0 in hall 0, group 1 in hall 1): a job spanning both progresses at the
    slower hall's factor; a job inside hall 1 only at hall 1's; pausing follows the same rule."""
    pool = PoolSpec(
        "p", hall_idx=0, group_idx=(0, 1), nodes_per_group=(4, 4), gpus_per_node=8, group_hall=(0, 1)
    )
    jobs = [
        TrainingJobSpec("span", "p", n_gpus=48, work_s=1000.0),  # 4 nodes of hall 0 + 2 of hall 1
        TrainingJobSpec("h1", "p", n_gpus=8, work_s=1000.0, submit_s=1.0),  # on a free node of hall 1
    ]
    seen = {}

    def setup(env, eng):
        def ctl():
            yield env.timeout(100)
            seen["by_hall"] = eng.allocated_gpus_by_hall_priority(0)
            eng.set_throughput(1, 0.5)  # hall 1 slows: the spanning job halves its pace
            eng.set_throughput(0, 0.8)
            yield env.timeout(300)
            eng.set_throughput(1, 1.0, {0: 0.5})  # hall 1 pauses half of priority 0: pace 0.5
            eng.set_throughput(0, 1.0)
            yield env.timeout(200)
            eng.set_throughput(1, 1.0)

        env.process(ctl())

    _, _, jt, _ = run([pool], jobs, setup=setup)
    span = jt.set_index("job").loc["span"]
    # 100 s at 1, 300 s at min(0.8, 0.5) = 0.5, 200 s at min(1, 0.5) = 0.5, the rest (650 s of work) at 1
    assert_allclose(span.end_s, 100 + 300 + 200 + 650, rtol=1e-12)
    assert_allclose(span.throttled_gpu_hours, 48 * 300 * 0.5 / 3600, rtol=1e-9)  # clock: min(0.8, 0.5)
    assert_allclose(span.paused_gpu_hours, 48 * 200 * 0.5 / 3600, rtol=1e-9)
    assert seen["by_hall"] == {0: {0: 32}, 1: {0: 24}}
    h1 = jt.set_index("job").loc["h1"]  # follows hall 1 alone: 99 s at 1, 300 s at 0.5, 200 s at 0.5
    assert_allclose(h1.end_s, 600 + (1000 - 99 - 150 - 100), rtol=1e-12)


def test_checkpoint_power_swing_visible():
    pool = PoolSpec("p", 0, (0,), (2048,), 8)
    job = TrainingJobSpec("big", "p", 16384, 3600.0, checkpoint_interval_s=600.0, checkpoint_write_s=60.0)
    _, led, _, _ = run([pool], [job])
    _, compute = led.series(Phase.TRAIN_COMPUTE)
    # the whole job drops out of compute at every checkpoint: swings of 16,384 GPUs (~10 MW of IT power)
    assert compute.max() == 16384 and np.sum(compute == 0) >= 6


class _RowsOnly:
    """A LoadLedger seen without ``pulse_many``: the engine records every checkpoint as its four changes."""

    def __init__(self, led):
        self.led = led

    def change(self, t_s, group, phase, delta_gpus):
        self.led.change(t_s, group, phase, delta_gpus)

    def change_many(self, t_s, group, phase, delta_gpus):
        self.led.change_many(t_s, group, phase, delta_gpus)


@pytest.mark.parametrize("step_s", [15.0, 300.0])
def test_checkpoint_pulses_give_the_occupancy_of_explicit_changes(step_s, monkeypatch):
    """Completed checkpoints recorded as pulses (ledger and phase log) give the occupancy of their explicit
    changes: checkpoints across step boundaries, rate changes and failures closing segments (some inside a
    write, leaving it open), jobs over two rack groups, range queries during the run, the run's end; the
    phase log's pulses merged every 5 segments."""
    monkeypatch.setattr(progress_mod, "_PL_MERGE", 5)
    horizon = 6 * 3600.0
    clock = Clock(pd.Timestamp("2026-01-01"), step_s, int(horizon // step_s))
    jobs = [
        TrainingJobSpec(
            f"j{i}",
            "p",
            8 * (1 + i % 3),
            1500.0 + 300.0 * i,
            submit_s=97.0 * i,
            checkpoint_interval_s=180.0 + 11.0 * i,
            checkpoint_write_s=20.0 + 7.0 * (i % 5),
        )
        for i in range(24)
    ]
    runs = {}
    for kind in ("pulses", "rows"):
        env = simpy.Environment()
        led = LoadLedger(clock, 2)
        eng = TrainingEngine(
            env,
            [POOL],
            jobs,
            led if kind == "pulses" else _RowsOnly(led),
            np.random.default_rng(3),
            fail_config(x=100.0),
            horizon_s=horizon,
        )
        ranges = []

        def ctl(env=env, eng=eng, led=led, ranges=ranges):
            for k in range(1, 40):
                yield env.timeout(517.0)
                eng.set_throughput(0, 0.6 if k % 3 else 1.0)
                s0 = int(env.now // step_s) - 3
                ranges.append(led.occupancy_range(s0, s0 + 8))

        env.process(ctl())
        env.run(until=horizon)
        eng.finalize()
        eng._flush()
        runs[kind] = (led, eng, ranges)
    led_p, eng_p, ranges_p = runs["pulses"]
    led_r, _, ranges_r = runs["rows"]
    assert led_p.n_pulses > 100 and led_r.n_pulses == 0
    assert led_r.n_changes - led_p.n_changes == 3 * led_p.n_pulses  # four rows per checkpoint, or one pulse
    assert int(eng_p.jobs_table().n_checkpoints.sum()) > 100
    occ = led_r.occupancy()
    assert occ[:, :, Phase.TRAIN_STALL].max() > 0
    assert_allclose(led_p.occupancy(), occ, rtol=1e-12, atol=1e-9)
    assert_allclose(led_p.level, led_r.level, rtol=0, atol=1e-9)
    for a, b in zip(ranges_p, ranges_r, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    # the phase log (per-workload columns) gives the ledger's training phases summed over groups
    assert any(isinstance(c[2], np.ndarray) for c in eng_p._plchunks)  # some merged
    ph = eng_p.phase_occupancy(step_s, clock.n_steps)
    for p in (Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL):
        assert_allclose(ph[p], occ[:, :, p].sum(axis=1), rtol=1e-12, atol=1e-9)
