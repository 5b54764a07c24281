"""Tests for gigawatt.engine.workloads.training.scheduling (FIFO, EASY backfill, priority, preemption)."""

from __future__ import annotations

from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, run

from gigawatt.engine.ledger import Phase
from gigawatt.engine.workloads.training import SchedulerConfig, TrainingJobSpec


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
