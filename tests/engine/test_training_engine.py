"""Tests for gigawatt.engine.workloads.training (scheduler, failures, checkpoints, facility coupling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from numpy.testing import assert_allclose

from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingEngine, TrainingJobSpec
from gigawatt.perf.cluster_traces import JobMix, generate_job_mix
from gigawatt.perf.reliability import FailureModel, llama3_failure_model
from gigawatt.physics.phases import Phase


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


def test_single_job_no_failures_exact_timing():
    job = TrainingJobSpec(
        "a", "p", n_gpus=24, work_s=10_000.0, checkpoint_interval_s=3000.0, checkpoint_write_s=50.0
    )
    _eng, led, jt, ev = run([POOL], [job])
    r = jt.iloc[0]
    # 3 checkpoints (at 3000, 6000, 9000 s of work), none after the last segment; no start-up cost without
    # a failure model
    assert r.n_checkpoints == 3
    assert_allclose(r.end_s, 10_000 + 3 * 50)
    assert r.state == "finished" and r.goodput_frac == pytest.approx(10_000 / 10_150)
    assert r.n_nodes == 3
    assert led.total(Phase.TRAIN_COMPUTE) == 0 and led.total(Phase.TRAIN_STALL) == 0
    # ledger time-integral equals the job's GPU-seconds by phase
    comp = led.integral(Phase.TRAIN_COMPUTE)
    stall = led.integral(Phase.TRAIN_STALL)
    assert_allclose(comp, 24 * 10_000)
    assert_allclose(stall, 24 * 150)
    assert list(ev.kind) == ["submit", "start", "checkpoint", "checkpoint", "checkpoint", "finish"]


def test_node_boundaries_and_groups():
    # 36 GPUs need 5 whole 8-GPU nodes: 4 from group 0 and 1 from group 1 (4 GPUs used there)
    job = TrainingJobSpec("a", "p", n_gpus=36, work_s=100.0)
    seen = {}

    def setup(env, eng):
        def probe():
            yield env.timeout(50)
            seen.update(eng.pool_nodes(0))
            seen["gpus"] = dict(eng.jobs[0].gpus_by_group)

        env.process(probe())

    run([POOL], [job], setup=setup)
    assert seen["allocated"] == 5 and seen["free"] == 3
    assert seen["gpus"] == {0: 32, 1: 4}


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


def test_fifo_blocks_and_easy_backfill_fills_without_delaying_head():
    jobs = [
        TrainingJobSpec("big1", "p", 40, 1000.0, submit_s=0.0),  # 5 of 8 nodes
        TrainingJobSpec("big2", "p", 64, 1000.0, submit_s=1.0),  # needs all 8: waits for big1
        TrainingJobSpec("small_short", "p", 8, 500.0, submit_s=2.0),  # fits now, ends before big1
        TrainingJobSpec("small_long", "p", 8, 5000.0, submit_s=3.0),  # fits now but would delay big2
    ]
    _, _, fifo, _ = run([POOL], jobs, SchedulerConfig(policy="fifo"))
    _, _, easy, ev = run([POOL], jobs, SchedulerConfig(policy="easy_backfill"))
    f = fifo.set_index("job")
    e = easy.set_index("job")
    assert f.loc["small_short", "start_s"] == 2000.0  # behind big2 (FIFO)
    assert e.loc["small_short", "start_s"] == 2.0  # backfilled
    assert e.loc["big2", "start_s"] == f.loc["big2", "start_s"] == 1000.0  # head not delayed
    assert e.loc["small_long", "start_s"] >= 1000.0
    assert "backfill" in set(ev.kind)


def test_priority_order_and_preemption():
    jobs = [
        TrainingJobSpec(
            "low",
            "p",
            64,
            1000.0,
            submit_s=0.0,
            priority=0,
            preemptible=True,
            checkpoint_interval_s=300.0,
            checkpoint_write_s=0.0,
        ),
        TrainingJobSpec("mid", "p", 64, 100.0, submit_s=10.0, priority=1),
        TrainingJobSpec("high", "p", 64, 100.0, submit_s=20.0, priority=5),
    ]
    _, _, jt, _ = run([POOL], jobs, SchedulerConfig(policy="priority"))
    t = jt.set_index("job")
    assert t.loc["high", "start_s"] == 1000.0 and t.loc["mid", "start_s"] == 1100.0  # priority, not FIFO
    _, _, jt, ev = run([POOL], jobs, SchedulerConfig(policy="priority", preemption=True))
    t = jt.set_index("job")
    assert t.loc["mid", "start_s"] == 10.0  # preempted "low" at t=10 (progress 10 s, last checkpoint 0)
    assert t.loc["low", "n_preemptions"] == 1
    assert_allclose(t.loc["low", "lost_work_gpu_hours"], 64 * 10 / 3600)
    assert t.loc["high", "start_s"] == 110.0  # mid is not preemptible
    assert_allclose(t.loc["low", "end_s"], 210 + 1000)
    assert (ev.kind == "preemption").sum() == 1


def test_acquire_nodes_hook_preempts_training():
    jobs = [
        TrainingJobSpec(
            "t", "p", 64, 1000.0, preemptible=True, checkpoint_interval_s=100.0, checkpoint_write_s=0.0
        )
    ]
    got = {}

    def setup(env, eng):
        def inference():
            yield env.timeout(250)
            got.update(eng.acquire_nodes(0, 2, preempt=True))
            yield env.timeout(100)
            eng.release_nodes(0, got)

        env.process(inference())

    eng, _, jt, _ = run([POOL], jobs, setup=setup)
    assert sum(got.values()) == 2
    r = jt.iloc[0]
    assert r.n_preemptions == 1 and r.state == "finished"
    assert_allclose(r.lost_work_gpu_hours, 64 * 50 / 3600)  # work since the checkpoint at 200 s
    assert_allclose(r.end_s, 350 + 1000 - 200)
    with pytest.raises(ValueError):
        eng.release_nodes(0, {0: 1})


def _fail_config(**kw):
    return SchedulerConfig(
        failures=llama3_failure_model(detection_s=60.0, restart_s=120.0).scaled(kw.pop("x", 1.0)), **kw
    )


def test_accounting_identity_and_failures():
    pool = PoolSpec("p", 0, (0,), (168,), 8, spare_nodes=40)
    job = TrainingJobSpec("a", "p", 1024, 30 * 86400.0, checkpoint_write_s=30.0)
    _eng, _led, jt, ev = run([pool], [job], _fail_config(x=20.0), until=20 * 86400.0, seed=3)
    r = jt.iloc[0]
    assert "requeue" not in set(ev.kind)
    assert r.n_interruptions > 10
    parts = (
        r.useful_gpu_hours
        + r.lost_work_gpu_hours
        + r.checkpoint_gpu_hours
        + r.restart_gpu_hours
        + r.throttled_gpu_hours
        + r.paused_gpu_hours
    )
    assert_allclose(parts, r.gpu_hours, rtol=1e-12)
    assert_allclose(r.gpu_hours, 1024 * 20 * 24, rtol=1e-12)  # spares: never requeued, always allocated
    assert r.lost_work_gpu_hours > 0
    fails = ev[ev.kind == "failure"]
    assert_allclose(fails.lost_gpu_hours.sum(), r.lost_work_gpu_hours)
    assert (fails.group_idx == 0).all()
    n_int = r[
        [c for c in jt.columns if c.startswith("n_interruptions_") and c != "n_interruptions_planned"]
    ].sum()
    assert n_int == r.n_interruptions == len(fails)


def test_no_spare_no_free_node_requeues():
    pool = PoolSpec("p", 0, (0,), (16,), 8)
    job = TrainingJobSpec("a", "p", 128, 1e7)  # the whole pool
    _, _, jt, ev = run([pool], [job], _fail_config(x=200.0), until=5 * 86400.0, seed=1)
    assert (ev.kind == "requeue").sum() > 0
    assert jt.iloc[0].queue_wait_s > 0  # waited for a repaired node


def test_max_interruptions_fails_job():
    pool = PoolSpec("p", 0, (0,), (20,), 8, spare_nodes=4)
    job = TrainingJobSpec("a", "p", 128, 1e7, max_interruptions=2)
    eng, _, jt, _ = run([pool], [job], _fail_config(x=500.0), until=10 * 86400.0, seed=2)
    assert jt.iloc[0].state == "failed"
    assert eng.counts()["failed"] == 1


def test_rejected_job_counts_as_failed():
    _eng, _, jt, ev = run([POOL], [TrainingJobSpec("huge", "p", 1000, 10.0)])
    assert jt.iloc[0].state == "failed" and "rejected" in set(ev.kind)


def test_job_conservation_every_step_and_determinism():
    pool = PoolSpec("p", 0, (0, 1), (40, 40), 8, spare_nodes=4)
    mix = JobMix(jobs_per_day=60.0, priority_levels=(0, 1, 2))
    gen = generate_job_mix(mix, 10 * 86400, np.random.default_rng(11), max_gpus=512)
    jobs = [
        TrainingJobSpec(f"j{i}", "p", int(n), float(w), submit_s=float(s), priority=int(pr), preemptible=True)
        for i, (s, n, w, pr) in enumerate(
            zip(gen["submit_s"], gen["n_gpus"], gen["work_s"], gen["priority"], strict=True)
        )
    ]
    out = []
    for _ in range(2):
        eng, _led, jt, ev = run(
            [pool],
            jobs,
            _fail_config(x=20.0, policy="easy_backfill", preemption=True),
            until=12 * 86400.0,
            step_s=300.0,
            seed=5,
        )
        s = eng.samples
        assert s["submitted"][-1] == len(jobs)
        np.testing.assert_array_equal(
            s["submitted"], s["finished"] + s["running"] + s["queued"] + s["failed"]
        )
        assert s["allocated_gpus"].max() <= 80 * 8
        assert (jt.state == "finished").sum() == s["finished"][-1]
        out.append((jt, ev))
    import pandas as pd

    pd.testing.assert_frame_equal(out[0][0], out[1][0])
    pd.testing.assert_frame_equal(out[0][1], out[1][1])


def test_checkpoint_power_swing_visible():
    pool = PoolSpec("p", 0, (0,), (2048,), 8)
    job = TrainingJobSpec("big", "p", 16384, 3600.0, checkpoint_interval_s=600.0, checkpoint_write_s=60.0)
    _, led, _, _ = run([pool], [job])
    _, compute = led.series(Phase.TRAIN_COMPUTE)
    # the whole job drops out of compute at every checkpoint: swings of 16,384 GPUs (~10 MW of IT power)
    assert compute.max() == 16384 and np.sum(compute == 0) >= 6


def test_bad_specs():
    with pytest.raises(ValueError, match="n_gpus"):
        TrainingJobSpec("a", "p", 0, 1.0)
    with pytest.raises(ValueError, match="work_s"):
        TrainingJobSpec("a", "p", 1, math.inf)
    with pytest.raises(ValueError, match="spare_nodes"):
        PoolSpec("p", 0, (0,), (2,), spare_nodes=3)
    with pytest.raises(ValueError, match="policy"):
        SchedulerConfig(policy="sjf")  # type: ignore[arg-type]
    env = simpy.Environment()
    with pytest.raises(ValueError, match="unknown pool"):
        TrainingEngine(
            env, [POOL], [TrainingJobSpec("a", "zz", 1, 1.0)], FakeLedger(), np.random.default_rng()
        )
    with pytest.raises(ValueError, match="twice"):
        TrainingEngine(
            env, [POOL], [TrainingJobSpec("a", "p", 1, 1.0)] * 2, FakeLedger(), np.random.default_rng()
        )


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


def test_preemption_inside_a_checkpoint_loses_the_segment():
    # preempted at 130 s, inside the first write (100-150 s): the checkpoint never completed, so 100 s of
    # work are lost and the job restarts from zero; nothing else runs, so it restarts at once
    job = TrainingJobSpec(
        "a", "p", 8, 300.0, checkpoint_interval_s=100.0, checkpoint_write_s=50.0, preemptible=True
    )

    def setup(env, eng):
        def ctl():
            yield env.timeout(130)
            eng.preempt(0, cause="test")

        env.process(ctl())

    _, led, jt, ev = run([POOL], [job], setup=setup)
    r = jt.iloc[0]
    assert_allclose(r.lost_work_gpu_hours, 8 * 100 / 3600)
    assert r.n_preemptions == 1 and r.state == "finished"
    assert_allclose(r.end_s, 130 + 300 + 2 * 50)
    assert_allclose(r.checkpoint_gpu_hours, 8 * (30 + 100) / 3600)
    assert list(ev.loc[ev.kind == "checkpoint", "time_s"]) == [280.0, 430.0]
    assert led.total(Phase.TRAIN_STALL) == 0 and led.total(Phase.TRAIN_COMPUTE) == 0


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


def test_jobs_table_without_jobs_has_the_columns():
    """An engine without jobs reports an empty jobs table with the same columns as one with jobs."""
    _, _, empty, _ = run([POOL], [], until=100.0)
    _, _, one, _ = run([POOL], [TrainingJobSpec("a", "p", n_gpus=8, work_s=10.0)], until=100.0)
    assert len(empty) == 0 and list(empty.columns) == list(one.columns)


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


def test_power_loss_interrupts_running_jobs_and_restarts_them_when_power_returns():
    a = TrainingJobSpec(
        "a", "p", n_gpus=24, work_s=10_000.0, checkpoint_interval_s=3000.0, checkpoint_write_s=50.0
    )
    b = TrainingJobSpec("b", "p", n_gpus=16, work_s=1_000.0, submit_s=4_500.0, checkpoint_write_s=10.0)

    def setup(env, eng):
        for t_s, powered in ((4_000.0, False), (6_000.0, True)):
            ev = env.timeout(t_s)
            ev.callbacks.append(lambda _e, p=powered: eng.set_power(0, p))

    _eng, led, jt, ev = run([POOL], [a, b], setup=setup)
    ra, rb = jt.set_index("job").loc["a"], jt.set_index("job").loc["b"]
    # a: checkpoint done at 3,050 s (3,000 s of work); at 4,000 s it had 950 s of work since: lost
    assert ra.n_interruptions_power == 1 and ra.n_interruptions == 1
    assert_allclose(ra.lost_work_gpu_hours, 950.0 * 24 / 3600)
    loss = ev[(ev["kind"] == "power_loss") & (ev["job"] == "a")]
    assert_allclose(loss["time_s"], [4_000.0])
    assert_allclose(loss["lost_gpu_hours"], [950.0 * 24 / 3600])
    # nothing runs or starts while dark; both start when power returns; a resumes from its checkpoint
    starts = ev[ev["kind"] == "start"].groupby("job")["time_s"].apply(list)
    assert starts["a"] == [0.0, 6_000.0] and starts["b"] == [6_000.0]
    assert_allclose(ra.end_s, 6_000.0 + 7_000.0 + 2 * 50.0)  # checkpoints at 6,000 and 9,000 s of work
    assert_allclose(rb.end_s, 7_000.0)
    assert_allclose(ra.queue_wait_s, 2_000.0)
    assert_allclose(rb.queue_wait_s, 1_500.0)
    kinds = ("useful", "lost_work", "checkpoint", "restart", "throttled", "paused")
    assert_allclose(sum(ra[f"{k}_gpu_hours"] for k in kinds), ra.gpu_hours, rtol=1e-12)
    # the ledger has no activity in the dark: compute GPU-seconds = a's work done (incl. lost) + b's
    assert_allclose(led.integral(Phase.TRAIN_COMPUTE), 24 * (4_000 - 50 + 7_000) + 16 * 1_000)
    assert set(ev.loc[ev["job"] == "", "kind"]) >= {"power_lost", "power_restored"}


def _spot_config(rate_per_gpu_h, delay_s=900.0, restart_s=200.0, **spot_kw):
    none = FailureModel(
        names=(),
        groups=(),
        rate_per_gpu_h=np.zeros(0),
        needs_repair=np.zeros(0, dtype=bool),
        mttr_s=np.zeros(0),
        restart_s=restart_s,
    )
    return SchedulerConfig(failures=none.with_spot(rate_per_gpu_h, replacement_delay_s=delay_s, **spot_kw))


def test_spot_reclaim_loses_work_since_checkpoint_and_waits_for_the_new_node():
    # the job fills the pool (no spare, no free node): each reclaim stalls it for the replacement delay plus
    # the restart, the new node joins after the delay, nothing goes to repair
    pool = PoolSpec("p", 0, (0,), (4,), 8)
    job = TrainingJobSpec("a", "p", 32, 3e6, checkpoint_interval_s=2000.0, checkpoint_write_s=20.0)
    seen = {"repair": 0, "replacing": 0}

    def setup(env, eng):
        def probe():
            while True:
                yield env.timeout(97.0)
                nodes = eng.pool_nodes(0)
                seen["repair"] = max(seen["repair"], nodes["repair"])
                seen["replacing"] = max(seen["replacing"], nodes["replacing"])

        env.process(probe())

    until = 20 * 86400.0
    _, _, jt, ev = run([pool], [job], _spot_config(1 / 800.0), until=until, seed=4, setup=setup)
    r = jt.iloc[0]
    rec = ev[ev.kind == "spot_reclaim"]
    assert len(rec) > 5 and (rec.cause == "spot").all()
    assert r.n_interruptions_spot == len(rec) == r.n_interruptions
    assert not ({"failure", "node_repaired", "idle_node_down", "requeue"} & set(ev.kind))
    assert seen["repair"] == 0 and seen["replacing"] == 0  # the new node joins the job, not the pool
    assert_allclose(rec.lost_gpu_hours.sum(), r.lost_work_gpu_hours, rtol=1e-9)
    # the new node arrives after the replacement delay; the job restarts after delay + restart
    back = ev[ev.kind == "node_replaced"].time_s.to_numpy()
    assert_allclose(back[: len(rec)], rec.time_s.to_numpy()[: back.size] + 900.0, rtol=0, atol=1e-6)
    restarts = ev[(ev.kind == "restart") & (ev.cause == "spot")]
    assert_allclose(restarts.duration_s, 900.0 + 200.0, rtol=1e-12)
    # lost work = compute since the last completed checkpoint (or since compute resumed), at most one interval
    anchors = ev[ev.kind.isin(["checkpoint", "start", "restart"])]
    for t, lost in zip(rec.time_s, rec.lost_gpu_hours, strict=True):
        prev = anchors[anchors.time_s < t].iloc[-1]
        t0 = prev.time_s + (prev.duration_s if prev.kind == "restart" else 0.0)
        if prev.kind == "start":
            t0 += 200.0  # start-up stall
        hi = max(t - t0, 0.0) * 32 / 3600
        assert hi - 20.0 * 32 / 3600 - 1e-9 <= lost <= hi + 1e-9
        assert lost <= 2000.0 * 32 / 3600 + 1e-9
    parts = r.useful_gpu_hours + r.lost_work_gpu_hours + r.checkpoint_gpu_hours + r.restart_gpu_hours
    assert_allclose(parts, r.gpu_hours, rtol=1e-12)


def test_spot_reclaim_with_a_hot_spare_and_emergency_checkpoint():
    # a hot spare replaces the reclaimed node at once; the reclaimed slot comes back as a new node after the
    # delay; an emergency checkpoint within the 120-s notice saves the work (write 20 s)
    pool = PoolSpec("p", 0, (0,), (5,), 8, spare_nodes=1)
    job = TrainingJobSpec("a", "p", 32, 3e5, checkpoint_write_s=20.0)
    cfg = _spot_config(1 / 400.0, emergency_checkpoint=True, notice_s=120.0)
    eng, _, jt, ev = run([pool], [job], cfg, until=30 * 86400.0, seed=2)
    r = jt.iloc[0]
    rec = ev[ev.kind == "spot_reclaim"]
    assert len(rec) > 2 and r.state == "finished"
    assert_allclose(r.lost_work_gpu_hours, 0.0, atol=1e-12)
    assert math.isinf(eng.jobs[0].interval_s)  # reclaims lose no work: no periodic checkpoints needed
    restarts = ev[(ev.kind == "restart") & (ev.cause == "spot")]
    assert len(restarts) >= 1
    assert_allclose(restarts.duration_s, 20.0 + 200.0, rtol=1e-12)  # the write + the restart, no wait
    back = ev[(ev.kind == "node_replaced") & (ev.job_idx == -1)]
    assert len(back) >= len(restarts)
    # without the emergency checkpoint the same reclaims lose work
    cfg2 = _spot_config(1 / 400.0, emergency_checkpoint=False)
    _, _, jt2, _ = run([pool], [job], cfg2, until=30 * 86400.0, seed=2)
    assert jt2.iloc[0].lost_work_gpu_hours > 0
