"""Tests for gigawatt.engine.workloads.training.failures (failures, repair, spot reclaims, power loss)."""

from __future__ import annotations

import math

import numpy as np
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, fail_config, run

from gigawatt.engine.ledger import Phase
from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingJobSpec
from gigawatt.perf.reliability import FailureModel


def test_accounting_identity_and_failures():
    pool = PoolSpec("p", 0, (0,), (168,), 8, spare_nodes=40)
    job = TrainingJobSpec("a", "p", 1024, 30 * 86400.0, checkpoint_write_s=30.0)
    _eng, _led, jt, ev = run([pool], [job], fail_config(x=20.0), until=20 * 86400.0, seed=3)
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
    _, _, jt, ev = run([pool], [job], fail_config(x=200.0), until=5 * 86400.0, seed=1)
    assert (ev.kind == "requeue").sum() > 0
    assert jt.iloc[0].queue_wait_s > 0  # waited for a repaired node


def test_max_interruptions_fails_job():
    pool = PoolSpec("p", 0, (0,), (20,), 8, spare_nodes=4)
    job = TrainingJobSpec("a", "p", 128, 1e7, max_interruptions=2)
    eng, _, jt, _ = run([pool], [job], fail_config(x=500.0), until=10 * 86400.0, seed=2)
    assert jt.iloc[0].state == "failed"
    assert eng.counts()["failed"] == 1


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
